"""Edge cases of the kernels: empty batch, one step, the lean path, dtypes, layouts, no aliasing."""

from __future__ import annotations

import numpy as np
import pytest
from _kernels_helpers import make_weights, rng_for

from deeprnn.kernels import rnn as rnn_module
from deeprnn.kernels import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

CONFIGS = [(1, False), (2, True), (3, False), (3, True)]


def _problem(key, T, N, I, H, L, D, dtype, bias=True):
    rng = rng_for(*key)
    weights = make_weights(rng, I, H, L, D, bias, dtype)
    x = rng.standard_normal((T, N, I)).astype(dtype)
    h0 = rng.standard_normal((L * D, N, H)).astype(dtype)
    return rng, weights, x, h0


def test_public_api_is_exported():
    import deeprnn.kernels as k

    for kind in ("rnn", "lstm", "gru"):
        for fn in ("forward", "backward", "cell_forward", "cell_backward"):
            assert f"{kind}_{fn}" in k.__all__ and callable(getattr(k, f"{kind}_{fn}"))
    assert {"recurrent_forward", "recurrent_backward", "KINDS"} <= set(k.__all__)
    assert set(k.KINDS) == {"RNN_TANH", "RNN_RELU", "LSTM", "GRU"}
    assert {"set_backend", "get_backend"} <= set(k.__all__)
    assert rnn_module.rnn_forward is rnn_forward and rnn_module.rnn_backward is rnn_backward


@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("L,bi", CONFIGS)
def test_empty_batch(L, bi, nl):
    D = 2 if bi else 1
    T, I, H = 4, 3, 5
    _, weights, x, h0 = _problem(("empty", L, bi), T, 0, I, H, L, D, np.float32)
    masks = [np.ones((T, 0, D * H), np.float32)] * (L - 1)
    out, h_n, cache = rnn_forward(x, h0, weights, nl, L, bi, dropout_masks=masks or None)
    assert out.shape == (T, 0, D * H) and h_n.shape == (L * D, 0, H)
    out2, h_n2, _ = rnn_forward(x, h0, weights, nl, L, bi, need_cache=False)
    assert out2.shape == out.shape and h_n2.shape == h_n.shape
    for d_out, d_h_n in [(np.zeros_like(out), np.zeros_like(h_n)), (None, None)]:
        dx, dh0, dweights = rnn_backward(d_out, d_h_n, cache)
        assert dx.shape == x.shape and dh0.shape == h0.shape
        assert dx.dtype == dh0.dtype == np.float32
        for w, g in zip(weights, dweights):
            for a, b in zip(w, g):
                assert b.shape == a.shape and b.dtype == np.float32
                assert not b.any()  # no examples, no gradient


def test_empty_batch_cell():
    rng = rng_for("empty-cell")
    ((w_ih, w_hh, b_ih, b_hh),) = make_weights(rng, 3, 4, 1, 1, True, np.float64)
    h_new, cache = rnn_cell_forward(np.zeros((0, 3)), np.zeros((0, 4)), w_ih, w_hh, b_ih, b_hh, "tanh")
    assert h_new.shape == (0, 4)
    dx, dh, dw_ih, dw_hh, db_ih, db_hh = rnn_cell_backward(np.zeros((0, 4)), cache)
    assert dx.shape == (0, 3) and dh.shape == (0, 4)
    assert not dw_ih.any() and not dw_hh.any() and not db_ih.any() and not db_hh.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("L,bi", CONFIGS)
@pytest.mark.parametrize("T", [1, 6])
def test_lean_path_gives_identical_results(T, L, bi, nl, dtype):
    D = 2 if bi else 1
    rng, weights, x, h0 = _problem(("lean", T, L, bi, nl, dtype), T, 3, 4, 5, L, D, dtype)
    out, h_n, cache = rnn_forward(x, h0, weights, nl, L, bi)
    out2, h_n2, cache2 = rnn_forward(x, h0, weights, nl, L, bi, need_cache=False)
    assert cache is not None and cache2 is None
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(h_n2, h_n)
    assert out2.dtype == h_n2.dtype == np.dtype(dtype)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("L,bi", CONFIGS)
def test_float32_stays_float32_everywhere(L, bi, bias):
    D = 2 if bi else 1
    rng, weights, x, h0 = _problem(("f32", L, bi, bias), 5, 2, 3, 4, L, D, np.float32, bias)
    masks = [np.full((5, 2, D * 4), 2.0, np.float32)] * (L - 1)
    out, h_n, cache = rnn_forward(x, h0, weights, "tanh", L, bi, dropout_masks=masks or None)
    dx, dh0, dweights = rnn_backward(np.ones_like(out), np.ones_like(h_n), cache)
    assert {a.dtype for a in (out, h_n, dx, dh0)} == {np.dtype(np.float32)}
    for g in dweights:
        assert {a.dtype for a in g if a is not None} == {np.dtype(np.float32)}
        if bias:
            assert g[2] is not g[3]  # two separate bias gradients
    # No two returned gradients overlap in memory: a caller may update any of them in place.
    grads = [a for g in dweights for a in g if a is not None] + [dx, dh0]
    for i, a in enumerate(grads):
        for b in grads[i + 1 :]:
            assert not np.shares_memory(a, b)


@pytest.mark.parametrize("L,bi", CONFIGS)
def test_inputs_are_not_modified(L, bi):
    D = 2 if bi else 1
    T, N = 5, 3
    rng, weights, x, h0 = _problem(("nomod", L, bi), T, N, 4, 5, L, D, np.float64)
    masks = [(rng.random((T, N, D * 5)) > 0.5) * 2.0 for _ in range(L - 1)] or None
    d_out = rng.standard_normal((T, N, D * 5))
    d_h_n = rng.standard_normal((L * D, N, 5))
    before = [a.copy() for a in (x, h0, d_out, d_h_n)]
    before_w = [[None if a is None else a.copy() for a in w] for w in weights]
    before_m = [m.copy() for m in masks] if masks else []
    out, h_n, cache = rnn_forward(x, h0, weights, "tanh", L, bi, dropout_masks=masks)
    out_copy = out.copy()
    rnn_backward(d_out, d_h_n, cache)
    for a, b in zip((x, h0, d_out, d_h_n), before):
        np.testing.assert_array_equal(a, b)
    for w, bw in zip(weights, before_w):
        for a, b in zip(w, bw):
            np.testing.assert_array_equal(a, b)
    for m, bm in zip(masks or [], before_m):
        np.testing.assert_array_equal(m, bm)
    np.testing.assert_array_equal(out, out_copy)  # backward does not write into the returned output


def test_h_n_is_not_a_view_of_out():
    rng, weights, x, h0 = _problem(("alias",), 3, 2, 3, 4, 1, 1, np.float64)
    out, h_n, _ = rnn_forward(x, h0, weights, "tanh", 1, False)
    assert not np.shares_memory(out, h_n)
    np.testing.assert_array_equal(h_n[0], out[-1])


@pytest.mark.parametrize("bi", [False, True])
def test_non_contiguous_input_and_gradients(bi):
    """A batch-first array transposed to time-major is a strided view; results must not change."""
    D = 2 if bi else 1
    T, N, I, H, L = 6, 3, 4, 5, 2
    rng, weights, x, h0 = _problem(("strided", bi), T, N, I, H, L, D, np.float64)
    x_bf = np.ascontiguousarray(x.transpose(1, 0, 2))  # (N, T, I)
    d_out = rng.standard_normal((T, N, D * H))
    d_out_bf = np.ascontiguousarray(d_out.transpose(1, 0, 2))
    out, h_n, cache = rnn_forward(x, h0, weights, "relu", L, bi)
    ref = rnn_backward(d_out, None, cache)
    out2, h_n2, cache2 = rnn_forward(x_bf.transpose(1, 0, 2), h0, weights, "relu", L, bi)
    got = rnn_backward(d_out_bf.transpose(1, 0, 2), None, cache2)
    np.testing.assert_allclose(out2, out, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(h_n2, h_n, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-13, atol=1e-14)


def test_unknown_nonlinearity_is_rejected():
    rng, weights, x, h0 = _problem(("bad",), 2, 1, 3, 4, 1, 1, np.float64)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn_forward(x, h0, weights, "sigmoid", 1, False)


def test_repeated_calls_are_independent():
    """No state survives between calls: a second call with other data does not disturb the first."""
    rng, weights, x, h0 = _problem(("indep",), 4, 2, 3, 4, 2, 2, np.float64)
    out_a, h_a, cache_a = rnn_forward(x, h0, weights, "tanh", 2, True)
    saved = out_a.copy()
    rnn_forward(x * 3, h0 * -1, weights, "tanh", 2, True)
    rnn_forward(x * 3, h0 * -1, weights, "tanh", 2, True, need_cache=False)
    np.testing.assert_array_equal(out_a, saved)
    g1 = rnn_backward(np.ones_like(out_a), None, cache_a)
    g2 = rnn_backward(np.ones_like(out_a), None, cache_a)
    np.testing.assert_array_equal(g1[0], g2[0])


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_saturated_gates_make_no_subnormal_numbers(mode):
    """Pre-activations around +-95, where 1/(1+exp(-a)) is subnormal in float32: the gates are exactly 0 or 1
    and nothing the kernels compute is subnormal (subnormal operands make x86 arithmetic 10-100x slower)."""
    from _kernels_helpers import make_kind_weights

    from deeprnn.kernels import KINDS, recurrent_backward, recurrent_forward

    rng = rng_for("saturated", mode)
    weights = make_kind_weights(rng, mode, 4, 5, 2, 1, True, np.float32, scale=24.0)
    x = rng.choice([-1.0, 1.0], (6, 3, 4)).astype(np.float32)  # |a| up to ~100
    kind = KINDS[mode]
    out, state_n, cache = recurrent_forward(kind, x, (None,) * len(kind.state_names), weights, 2, False)
    grads = recurrent_backward(np.ones_like(out), tuple(np.ones_like(s) for s in state_n), cache)
    tiny = np.finfo(np.float32).tiny
    arrays = [out, *state_n, grads[0], *grads[1], *[g for w in grads[2] for g in w if g is not None]]
    arrays += [a for bufs, _ in cache["layers"] for a in bufs.values()]
    gates = cache["layers"][0][1]["gates"]
    assert np.isin(gates[..., : 2 * 5], [0.0, 1.0]).mean() > 0.5  # most sigmoid gates saturated exactly
    for a in arrays:
        magnitude = np.abs(a)
        assert not np.any((magnitude > 0) & (magnitude < tiny))
