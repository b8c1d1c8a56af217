"""nn.RNN and nn.RNNCell against torch 2.13: outputs and every gradient, all configurations.

Weights are copied from torch with load_state_dict. The loss weights output and h_n with
random coefficients so that every gradient path is exercised.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import deeprnn
from oracle import assert_close, torch_dtype

CONFIGS = list(
    itertools.product(
        [1, 2, 3],  # num_layers
        [False, True],  # bidirectional
        [False, True],  # batch_first
        [True, False],  # bias
        ["tanh", "relu"],  # nonlinearity
        [True, False],  # batched
        [True, False],  # h0 given
    )
)


def _ids(c: tuple) -> str:
    L, bi, bf, bias, act, batched, h0 = c
    return (
        f"L{L}-{'bi' if bi else 'uni'}-{'bf' if bf else 'tm'}-{'bias' if bias else 'nobias'}-{act}-"
        f"{'batched' if batched else 'unbatched'}-{'h0' if h0 else 'noh0'}"
    )


def run_pair(cfg: tuple, dtype: np.dtype, seed: int, T: int = 5, N: int = 3, I: int = 4, H: int = 6) -> None:
    L, bi, bf, bias, act, batched, give_h0 = cfg
    rng = np.random.default_rng(seed)
    tdt = torch_dtype(dtype)
    ref = torch.nn.RNN(I, H, L, nonlinearity=act, bias=bias, batch_first=bf, bidirectional=bi, dtype=tdt)
    ours = deeprnn.nn.RNN(I, H, L, nonlinearity=act, bias=bias, batch_first=bf, bidirectional=bi, dtype=dtype)
    ours.load_state_dict(ref.state_dict())
    D = 2 if bi else 1
    x_shape = ((N, T, I) if bf else (T, N, I)) if batched else (T, I)
    h_shape = (L * D, N, H) if batched else (L * D, H)
    x = rng.standard_normal(x_shape).astype(dtype)
    h0 = rng.standard_normal(h_shape).astype(dtype) * 0.5
    out_shape = ((N, T, D * H) if bf else (T, N, D * H)) if batched else (T, D * H)
    r_out = rng.standard_normal(out_shape).astype(dtype)
    r_hn = rng.standard_normal(h_shape).astype(dtype)

    tx = torch.tensor(x, requires_grad=True)
    th = torch.tensor(h0, requires_grad=True) if give_h0 else None
    t_out, t_hn = ref(tx, th)
    (t_out * torch.tensor(r_out)).sum().add((t_hn * torch.tensor(r_hn)).sum()).backward()

    dx = deeprnn.tensor(x, requires_grad=True)
    dh = deeprnn.tensor(h0, requires_grad=True) if give_h0 else None
    d_out, d_hn = ours(dx, dh)
    ((d_out * deeprnn.tensor(r_out)).sum() + (d_hn * deeprnn.tensor(r_hn)).sum()).backward()

    assert_close(d_out, t_out, dtype, "output")
    assert_close(d_hn, t_hn, dtype, "h_n")
    assert_close(dx.grad, tx.grad, dtype, "d input")
    if give_h0:
        assert_close(dh.grad, th.grad, dtype, "d h0")
    t_params = dict(ref.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(t_params)
    for name, p in ours.named_parameters():
        assert_close(p.grad, t_params[name].grad, dtype, f"d {name}")


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_rnn_matches_torch_float64(cfg: tuple) -> None:
    run_pair(cfg, np.dtype(np.float64), seed=hash(cfg) % 2**32)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_rnn_matches_torch_float32(cfg: tuple) -> None:
    run_pair(cfg, np.dtype(np.float32), seed=hash(cfg) % 2**32 + 1)


def test_rnn_larger_sizes_float32() -> None:
    """A longer sequence with wider layers, where float32 accumulation error has room to grow."""
    run_pair((2, True, True, True, "tanh", True, True), np.dtype(np.float32), seed=7, T=40, N=8, I=17, H=33)


@pytest.mark.parametrize("act", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rnn_cell_matches_torch(act: str, bias: bool, batched: bool, dtype: type) -> None:
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(3)
    ref = torch.nn.RNNCell(4, 6, bias=bias, nonlinearity=act, dtype=torch_dtype(dtype))
    ours = deeprnn.nn.RNNCell(4, 6, bias=bias, nonlinearity=act, dtype=dtype)
    ours.load_state_dict(ref.state_dict())
    x = rng.standard_normal((3, 4) if batched else (4,)).astype(dtype)
    h = rng.standard_normal((3, 6) if batched else (6,)).astype(dtype)
    r = rng.standard_normal(h.shape).astype(dtype)
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    dx, dh = deeprnn.tensor(x, requires_grad=True), deeprnn.tensor(h, requires_grad=True)
    # Two steps, so that the second step's gradient flows back through the first.
    t1 = ref(tx, th)
    (ref(tx, t1) * torch.tensor(r)).sum().backward()
    d1 = ours(dx, dh)
    (ours(dx, d1) * deeprnn.tensor(r)).sum().backward()
    assert_close(d1, t1, dtype, "h1")
    assert_close(dx.grad, tx.grad, dtype, "d x")
    assert_close(dh.grad, th.grad, dtype, "d h")
    tp = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, tp[name].grad, dtype, f"d {name}")


def test_rnn_cell_default_hidden_is_zeros() -> None:
    ref = torch.nn.RNNCell(3, 2, dtype=torch.float64)
    ours = deeprnn.nn.RNNCell(3, 2, dtype=np.float64)
    ours.load_state_dict(ref.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 3))
    assert_close(ours(deeprnn.tensor(x)), ref(torch.tensor(x)), np.float64, "h'")


def test_empty_batch_returns_empty_outputs() -> None:
    ref = torch.nn.RNN(3, 4, 2, bidirectional=True)
    ours = deeprnn.nn.RNN(3, 4, 2, bidirectional=True)
    ours.load_state_dict(ref.state_dict())
    x = deeprnn.zeros(5, 0, 3, requires_grad=True)
    out, hn = ours(x)
    t_out, t_hn = ref(torch.zeros(5, 0, 3))
    assert tuple(out.shape) == tuple(t_out.shape) == (5, 0, 8)
    assert tuple(hn.shape) == tuple(t_hn.shape) == (4, 0, 4)
    out.sum().backward()
    assert tuple(x.grad.shape) == (5, 0, 3)
    assert all(p.grad is not None and not p.grad.detach().numpy().any() for p in ours.parameters())


def test_dropout_between_layers_only_in_training() -> None:
    """Dropout changes the output in training mode, is the identity in eval mode, and eval matches torch."""
    ref = torch.nn.RNN(3, 8, 3, dropout=0.5, dtype=torch.float64)
    ours = deeprnn.nn.RNN(3, 8, 3, dropout=0.5, dtype=np.float64, generator=deeprnn.Generator(1))
    ours.load_state_dict(ref.state_dict())
    x = np.random.default_rng(1).standard_normal((6, 2, 3))
    ours.eval()
    ref.eval()
    assert_close(ours(deeprnn.tensor(x))[0], ref(torch.tensor(x))[0], np.float64, "eval output")
    ours.train()
    a = ours(deeprnn.tensor(x))[0].detach().numpy()
    b = ours(deeprnn.tensor(x))[0].detach().numpy()
    assert not np.allclose(a, b)  # fresh masks each call
    ours.eval()
    c = ours(deeprnn.tensor(x))[0].detach().numpy()
    assert not np.allclose(a, c)


def test_dropout_masks_equal_explicit_torch_composition() -> None:
    """Training-mode dropout equals torch's layer-by-layer computation with the same masks."""
    L, H = 3, 5
    ours = deeprnn.nn.RNN(4, H, L, dropout=0.3, dtype=np.float64, generator=deeprnn.Generator(5))
    x = np.random.default_rng(2).standard_normal((7, 2, 4))
    state = ours.generator.get_state()
    masks = ours._dropout_masks(7, 2, np.dtype(np.float64))
    ours.generator.set_state(state)  # the forward pass draws the same masks again
    out, hn = ours(deeprnn.tensor(x))
    layers = [torch.nn.RNN(4 if k == 0 else H, H, 1, dtype=torch.float64) for k in range(L)]
    sd = ours.state_dict()
    inp = torch.tensor(x)
    hns = []
    for k, layer in enumerate(layers):
        layer.load_state_dict(
            {
                f"{n}_l0": torch.tensor(sd[f"{n}_l{k}"].detach().numpy())
                for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
        )
        inp, h = layer(inp)
        hns.append(h)
        if k < L - 1:
            inp = inp * torch.tensor(masks[k])
    assert_close(out, inp, np.float64, "output with dropout")
    assert_close(hn, torch.cat(hns), np.float64, "h_n with dropout")


def test_parameter_names_shapes_and_init_range() -> None:
    ours = deeprnn.nn.RNN(3, 16, 2, bidirectional=True)
    ref = torch.nn.RNN(3, 16, 2, bidirectional=True)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in ref.named_parameters()
    ]
    bound = 1 / np.sqrt(16)
    for _, p in ours.named_parameters():
        assert p.dtype == np.float32 and p.requires_grad
        assert np.abs(p.detach().numpy()).max() <= bound
    allw = np.concatenate([p.detach().numpy().ravel() for p in ours.parameters()])
    assert abs(allw.mean()) < 0.02 and abs(allw.std() - bound / np.sqrt(3)) < 0.01  # U(-b, b)


def test_generator_makes_init_reproducible() -> None:
    a = deeprnn.nn.RNN(3, 4, generator=deeprnn.Generator(42))
    b = deeprnn.nn.RNN(3, 4, generator=deeprnn.Generator(42))
    c = deeprnn.nn.RNN(3, 4, generator=deeprnn.Generator(43))
    assert all(np.array_equal(p.detach().numpy(), q.detach().numpy()) for p, q in zip(a.parameters(), b.parameters()))
    assert not np.array_equal(a.weight_ih_l0.detach().numpy(), c.weight_ih_l0.detach().numpy())


def test_no_grad_forward_matches_and_records_nothing() -> None:
    rnn = deeprnn.nn.RNN(3, 4, 2)
    x = deeprnn.randn(5, 2, 3)
    out1, hn1 = rnn(x)
    with deeprnn.no_grad():
        out2, hn2 = rnn(x)
    assert out2.grad_fn is None and not out2.requires_grad
    np.testing.assert_array_equal(out1.detach().numpy(), out2.detach().numpy())
    np.testing.assert_array_equal(hn1.detach().numpy(), hn2.detach().numpy())


def test_one_graph_node_per_rnn_call() -> None:
    rnn = deeprnn.nn.RNN(3, 4, 3, bidirectional=True, batch_first=True)
    out, hn = rnn(deeprnn.randn(2, 5, 3))
    assert out.grad_fn is hn.grad_fn
    assert all(t is None or t.grad_fn is None for t in out.grad_fn.inputs)


def test_repr_matches_torch() -> None:
    assert repr(deeprnn.nn.RNN(3, 4, 2)) == repr(torch.nn.RNN(3, 4, 2))
    kw = dict(nonlinearity="relu", bias=False, batch_first=True, bidirectional=True)
    assert repr(deeprnn.nn.RNN(3, 4, 2, **kw)) == repr(torch.nn.RNN(3, 4, 2, **kw))
    assert repr(deeprnn.nn.RNNCell(3, 4, bias=False)) == repr(torch.nn.RNNCell(3, 4, bias=False))
