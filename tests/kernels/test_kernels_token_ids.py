"""Token ids into the stack kernel: the same numbers as torch's nn.RNN fed one_hot(ids).

The kernel gathers columns of W_ih instead of multiplying by a one-hot matrix, and scatters
dA into the columns of dW_ih (a small dense product over the distinct tokens, or np.add.at
above 512 of them); both must equal torch's dense one-hot product and its gradients.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _kernels_helpers import load_into_torch_rnn, make_weights, rng_for, torch_grads_of

from deeprnn.kernels import rnn_backward, rnn_forward
from deeprnn.kernels.rnn_input import _DENSE_SCATTER_MAX_TOKENS
from oracle import assert_close

torch = pytest.importorskip("torch")

H_ = 5


def _torch_onehot(ids, V, h0, weights, nl, L, bi, bias, dtype, d_out, d_h_n):
    D = 2 if bi else 1
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    rnn = torch.nn.RNN(V, H_, num_layers=L, nonlinearity=nl, bias=bias, bidirectional=bi, dtype=tdt)
    load_into_torch_rnn(rnn, weights, L, D)
    x = torch.nn.functional.one_hot(torch.from_numpy(ids), V).to(tdt)
    ht = torch.from_numpy(h0).requires_grad_(True)
    out, h_n = rnn(x, ht)
    ((out * torch.from_numpy(d_out)).sum() + (h_n * torch.from_numpy(d_h_n)).sum()).backward()
    return out.detach().numpy(), h_n.detach().numpy(), ht.grad.numpy(), torch_grads_of(rnn, L, D, bias)


CASES = list(
    itertools.product(
        [1, 2],  # num_layers
        [False, True],  # bidirectional
        [True, False],  # bias
        ["tanh", "relu"],
        [np.float64, np.float32],
        [(6, 4, 7), (40, 30, 700)],  # (T, N, V): few tokens -> dense scatter; > 512 distinct -> np.add.at
    )
)


@pytest.mark.parametrize("L,bi,bias,nl,dtype,tnv", CASES)
def test_token_ids_match_torch_one_hot(L, bi, bias, nl, dtype, tnv):
    T, N, V = tnv
    rng = rng_for("ids", L, bi, bias, nl, np.dtype(dtype).name, tnv)
    D = 2 if bi else 1
    weights = make_weights(rng, V, H_, L, D, bias, dtype)
    ids = rng.integers(0, V, (T, N))
    if V > _DENSE_SCATTER_MAX_TOKENS:
        assert len(np.unique(ids)) > _DENSE_SCATTER_MAX_TOKENS  # the np.add.at branch is the one tested
    h0 = rng.standard_normal((L * D, N, H_)).astype(dtype)
    d_out = rng.standard_normal((T, N, D * H_)).astype(dtype)
    d_h_n = rng.standard_normal((L * D, N, H_)).astype(dtype)

    out, h_n, cache = rnn_forward(ids, h0, weights, nl, L, bi)
    dx, dh0, dweights = rnn_backward(d_out, d_h_n, cache)
    ref_out, ref_hn, ref_dh0, ref_dw = _torch_onehot(ids, V, h0, weights, nl, L, bi, bias, dtype, d_out, d_h_n)

    assert dx is None  # no gradient for integer ids
    assert_close(out, ref_out, dtype, "out")
    assert_close(h_n, ref_hn, dtype, "h_n")
    assert_close(dh0, ref_dh0, dtype, "dh0")
    for k, (ours, ref) in enumerate(zip(dweights, ref_dw)):
        for name, a, b in zip(("dw_ih", "dw_hh", "db_ih", "db_hh"), ours, ref):
            assert (a is None) == (b is None), f"{name}[{k}]"
            if a is not None:
                assert_close(a, b, dtype, f"{name}[{k}]")


@pytest.mark.parametrize("bi", [False, True])
def test_h0_none_is_zeros(bi):
    """h0=None must be exactly the zero initial state, forward and backward, features and ids."""
    rng = rng_for("h0none", bi)
    D = 2 if bi else 1
    weights = make_weights(rng, 3, H_, 2, D, True, np.float64)
    for x in (rng.standard_normal((4, 2, 3)), rng.integers(0, 3, (4, 2))):
        zeros = np.zeros((2 * D, 2, H_))
        a = rnn_forward(x, None, weights, "tanh", 2, bi)
        b = rnn_forward(x, zeros, weights, "tanh", 2, bi)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        d_out = rng.standard_normal(a[0].shape)
        ga, gb = rnn_backward(d_out, None, a[2]), rnn_backward(d_out, None, b[2])
        np.testing.assert_array_equal(ga[1], gb[1])
        for wa, wb in zip(ga[2], gb[2]):
            for u, v in zip(wa, wb):
                np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("bad", [-1, 7])
def test_out_of_range_ids_raise(bad):
    rng = rng_for("range", bad)
    weights = make_weights(rng, 7, H_, 1, 1, True, np.float32)
    ids = np.array([[0, 1], [bad, 2]])
    with pytest.raises(IndexError, match=r"token ids must be in \[0, 7\)"):
        rnn_forward(ids, None, weights, "tanh", 1, False)
