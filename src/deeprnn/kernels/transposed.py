"""W^T as its own C-contiguous copy, made again only when W's bits have changed.

Each time loop multiplies by W_hh^T, and OpenBLAS (and the compiled loops) run that product
faster with a plain than with a transposed operand.  But the transposed copy itself is slow:
on a Zen 5, NumPy copies an LSTM's (800, 200) W_hh^T in 77-100 us, ten times a plain copy of the
same array, and that is a quarter of a whole batch-1 LSTM inference at T = 25.  Inference calls
the same weights again and again, so the copy is kept and reused.

Reuse is checked, never assumed: an entry holds a copy of W as it was, and is used only while W
is bit for bit the same (its first row is compared first, so a changed W, as after every
optimiser step, costs one row's comparison before the copy is made anew).  Nothing depends on
object identity, version counters or the caller's promises, so a weight changed in place by any
means gives a fresh transpose.  The entries are read-only and bounded in number and bytes; each
costs twice its weight's memory (the copy and the transpose).
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import numpy as np

__all__ = ["transposed", "clear"]

MAX_ENTRIES = 64
MAX_BYTES = 64 * 2**20  # the copies and transposes held, in all
MAX_ARRAY_BYTES = 8 * 2**20  # larger weights are transposed on every call (the copy is small beside their products)

_entries: OrderedDict = OrderedDict()  # id(w) -> (copy of w, w^T C-contiguous read-only)
_bytes = 0
_lock = Lock()


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """a and b (same shape and dtype, C-contiguous) hold the same bytes: -0.0 differs from 0.0, NaN equals itself."""
    as_uint = np.dtype(f"u{a.itemsize}") if a.itemsize in (1, 2, 4, 8) else np.dtype(np.uint8)
    ua = a.view(as_uint)  # whole elements compared as integers: bits, not values, and 4-8x fewer than bytes
    ub = b.view(as_uint)
    return bool(np.array_equal(ua[0], ub[0]) and np.array_equal(ua, ub))


def transposed(w: np.ndarray) -> np.ndarray:
    """np.ascontiguousarray(w.T) for a 2-D array w (M, K): a (K, M) array that must not be written to."""
    if w.ndim != 2 or not w.flags.c_contiguous or w.size == 0 or w.nbytes > MAX_ARRAY_BYTES:
        wt = np.ascontiguousarray(w.T)  # a new array, or a new view (w.T): never w itself
        wt.flags.writeable = False  # read-only always, so that the compiled loops take every result alike
        return wt
    key = id(w)
    with _lock:
        hit = _entries.get(key)
        if hit is not None:
            _entries.move_to_end(key)
    if hit is not None:
        src, wt = hit
        if src.shape == w.shape and src.dtype == w.dtype and _same_bits(src, w):
            return wt
        _drop(key)  # before the new copies exist: at most one copy and one transpose per weight at any time
        del src, wt, hit
    wt = np.ascontiguousarray(w.T)
    wt.flags.writeable = False
    src = w.copy()
    _store(key, src, wt)
    return wt


def _drop(key: int) -> None:
    global _bytes
    with _lock:
        old = _entries.pop(key, None)
        if old is not None:
            _bytes -= old[0].nbytes + old[1].nbytes


def _store(key: int, src: np.ndarray, wt: np.ndarray) -> None:
    global _bytes
    _drop(key)
    with _lock:
        _entries[key] = (src, wt)
        _bytes += src.nbytes + wt.nbytes
        while _entries and (len(_entries) > MAX_ENTRIES or _bytes > MAX_BYTES):
            _, (s, t) = _entries.popitem(last=False)
            _bytes -= s.nbytes + t.nbytes


def clear() -> None:
    """Drop every kept copy (tests; or to release the memory)."""
    global _bytes
    with _lock:
        _entries.clear()
        _bytes = 0
