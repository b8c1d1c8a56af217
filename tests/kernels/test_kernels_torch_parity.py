"""Parity of the kernels with torch 2.13's nn.RNN / nn.RNNCell (the oracle), forward and backward."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _kernels_helpers import (
    assert_close,
    load_into_torch_rnn,
    make_weights,
    rng_for,
    torch_grads_of,
)

from deeprnn.kernels import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

torch = pytest.importorskip("torch")

T_, N_, I_, H_ = 5, 3, 4, 6

GRID = list(
    itertools.product(
        [1, 2, 3],  # num_layers
        [False, True],  # bidirectional
        [True, False],  # bias
        ["tanh", "relu"],  # nonlinearity
        [np.float64, np.float32],  # dtype
        ["h0", "zero_h0"],  # initial state
        ["both", "d_out", "d_h_n", "none"],  # which upstream gradients are given
    )
)


def _ids(p):
    L, bi, bias, nl, dt, h0, grads = p
    return f"L{L}-{'bi' if bi else 'uni'}-{'bias' if bias else 'nobias'}-{nl}-{np.dtype(dt).name}-{h0}-{grads}"


def _torch_reference(x, h0, weights, nl, L, bi, bias, dtype, d_out, d_h_n, zero_h0):
    """out, h_n and all gradients of sum(out*d_out) + sum(h_n*d_h_n) from torch.nn.RNN."""
    D = 2 if bi else 1
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    rnn = torch.nn.RNN(x.shape[2], h0.shape[2], num_layers=L, nonlinearity=nl, bias=bias, bidirectional=bi, dtype=tdt)
    load_into_torch_rnn(rnn, weights, L, D)
    xt = torch.from_numpy(x).requires_grad_(True)
    ht = torch.from_numpy(h0).requires_grad_(True)
    out, h_n = rnn(xt, ht)
    if zero_h0:  # torch's own default initial state must give the same forward
        out_default, h_n_default = rnn(xt)
        torch.testing.assert_close(out_default, out, rtol=0, atol=0)
        torch.testing.assert_close(h_n_default, h_n, rtol=0, atol=0)
    loss = (out * 0).sum()
    if d_out is not None:
        loss = loss + (out * torch.from_numpy(d_out)).sum()
    if d_h_n is not None:
        loss = loss + (h_n * torch.from_numpy(d_h_n)).sum()
    loss.backward()
    return (
        out.detach().numpy(),
        h_n.detach().numpy(),
        xt.grad.numpy(),
        ht.grad.numpy(),
        torch_grads_of(rnn, L, D, bias),
    )


def _check_stack(T, N, L, bi, bias, nl, dtype, zero_h0, grads, key):
    rng = rng_for(*key)
    D = 2 if bi else 1
    weights = make_weights(rng, I_, H_, L, D, bias, dtype)
    x = rng.standard_normal((T, N, I_)).astype(dtype)
    h0 = np.zeros((L * D, N, H_), dtype) if zero_h0 else rng.standard_normal((L * D, N, H_)).astype(dtype)
    d_out = rng.standard_normal((T, N, D * H_)).astype(dtype) if grads in ("both", "d_out") else None
    d_h_n = rng.standard_normal((L * D, N, H_)).astype(dtype) if grads in ("both", "d_h_n") else None

    out, h_n, cache = rnn_forward(x, h0, weights, nl, L, bi)
    dx, dh0, dweights = rnn_backward(d_out, d_h_n, cache)
    ref_out, ref_hn, ref_dx, ref_dh0, ref_dw = _torch_reference(
        x, h0, weights, nl, L, bi, bias, dtype, d_out, d_h_n, zero_h0
    )

    assert_close(out, ref_out, dtype, "out")
    assert_close(h_n, ref_hn, dtype, "h_n")
    assert_close(dx, ref_dx, dtype, "dx")
    assert_close(dh0, ref_dh0, dtype, "dh0")
    assert len(dweights) == L * D
    names = ("dw_ih", "dw_hh", "db_ih", "db_hh")
    for k, (mine, ref) in enumerate(zip(dweights, ref_dw)):
        assert len(mine) == 4
        for name, a, b in zip(names, mine, ref):
            if b is None:
                assert a is None, f"{name}[{k}] should be None without bias"
            else:
                assert_close(a, b, dtype, f"{name}[{k}]")


@pytest.mark.parametrize("params", GRID, ids=[_ids(p) for p in GRID])
def test_stack_matches_torch(params):
    L, bi, bias, nl, dtype, h0_kind, grads = params
    _check_stack(T_, N_, L, bi, bias, nl, dtype, h0_kind == "zero_h0", grads, params)


@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("T,N", [(1, 2), (1, 1), (7, 1), (2, 5)])
def test_stack_matches_torch_other_lengths(T, N, dtype, nl, bi):
    _check_stack(T, N, 2, bi, True, nl, dtype, False, "both", ("len", T, N, dtype, nl, bi))


def _torch_dropout_reference(x, h0, weights, masks, nl, L, bi, dtype, d_out, d_h_n):
    """The masked stack built by hand from single-layer torch RNNs with our explicit masks."""
    D = 2 if bi else 1
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    H = h0.shape[2]
    xt = torch.from_numpy(x).requires_grad_(True)
    ht = torch.from_numpy(h0).requires_grad_(True)
    layer_in = xt
    h_ns, layers = [], []
    for layer in range(L):
        rnn = torch.nn.RNN(layer_in.shape[2], H, num_layers=1, nonlinearity=nl, bidirectional=bi, dtype=tdt)
        load_into_torch_rnn(rnn, weights[layer * D : (layer + 1) * D], 1, D)
        out, h_n = rnn(layer_in, ht[layer * D : (layer + 1) * D])
        h_ns.append(h_n)
        layers.append(rnn)
        layer_in = out * torch.from_numpy(masks[layer]) if layer < L - 1 else out
    h_n = torch.cat(h_ns, dim=0)
    loss = (out * torch.from_numpy(d_out)).sum() + (h_n * torch.from_numpy(d_h_n)).sum()
    loss.backward()
    dweights = [g for rnn in layers for g in torch_grads_of(rnn, 1, D, True)]
    return out.detach().numpy(), h_n.detach().numpy(), xt.grad.numpy(), ht.grad.numpy(), dweights


@pytest.mark.parametrize("L", [2, 3])
@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stack_with_dropout_masks_matches_torch(L, bi, nl, dtype):
    rng = rng_for("dropout", L, bi, nl, dtype)
    D = 2 if bi else 1
    T, N, p = 6, 3, 0.4
    weights = make_weights(rng, I_, H_, L, D, True, dtype)
    x = rng.standard_normal((T, N, I_)).astype(dtype)
    h0 = rng.standard_normal((L * D, N, H_)).astype(dtype)
    masks = [((rng.random((T, N, D * H_)) >= p) / (1 - p)).astype(dtype) for _ in range(L - 1)]
    assert all(0 < (m == 0).mean() < 1 for m in masks)  # the masks really drop something
    d_out = rng.standard_normal((T, N, D * H_)).astype(dtype)
    d_h_n = rng.standard_normal((L * D, N, H_)).astype(dtype)

    out, h_n, cache = rnn_forward(x, h0, weights, nl, L, bi, dropout_masks=masks)
    dx, dh0, dweights = rnn_backward(d_out, d_h_n, cache)
    ref = _torch_dropout_reference(x, h0, weights, masks, nl, L, bi, dtype, d_out, d_h_n)
    for name, a, b in zip(("out", "h_n", "dx", "dh0"), (out, h_n, dx, dh0), ref[:4]):
        assert_close(a, b, dtype, name)
    for k, (mine, theirs) in enumerate(zip(dweights, ref[4])):
        for name, a, b in zip(("dw_ih", "dw_hh", "db_ih", "db_hh"), mine, theirs):
            assert_close(a, b, dtype, f"{name}[{k}]")

    # The lean path applies the same masks.
    out2, h_n2, cache2 = rnn_forward(x, h0, weights, nl, L, bi, dropout_masks=masks, need_cache=False)
    assert cache2 is None
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(h_n2, h_n)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("N", [4, 1, 0])
def test_cell_matches_torch(N, dtype, nl, bias):
    rng = rng_for("cell", N, dtype, nl, bias)
    ((w_ih, w_hh, b_ih, b_hh),) = make_weights(rng, I_, H_, 1, 1, bias, dtype)
    x = rng.standard_normal((N, I_)).astype(dtype)
    h = rng.standard_normal((N, H_)).astype(dtype)
    g = rng.standard_normal((N, H_)).astype(dtype)

    h_new, cache = rnn_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh, nl)
    dx, dh, dw_ih, dw_hh, db_ih, db_hh = rnn_cell_backward(g, cache)

    tdt = torch.float64 if dtype == np.float64 else torch.float32
    cell = torch.nn.RNNCell(I_, H_, bias=bias, nonlinearity=nl, dtype=tdt)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.from_numpy(w_ih))
        cell.weight_hh.copy_(torch.from_numpy(w_hh))
        if bias:
            cell.bias_ih.copy_(torch.from_numpy(b_ih))
            cell.bias_hh.copy_(torch.from_numpy(b_hh))
    xt = torch.from_numpy(x).requires_grad_(True)
    ht = torch.from_numpy(h).requires_grad_(True)
    ref = cell(xt, ht)
    (ref * torch.from_numpy(g)).sum().backward()

    assert_close(h_new, ref.detach().numpy(), dtype, "h_new")
    assert_close(dx, xt.grad.numpy(), dtype, "dx")
    assert_close(dh, ht.grad.numpy(), dtype, "dh")
    assert_close(dw_ih, cell.weight_ih.grad.numpy(), dtype, "dw_ih")
    assert_close(dw_hh, cell.weight_hh.grad.numpy(), dtype, "dw_hh")
    if bias:
        assert_close(db_ih, cell.bias_ih.grad.numpy(), dtype, "db_ih")
        assert_close(db_hh, cell.bias_hh.grad.numpy(), dtype, "db_hh")
        assert db_ih is not db_hh  # two separate arrays: a caller may update one in place
    else:
        assert db_ih is None and db_hh is None
