"""kernels/transposed.py: W^T kept while W's bits are unchanged, and made anew whenever they change."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn.kernels import transposed as tr
from deeprnn.kernels.gru import gru_forward
from deeprnn.kernels.lstm import lstm_forward
from deeprnn.kernels.rnn import rnn_forward


@pytest.fixture(autouse=True, params=["numpy", "compiled"])
def check(request, monkeypatch):
    """Every test runs with each bit check: NumPy's array_equal and the compiled one (compiled/_bits.py)."""
    if request.param == "numpy":
        monkeypatch.setattr(tr, "_compiled_check", lambda: None)
    else:
        pytest.importorskip("numba")
        from deeprnn.kernels.compiled._bits import same_words

        monkeypatch.setattr(tr, "_compiled_check", lambda: same_words)
    tr.clear()
    yield request.param
    tr.clear()


def _w(shape=(12, 5), dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_the_transpose_is_exact_contiguous_and_read_only():
    w = _w()
    wt = tr.transposed(w)
    assert wt.shape == (5, 12) and wt.flags.c_contiguous and not wt.flags.writeable
    assert np.array_equal(wt, w.T)
    assert w.flags.writeable  # the caller's array is untouched
    with pytest.raises(ValueError):
        wt[0, 0] = 1


def test_an_unchanged_weight_reuses_its_transpose():
    w = _w()
    assert tr.transposed(w) is tr.transposed(w)


@pytest.mark.parametrize(
    "change",
    [
        lambda w: w.__setitem__((3, 4), w[3, 4] + 1),  # a middle row, as an optimiser step changes it
        lambda w: w.__setitem__((11, 4), -w[11, 4]),  # only the last element
        lambda w: w.__setitem__((0, 0), np.nan),
    ],
    ids=["middle", "last", "nan"],
)
def test_a_weight_changed_in_place_gets_a_fresh_transpose(change):
    w = _w()
    before = tr.transposed(w)
    change(w)
    after = tr.transposed(w)
    assert after is not before
    assert np.array_equal(after, w.T, equal_nan=True)


@pytest.mark.parametrize("shape", [(800, 200), (257, 3), (3, 1000)])
@pytest.mark.parametrize("where", ["first", "block", "before_block", "last"])
def test_one_changed_element_anywhere_in_a_large_weight_is_seen(shape, where):
    """Weights larger than the compiled check's blocks of 256 words: a change in the first word, at and
    just before a block's start, or in the tail after the last whole block."""
    w = _w(shape)
    before = tr.transposed(w)
    flat = w.reshape(-1)
    i = {"first": 0, "block": 256, "before_block": 255, "last": flat.size - 1}[where]
    flat[i] = np.nextafter(flat[i], np.float32(np.inf))  # one bit of the mantissa, in most cases
    after = tr.transposed(w)
    assert after is not before
    assert np.array_equal(after, w.T)
    assert tr.transposed(w) is after  # and the new copy is kept


def test_minus_zero_counts_as_a_change():
    w = np.zeros((4, 3), np.float32)
    tr.transposed(w)
    w[2, 1] = -0.0  # equal as a number, different as bits: the copy must carry the sign
    assert np.signbit(tr.transposed(w)[1, 2])


def test_nan_weights_are_reused_while_their_bits_stay():
    w = _w()
    w[1, 1] = np.nan
    assert tr.transposed(w) is tr.transposed(w)


def test_other_layouts_and_large_weights_are_transposed_every_call(monkeypatch):
    w = _w((6, 8))
    view = w[:, ::2]  # not C-contiguous
    a, b = tr.transposed(view), tr.transposed(view)
    assert np.array_equal(a, view.T) and a is not b and not a.flags.writeable
    monkeypatch.setattr(tr, "MAX_ARRAY_BYTES", w.nbytes - 1)
    a, b = tr.transposed(w), tr.transposed(w)
    assert np.array_equal(a, w.T) and a is not b and not a.flags.writeable and w.flags.writeable


def test_the_cache_is_bounded_in_entries_and_bytes(monkeypatch):
    monkeypatch.setattr(tr, "MAX_ENTRIES", 3)
    ws = [_w(seed=i) for i in range(5)]
    for w in ws:
        tr.transposed(w)
    assert len(tr._entries) == 3
    monkeypatch.setattr(tr, "MAX_BYTES", 2 * 2 * ws[0].nbytes)  # two entries: a copy and a transpose each
    tr.transposed(_w(seed=9))
    assert len(tr._entries) == 2 and tr._bytes == 4 * ws[0].nbytes


def _lstm(x, weights):
    out, h, c, _ = lstm_forward(x, None, None, weights, 1, False, need_cache=False)
    return out, h, c


def _gru(x, weights):
    out, h, _ = gru_forward(x, None, weights, 1, False, need_cache=False)
    return out, h


def _rnn(x, weights):
    out, h, _ = rnn_forward(x, None, weights, "tanh", 1, False, need_cache=False)
    return out, h


@pytest.mark.parametrize("run,gates", [(_lstm, 4), (_gru, 3), (_rnn, 1)], ids=["lstm", "gru", "rnn"])
def test_a_kernel_sees_its_weights_changed_in_place(run, gates):
    """The kernels' W_hh^T (on both backends, tests/conftest.py): after W_hh changes in place, the output is
    the one of fresh arrays with the new values."""
    rng = np.random.default_rng(3)
    T, N, I, H = 5, 2, 3, 4
    shapes = ((gates * H, I), (gates * H, H), (gates * H,), (gates * H,))
    weights = [tuple(rng.uniform(-0.5, 0.5, s).astype(np.float32) for s in shapes)]
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    run(x, weights)
    weights[0][1][...] *= -1.5  # in place, as p.data.mul_() or an optimiser would
    again = run(x, weights)
    fresh = run(x, [tuple(w.copy() for w in weights[0])])  # new arrays: nothing kept can apply
    for a, b in zip(again, fresh):
        assert np.array_equal(a, b)
