"""A layer's input projection A = X W_ih^T on the packed kernel (_gemm.py), its rows over the pool's threads.

    project(x, w, out)      out (R, M) = x (R, K) w (M, K)^T, where it can; True when done

The stack computes every step's x_t W_ih^T at once before the time loop (kernels/stack.py), with
NumPy's OpenBLAS, which packs W_ih^T again at each call.  Here W_ih^T's panels are kept while W_ih is
unchanged (kernels/transposed.py, one check of its bits) and the rows run in two parts, one a thread of the
shared pool (_pool.py), with each panel's first chunk started from zero (packed_product_set).  float32, AMD
Zen 4 (AVX-512), 2 cores, the product alone, OpenBLAS -> here: (1600, 512) by (512, 2048) 19.1 -> 17.3 ms;
(1600, 65) by (65, 2048) 3.8 -> 3.0; (12800, 128) by (128, 4096) 83.9 -> 77.5 (2026-12-08).  LSTM inference
in one process, interleaved: T = 50, N = 32, H = 512, 2 layers 60.6 -> 57.7 ms; H = 128 4.74 -> 4.47;
H = 256 bidirectional 45.3 -> 40.8; N = 16, H = 64, 3 layers 2.91 -> 2.87.  Training the same within the
noise (189 -> 187 ms at H = 512), although W_ih changes at every step and is packed again.

It runs only where the loops' packed product does (_gemm.enabled(), AVX-512), on float32 and float64 rows
that flat_rows can describe, with a W_ih small enough to be kept (transposed.MAX_ARRAY_BYTES), on at least
MIN_ROWS rows, and only with the pool's two threads: on one core it loses to OpenBLAS on two.  Everywhere
else (a forked DataLoader worker, whose pool is gone, among them) the caller keeps NumPy's product.  The sums
run over k in order with one rounding per multiply-add, so the values differ from OpenBLAS's in the last bits,
within the parity tolerances.
"""

from __future__ import annotations

import numpy as np
from numba import prange, types

from ..transposed import MAX_ARRAY_BYTES, forms
from . import _gemm
from ._gemm import packed_product_set
from ._jit import readonly_vector, typed_jit
from ._product import PACKED, split_parts
from ._rows import flat_rows, part_rows, rows_type

__all__ = ["project", "project_layer", "MIN_ROWS"]

# The fewest rows projected here.  Below, at batch 1, NumPy's product was as fast or faster in the module's
# call, the packed one's bit check of W_ih and Python around it included: inference at T = 25, H = 200,
# OpenBLAS -> packed on two threads, RNN 86 -> 99 us, GRU 148 -> 155, LSTM 192 -> 197; at T = 100, H = 100
# (100 rows) RNN 157 -> 142, GRU 296 -> 266, LSTM 474 -> 495 and 331 -> 338 (AMD Zen 4, one process,
# interleaved, 2026-12-08).  On one core, the packed product lost at 100 rows too (51 against 46 us).
MIN_ROWS = 128


@typed_jit(
    lambda F: (readonly_vector(F), rows_type(F), rows_type(F), types.intp, types.intp, types.intp, types.intp),
    parallel=True,
)
def _project(bp, x, out, R, K, M, parts):
    """out's R rows = x's rows times b (K, M), from b's panels bp, in `parts` parts, one a thread of the pool."""
    for p in prange(parts):
        n0, n1 = part_rows(R, parts, p)
        if n0 < n1:
            packed_product_set(out, n0, x, n0, n1 - n0, K, bp, M)


def _parts(x: np.ndarray, w: np.ndarray, out: np.ndarray) -> int:
    """How many threads project(x, w, out) runs on, or 0 where it does not run (module docstring)."""
    R, K = x.shape
    M = w.shape[0]
    if not _gemm.enabled() or R == 0 or K == 0 or M == 0 or w.nbytes > MAX_ARRAY_BYTES:
        return 0
    if not (x.dtype == w.dtype == out.dtype and x.dtype in (np.float32, np.float64)):
        return 0
    if w.shape[1] != K or out.shape != (R, M):
        return 0
    if R < MIN_ROWS:
        return 0
    parts = split_parts(R, PACKED)
    return parts if parts >= 2 else 0


def project(x: np.ndarray, w: np.ndarray, out: np.ndarray) -> bool:
    """out = x w^T for x (R, K), w (M, K), out (R, M) of one float dtype, on the packed kernel where this
    module's rules allow (see above): True when out holds the product, False (out untouched) when not."""
    return project_layer(x, [w], out)


def project_layer(x: np.ndarray, ws: list, out: np.ndarray) -> bool:
    """A layer's projection for the stack (the compiled twins' project_input): out (R, D*M) = x (R, K) times
    each direction's W_ih ws[d] (M, K) transposed, in out's columns d M .. (d + 1) M - 1; each direction's own
    W_ih (kept packed, not their concatenation, which is a new array at every call).  True when done, False
    (out untouched) where the module's rules say no, for any direction."""
    R, K = x.shape
    if R < MIN_ROWS:  # batch 1's few rows: at once, without the views below (2-3 us a call)
        return False
    M = ws[0].shape[0]
    if out.shape != (R, len(ws) * M):
        return False
    cols = [out[:, d * M : (d + 1) * M] for d in range(len(ws))]
    parts = [_parts(x, w, c) for w, c in zip(ws, cols)]
    x_rows, col_rows = flat_rows(x), [flat_rows(c) for c in cols]
    if min(parts) == 0 or x_rows is None or any(r is None for r in col_rows):
        return False
    for w, rows, n in zip(ws, col_rows, parts):
        (bp,) = forms(np.ascontiguousarray(w), ("panels_t", _gemm.panel_width(w.itemsize)))
        _project(bp, x_rows, rows, R, K, M, n)
    return True
