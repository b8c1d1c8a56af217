"""The lean path's kept buffers (kernels/stack.py, _kept_buffers): a call's results are its own, whatever the
next call of the same shape does, in one thread or several, and large shapes keep nothing."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from _kernels_helpers import make_kind_weights, rng_for

from deeprnn.kernels import KINDS, recurrent_forward, stack

MODES = ["RNN_TANH", "LSTM", "GRU"]


def _problem(mode, key, T=5, N=2, I=3, H=4, L=2, D=2, dtype=np.float64):
    rng = rng_for("kept", mode, *key)
    kind = KINDS[mode]
    weights = make_kind_weights(rng, mode, I, H, L, D, True, dtype)
    x = rng.standard_normal((T, N, I)).astype(dtype)
    return kind, weights, x, L, D == 2


def _lean(kind, x, weights, L, bi):
    return recurrent_forward(kind, x, (None,) * len(kind.state_names), weights, L, bi, need_cache=False)


@pytest.mark.parametrize("mode", MODES)
def test_a_later_call_of_the_same_shape_leaves_the_results_alone(mode):
    kind, weights, x, L, bi = _problem(mode, ("later",))
    out_a, states_a, _ = _lean(kind, x, weights, L, bi)
    saved = out_a.copy(), [s.copy() for s in states_a]
    out_b, states_b, _ = _lean(kind, x * -2.0, weights, L, bi)
    assert out_b.shape == out_a.shape and not np.array_equal(out_b, out_a)
    np.testing.assert_array_equal(out_a, saved[0])
    for s, kept in zip(states_a, saved[1]):
        np.testing.assert_array_equal(s, kept)
    again, _, _ = _lean(kind, x, weights, L, bi)
    np.testing.assert_array_equal(again, saved[0])  # and the same bits as the first time


@pytest.mark.parametrize("mode", MODES)
def test_the_lean_path_gives_the_cached_path_s_bits(mode):
    kind, weights, x, L, bi = _problem(mode, ("bits",), dtype=np.float32)
    zeros = (None,) * len(kind.state_names)
    out_c, states_c, cache = recurrent_forward(kind, x, zeros, weights, L, bi, need_cache=True)
    assert cache is not None
    for _ in range(2):  # the first call makes the buffers, the second reuses them
        out_l, states_l, _ = _lean(kind, x, weights, L, bi)
        np.testing.assert_array_equal(out_l, out_c)
        for a, b in zip(states_l, states_c):
            np.testing.assert_array_equal(a, b)


def test_two_threads_in_one_shape_each_get_their_own_results():
    kind, weights, x, L, bi = _problem("LSTM", ("threads",), T=40, N=3, H=16)
    inputs = [x * s for s in (1.0, -1.0, 0.5, 2.0)]
    expected = [_lean(kind, xi, weights, L, bi)[0] for xi in inputs]
    errors: list = []

    def work(i):
        try:
            for _ in range(60):
                got = _lean(kind, inputs[i], weights, L, bi)[0]
                if not np.array_equal(got, expected[i]):
                    errors.append(i)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_shapes_beyond_the_bound_keep_nothing(monkeypatch):
    kind, weights, x, L, bi = _problem("GRU", ("bound",))
    shape = (kind, 5, 2, 4, 4, np.dtype(np.float64), L, 2)
    stack._kept_buffers.cache_clear()
    assert stack._kept_buffers(*shape) is not None
    stack._kept_buffers.cache_clear()
    monkeypatch.setattr(stack, "KEPT_MAX_BYTES", 0)
    assert stack._kept_buffers(*shape) is None
    out_a, _, _ = _lean(kind, x, weights, L, bi)  # fresh buffers at every call
    saved = out_a.copy()
    _lean(kind, x * 3.0, weights, L, bi)
    np.testing.assert_array_equal(out_a, saved)
    stack._kept_buffers.cache_clear()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("D", [1, 2])
def test_new_initial_states_at_every_call_of_one_shape(mode, D):
    """The compiled loops remember their rows in the kept buffers (compiled/_rows.py, loop_rows): the initial
    states written into those buffers at each call are the ones the loops start from, contiguous (D = 1) or
    one direction's columns (D = 2)."""
    kind, weights, x, L, bi = _problem(mode, ("states", D), D=D, dtype=np.float32)
    rng = rng_for("kept-states", mode, D)
    for _ in range(3):
        states = tuple(rng.standard_normal((L * D, x.shape[1], 4)).astype(np.float32) for _ in kind.state_names)
        out_c, states_c, _ = recurrent_forward(kind, x, states, weights, L, bi, need_cache=True)
        out_l, states_l, _ = recurrent_forward(kind, x, states, weights, L, bi, need_cache=False)
        np.testing.assert_array_equal(out_l, out_c)
        for a, b in zip(states_l, states_c):
            np.testing.assert_array_equal(a, b)


def test_clear_kept_buffers_gives_them_back():
    kind, weights, x, L, bi = _problem("LSTM", ("clear",))
    out_a, _, _ = _lean(kind, x, weights, L, bi)
    assert stack._kept_buffers.cache_info().currsize >= 1
    stack.clear_kept_buffers()
    assert stack._kept_buffers.cache_info().currsize == 0
    out_b, _, _ = _lean(kind, x, weights, L, bi)  # made again, the same results
    np.testing.assert_array_equal(out_a, out_b)
