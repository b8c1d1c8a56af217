"""W^T as its own C-contiguous copy, made again only when W's bits have changed; and W or W^T in panels.

Each time loop multiplies by W_hh^T, and OpenBLAS (and the compiled loops) run that product
faster with a plain than with a transposed operand.  But the transposed copy itself is slow:
on a Zen 5, NumPy copies an LSTM's (800, 200) W_hh^T in 77-100 us, ten times a plain copy of the
same array, and that is a quarter of a whole batch-1 LSTM inference at T = 25.  Inference calls
the same weights again and again, so the copy is kept and reused.

Reuse is checked, never assumed: an entry holds a copy of W as it was, and is used only while W
is bit for bit the same (its first row is compared first, or with the compiled path a block of
256 words at a time (compiled/_bits.py), so a changed W, as after every optimiser step, costs a
row's or a block's comparison before the copy is made anew).  Nothing depends on
object identity, version counters or the caller's promises, so a weight changed in place by any
means gives a fresh transpose.  The entries are read-only and bounded in number and bytes; each
costs its weight's memory for the copy and once more for each form kept.

The compiled loops' packed product (compiled/_gemm.py) reads the same weights in column panels
(panels.py): `forms(w, "t", ("panels_t", NR))` gives W^T and W^T's panels with one bit check,
`forms(w, ("panels", NR))` W's panels (the backward product dA_t W_hh).  Each form is made on
first use and kept in the weight's one entry.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import numpy as np

from . import backend
from .panels import panels

__all__ = ["transposed", "forms", "clear"]

MAX_ENTRIES = 64
MAX_BYTES = 64 * 2**20  # the copies and transposes held, in all
MAX_ARRAY_BYTES = 8 * 2**20  # larger weights are transposed on every call (the copy is small beside their products)

_entries: OrderedDict = OrderedDict()  # id(w) -> (copy of w, {form: read-only array})
_bytes = 0
_lock = Lock()


def _compiled(module: str, name: str):
    """The function `name` of kernels/compiled/<module>.py where the compiled path may run (numba, backend not
    "numpy"), else None."""
    if backend.get_backend() == "numpy" or not backend.numba_available():
        return None
    return getattr(backend.compiled_module(module), name)


def _compiled_check():
    """compiled/_bits.py's same_words, or None (_compiled)."""
    return _compiled("_bits", "same_words")


# From this size W^T's panels are packed by the compiled loop (compiled/_pack.py), below it by NumPy:
# float32, one core, AMD Zen 4, 2026-12-08: (2048, 512) 2.26 -> 0.79 ms, (4096, 1024) 12.5 -> 4.1, but
# (800, 200) 0.072 -> 0.137 and (512, 128) 0.033 -> 0.056, where NumPy's copies run in the cache.
COMPILED_PACK_BYTES = 2**20


def _compiled_pack():
    """compiled/_pack.py's panels_t, or None (_compiled)."""
    return _compiled("_pack", "panels_t")


_WORDS = {n: np.dtype(f"u{n}") for n in (1, 2, 4, 8)}  # itemsize -> the unsigned integers of that size


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """a and b (same shape and dtype, C-contiguous) hold the same bytes: -0.0 differs from 0.0, NaN equals itself."""
    as_uint = _WORDS.get(a.itemsize, _WORDS[1])
    ua = a.reshape(-1).view(as_uint)  # whole elements compared as integers: bits, not values, 4-8x fewer than bytes
    ub = b.reshape(-1).view(as_uint)
    same_words = _compiled_check()
    if same_words is not None:  # one pass with early exits, without NumPy's boolean temporary
        return same_words(ua, ub)
    row = a.shape[-1] * a.itemsize // as_uint.itemsize  # the words of the first row
    return bool(np.array_equal(ua[:row], ub[:row]) and np.array_equal(ua, ub))


def _make(w: np.ndarray, form) -> np.ndarray:
    """One form of w, read-only: "t" W^T C-contiguous; ("panels", NR) W's panels; ("panels_t", NR) W^T's."""
    if form == "t":
        out = np.ascontiguousarray(w.T)  # a new array, or a new view (w.T): never w itself
    elif form[0] == "panels":
        out = panels(w, form[1])
    elif form[0] == "panels_t":
        pack = _compiled_pack() if w.nbytes >= COMPILED_PACK_BYTES else None
        out = panels(w.T, form[1]) if pack is None else pack(w, form[1])
    else:
        raise ValueError(f"a form is 't', ('panels', NR) or ('panels_t', NR), got {form!r}")
    out.flags.writeable = False  # read-only always, so that the compiled loops take every result alike
    return out


def transposed(w: np.ndarray) -> np.ndarray:
    """np.ascontiguousarray(w.T) for a 2-D array w (M, K): a (K, M) array that must not be written to."""
    return forms(w, "t")[0]


def forms(w: np.ndarray, *names) -> tuple:
    """The forms of a 2-D array w named (see _make), each read-only, all with one check of w's bits."""
    if w.ndim != 2 or not w.flags.c_contiguous or w.size == 0 or w.nbytes > MAX_ARRAY_BYTES:
        return tuple(_make(w, f) for f in names)
    key = id(w)
    with _lock:
        hit = _entries.get(key)
        if hit is not None:
            _entries.move_to_end(key)
    if hit is not None:
        src, made = hit
        if src.shape == w.shape and src.dtype == w.dtype and _same_bits(src, w):
            missing = [f for f in names if f not in made]
            if not missing:
                return tuple(made[f] for f in names)
            new = {f: _make(w, f) for f in missing}
            _grow(key, new)
            return tuple(made.get(f, new.get(f)) for f in names)
        _drop(key)  # before the new copies exist: at most one set of copies per weight at any time
        del src, made, hit
    made = {f: _make(w, f) for f in names}
    _store(key, w.copy(), made)
    return tuple(made[f] for f in names)


def _grow(key: int, new: dict) -> None:
    """Add forms to an entry that is still valid, then trim the cache to its bounds."""
    global _bytes
    with _lock:
        entry = _entries.get(key)
        if entry is None:
            return
        entry[1].update(new)
        _bytes += sum(a.nbytes for a in new.values())
        _trim()


def _size(entry) -> int:
    return entry[0].nbytes + sum(a.nbytes for a in entry[1].values())


def _drop(key: int) -> None:
    global _bytes
    with _lock:
        old = _entries.pop(key, None)
        if old is not None:
            _bytes -= _size(old)


def _trim() -> None:
    """Drop the oldest entries beyond the bounds (the caller holds the lock)."""
    global _bytes
    while _entries and (len(_entries) > MAX_ENTRIES or _bytes > MAX_BYTES):
        _, old = _entries.popitem(last=False)
        _bytes -= _size(old)


def _store(key: int, src: np.ndarray, made: dict) -> None:
    global _bytes
    _drop(key)
    with _lock:
        _entries[key] = (src, made)
        _bytes += _size(_entries[key])
        _trim()


def clear() -> None:
    """Drop every kept copy (tests; or to release the memory)."""
    global _bytes
    with _lock:
        _entries.clear()
        _bytes = 0
