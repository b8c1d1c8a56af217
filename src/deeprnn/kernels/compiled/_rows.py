"""Evenly strided rows as one flat array, so that compiled loops over them vectorise.

A bidirectional layer keeps both directions side by side in each row of its buffers: the rows of
one direction, (T, N, W) with a row stride of 2W, are a strided view.  numba types such a view
with layout 'A', and LLVM then leaves the loops over its rows scalar: the LSTM step after its
product took 181 us on strided rows against 42 us on contiguous ones (float32, N=32, H=256, Zen 3).
Handed instead as a 1-D contiguous view from the first element to the last, with the row stride,
each row is a contiguous slice and the loops vectorise at the contiguous speed (46 us):

    rows = flat_rows(v["gates"])      # Python, once per segment: (flat, stride) or None
    a_n = row_at(rows, t * N + n, G)  # compiled: row n of step t, a contiguous (G,) view
"""

from __future__ import annotations

import numpy as np
from numba import types
from numpy.lib.stride_tricks import as_strided

from ._jit import jit

__all__ = ["flat_rows", "loop_rows", "row_at", "rows_type", "part_rows", "copy_values"]


def flat_rows(x: np.ndarray):
    """(flat, stride) for x of shape (T, N, W) or (N, W) whose rows are evenly spaced, with unit
    steps inside a row: flat is a 1-D view of x's memory from its first element to its last, and
    row r of x (r = t * N + n) is flat[r * stride : r * stride + W].  None when x is not laid out so
    (then the caller takes NumPy's loops); an empty x gives an empty flat."""
    if x.flags.c_contiguous and x.ndim in (2, 3):  # the common case, without as_strided (5-10 us a call)
        return x.reshape(-1), max(x.shape[-1], 1)
    isz = x.itemsize
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        return None
    T, N, W = x.shape
    if x.size == 0:
        return np.empty(0, x.dtype), max(W, 1)
    if x.strides[2] != isz and W > 1:
        return None
    stride = x.strides[1] if N > 1 else x.strides[0] if T > 1 else W * isz
    if T > 1 and x.strides[0] != N * stride or stride <= 0 or stride % isz or stride < W * isz:
        return None
    stride //= isz
    length = (T * N - 1) * stride + W
    return as_strided(x, shape=(length,), strides=(isz,)), stride


def loop_rows(work: dict, v: dict, prev: list, names: tuple):
    """(the flat_rows pairs of v[name] for each of names, those of the initial states prev), or None when one
    of v's layouts cannot be described (prev's are made C-contiguous first).

    Remembered in `work` (a direction's scratch) while the stack hands the same views v and initial rows
    prev again, as its kept buffers do from call to call (kernels/stack.py): their layout is then the same
    and the initial rows hold the new values in place.  Only where every prev is C-contiguous, so that its
    pair views prev itself and not a copy of the values of the call that made it."""
    memo = work.get("loop_rows")
    if memo is not None and memo[0] is v and memo[1] is prev:
        return memo[2]
    rows = []
    for name in names:
        r = flat_rows(v[name])
        if r is None:
            return None
        rows.append(r)
    firsts = []
    for p in prev:
        firsts.append(flat_rows(np.ascontiguousarray(p)))
    result = (rows, firsts)
    if all(p.flags.c_contiguous for p in prev):
        work["loop_rows"] = (v, prev, result)
    return result


@jit
def row_at(rows, r, width):
    """Row r of a flat_rows pair: a contiguous (width,) view."""
    flat, stride = rows
    s = r * stride
    return flat[s : s + width]


def rows_type(F):
    """The numba type of a flat_rows pair of float type F, for typed_jit signatures (_jit.py)."""
    return types.Tuple((F[::1], types.intp))


@jit
def part_rows(N, parts, p):
    """The rows (n0, n1) of part p when a split loop (_pool.py) cuts N rows into `parts` parts of
    ceil(N / parts) rows, the last one shorter; n0 = n1 for a part left empty."""
    size = (N + parts - 1) // parts
    n0 = min(p * size, N)
    return n0, min(n0 + size, N)


@jit
def copy_values(src, dst):
    """dst[:] = src for two 1-D arrays of the same length that do not overlap, as a loop: numba's slice
    assignment checks for overlap and may copy through a temporary array, which cost 0.85 us of a 5.5 us
    step of the batch-1 loops with their units in two parts (_sync.py; H = 200, float32, Intel Xeon)."""
    for j in range(src.shape[0]):
        dst[j] = src[j]
