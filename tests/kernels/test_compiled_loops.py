"""The compiled time loops (kernels/compiled) against torch 2.13's nn.LSTM / nn.GRU and the NumPy loops.

One layer-direction at a time: the input projection and every weight gradient are done here
in NumPy around the compiled loop, exactly as the stacks do, so that each loop is checked on
its own, forward and gradients, through tests/oracle.py.  The reverse direction is the
forward direction on the time-flipped sequence.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _kernels_helpers import assert_close, rng_for

pytest.importorskip("numba")
torch = pytest.importorskip("torch")

from deeprnn.kernels import rnn_layer  # noqa: E402
from deeprnn.kernels._activation import derivative_from_output  # noqa: E402
from deeprnn.kernels.compiled import gru as cgru  # noqa: E402
from deeprnn.kernels.compiled import lstm as clstm  # noqa: E402
from deeprnn.kernels.compiled import rnn as crnn  # noqa: E402

# N = 6 runs the 4-row block and the row remainder of the product; H = 7 the 4-wide k block and its remainder.
SHAPES = [(5, 1, 3, 7), (4, 6, 5, 9), (9, 2, 4, 16)]  # (T, N, I, H)
DTYPES = [np.float64, np.float32]
GIVEN = ["both", "d_out", "last", "none"]  # which upstream gradients are given


def _problem(kind, T, N, I, H, dtype, key):
    rng = rng_for(kind, T, N, I, H, np.dtype(dtype).name, key)
    G = {"lstm": 4, "gru": 3}[kind]
    k = 1.0 / np.sqrt(H)
    w_ih, w_hh = (rng.uniform(-k, k, s).astype(dtype) for s in [(G * H, I), (G * H, H)])
    b_ih, b_hh = (rng.uniform(-k, k, G * H).astype(dtype) for _ in range(2))
    x = rng.standard_normal((T, N, I)).astype(dtype)
    h0, c0 = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    d_out = rng.standard_normal((T, N, H)).astype(dtype)
    d_h, d_c = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    return x, (w_ih, w_hh, b_ih, b_hh), h0, c0, d_out, d_h, d_c


def _torch(kind, x, weights, h0, c0, d_out, d_h, d_c):
    """torch's output, final states and every gradient of sum(out*d_out) + sum(h_n*d_h) (+ sum(c_n*d_c))."""
    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    H = h0.shape[1]
    mod = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(x.shape[2], H, dtype=dtype)
    with torch.no_grad():
        for name, w in zip(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], weights):
            getattr(mod, name).copy_(torch.from_numpy(w))
    xt = torch.from_numpy(x).requires_grad_(True)
    ht = torch.from_numpy(h0[None]).requires_grad_(True)
    ct = torch.from_numpy(c0[None]).requires_grad_(True)
    if kind == "lstm":
        out, (h_n, c_n) = mod(xt, (ht, ct))
    else:
        out, h_n = mod(xt, ht)
    loss = (out * 0).sum()
    if d_out is not None:
        loss = loss + (out * torch.from_numpy(d_out)).sum()
    if d_h is not None:
        loss = loss + (h_n[0] * torch.from_numpy(d_h)).sum()
    if kind == "lstm" and d_c is not None:
        loss = loss + (c_n[0] * torch.from_numpy(d_c)).sum()
    loss.backward()
    res = {"out": out, "h_n": h_n[0], "dx": xt.grad, "dh0": ht.grad[0]}
    if kind == "lstm":
        res.update(c_n=c_n[0], dc0=ct.grad[0])
    for name in ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]:
        res[name] = getattr(mod, name).grad
    return res


def _ours(kind, x, weights, h0, c0, d_out, d_h, d_c, reverse):
    """The same quantities from the compiled loop plus NumPy's whole-sequence products."""
    w_ih, w_hh, b_ih, b_hh = weights
    T, N, _ = x.shape
    H = h0.shape[1]
    X = x.reshape(T * N, -1)
    out = np.empty((T, N, H), x.dtype)
    side = np.empty((T, N, H), x.dtype)  # c_t (LSTM) or Gh_n (GRU)
    dh0 = np.empty((N, H), x.dtype)
    res = {}
    if kind == "lstm":
        a = (X @ w_ih.T + (b_ih + b_hh)).reshape(T, N, -1)  # (T, N, 4H)
        c_last = np.empty((N, H), x.dtype)
        clstm.lstm_forward_loop(a, h0, c0, w_hh, reverse, out, side, c_last)
        dc0 = np.empty((N, H), x.dtype)
        clstm.lstm_backward_loop(a, side, c0, d_out, d_h, d_c, w_hh, reverse, a, dh0, dc0)
        d_a = d_gh = a  # (T, N, 4H), dA in place of the gates
        res.update(c_n=c_last, dc0=dc0)
    else:
        a = (X @ w_ih.T + b_ih).reshape(T, N, -1)  # (T, N, 3H)
        cgru.gru_forward_loop(a, h0, w_hh, b_hh, reverse, out, side)
        d_gh = np.empty_like(a)
        cgru.gru_backward_loop(a, side, out, h0, d_out, d_h, w_hh, reverse, a, d_gh, dh0)
        d_a = a
    h_prev = np.concatenate([out[1:], h0[None]]) if reverse else np.concatenate([h0[None], out[:-1]])
    G = d_a.shape[2]
    res.update(
        out=out,
        h_n=out[0] if reverse else out[-1],
        dx=(d_a.reshape(T * N, G) @ w_ih).reshape(x.shape),
        dh0=dh0,
        weight_ih_l0=d_a.reshape(T * N, G).T @ X,
        weight_hh_l0=d_gh.reshape(T * N, G).T @ h_prev.reshape(T * N, H),
        bias_ih_l0=d_a.sum(axis=(0, 1)),
        bias_hh_l0=d_gh.sum(axis=(0, 1)),
    )
    return res


@pytest.mark.parametrize(
    "kind,shape,dtype,reverse,given",
    list(itertools.product(["lstm", "gru"], SHAPES, DTYPES, [False, True], GIVEN)),
    ids=lambda p: str(p.__name__ if isinstance(p, type) else p),
)
def test_gated_loops_match_torch(kind, shape, dtype, reverse, given):
    T, N, I, H = shape
    x, weights, h0, c0, d_out, d_h, d_c = _problem(kind, T, N, I, H, dtype, (reverse, given))
    d_out = d_out if given in ("both", "d_out") else None
    d_h = d_h if given in ("both", "last") else None
    d_c = d_c if given in ("both", "last") else None
    flip = (lambda a: None if a is None else np.ascontiguousarray(a[::-1])) if reverse else (lambda a: a)
    ref = _torch(kind, flip(x), weights, h0, c0, flip(d_out), d_h, d_c)
    ours = _ours(kind, x, weights, h0, c0, d_out, d_h, d_c, reverse)
    for name, value in ref.items():
        if name in ("out", "dx"):
            value = flip(value.detach().numpy())
        assert_close(ours[name], value, dtype, f"{kind} {name}")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("shape", [(6, 1, 7), (5, 6, 9), (3, 5, 32)])
def test_rnn_loops_match_numpy_loops(nonlinearity, dtype, reverse, shape):
    """The compiled Elman loops do what rnn_layer's NumPy loops do (which test_kernels_* hold to torch)."""
    T, N, H = shape
    rng = rng_for("rnn", shape, nonlinearity, np.dtype(dtype).name, reverse)
    w_hh = rng.uniform(-0.5, 0.5, (H, H)).astype(dtype)
    a = rng.standard_normal((T, N, H)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    d_seq = rng.standard_normal((T, N, H)).astype(dtype)
    d_last = rng.standard_normal((N, H)).astype(dtype)
    seq_np, seq_c = a.copy(), a.copy()
    rnn_layer.recur_forward(seq_np, h0, w_hh, nonlinearity, reverse, np.empty((N, H), dtype))
    crnn.recur_forward(seq_c, h0, w_hh, nonlinearity, reverse, None)
    assert_close(seq_c, seq_np, dtype, "h_t")
    d_np = derivative_from_output(seq_np, np.empty_like(seq_np), nonlinearity)
    d_c = d_np.copy()
    carry_np, carry_c = np.empty((N, H), dtype), np.empty((N, H), dtype)
    rnn_layer.recur_backward(d_np, d_seq, d_last, w_hh, reverse, carry_np)
    crnn.recur_backward(d_c, d_seq, d_last, w_hh, reverse, carry_c)
    assert_close(d_c, d_np, dtype, "dA")
    assert_close(carry_c, carry_np, dtype, "dh0")
