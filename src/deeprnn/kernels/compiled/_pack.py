"""W^T in column panels (kernels/panels.py), compiled: the packing behind the kept forms of kernels/transposed.py.

    panels_t(w, NR) == panels(w.T, NR)      w (M, K) C-contiguous -> (ceil(M / NR) * K * NR,), zero-padded

NumPy makes W^T's panels with two strided copies, slow for a transpose: 2.3 ms for an LSTM's (2048, 512)
W_hh, 12.9 ms at (4096, 1024), every train step, where the weights change at every call.  Here one pass reads
W in tiles of 16 x 16 through a small array in L1, its rows read in order and the panel's rows written in
order: 0.7-0.8 ms at (2048, 512), 4.1-4.7 ms at (4096, 1024) (float32, AMD Zen 4, one core; 1.2 and 8.2 ms
with the panel's rows written a value at a time from each row of W).  Below 1 MB NumPy's copies, in the
cache, are faster (transposed.COMPILED_PACK_BYTES).  The same values, so the same bits.
"""

from __future__ import annotations

import numpy as np

from ..panels import aligned_zeros
from ._jit import jit

__all__ = ["panels_t"]

_TILE = 16  # a tile of 16 x 16 values of W, read and written through a local array that stays in L1


@jit
def _fill(w, width, out):
    """out[(p K + k) width + j] = w[p width + j, k] for every row p width + j < M of w (M, K), by tiles of W:
    rows read in order into the tile, panel rows written from it in order."""
    M, K = w.shape
    tile = np.empty((_TILE, _TILE), w.dtype)
    for p in range((M + width - 1) // width):
        base = p * K * width
        j_end = min(width, M - p * width)
        for j0 in range(0, j_end, _TILE):
            for k0 in range(0, K, _TILE):
                row0, at = p * width + j0, base + k0 * width + j0
                if j0 + _TILE <= j_end and k0 + _TILE <= K:  # a whole tile: fixed bounds, which LLVM unrolls
                    _tile(w, row0, k0, _TILE, _TILE, tile, out, at, width)
                else:
                    _tile(w, row0, k0, min(_TILE, j_end - j0), min(_TILE, K - k0), tile, out, at, width)


@jit(inline=True)
def _tile(w, row0, k0, nj, nk, tile, out, at, width):
    """out[at + b width + a] = w[row0 + a, k0 + b] for a < nj, b < nk, through tile."""
    for a in range(nj):
        for b in range(nk):
            tile[b, a] = w[row0 + a, k0 + b]
    for b in range(nk):
        for a in range(nj):
            out[at + b * width + a] = tile[b, a]


def panels_t(w: np.ndarray, width: int) -> np.ndarray:
    """panels(w.T, width) for a 2-D C-contiguous w (M, K): 1-D, 64-byte aligned, the padding zeros."""
    M, K = w.shape
    out = aligned_zeros((-(-M // width) * K * width,), w.dtype)
    if w.size:
        _fill(w, width, out)
    return out
