"""A matrix as column panels: the layout of the compiled loops' packed product (compiled/_gemm.py).

    panels(b, NR)[p, k, j] = b[k, p NR + j]      b (K, M) -> (ceil(M / NR) * K * NR,), zero-padded

Each panel is K rows of NR contiguous values, so that the kernel reads a whole panel as one stream
while it keeps an NR-column block of the result in registers.  NumPy only: the weights are packed
once per call, or kept packed while unchanged (transposed.py).
"""

from __future__ import annotations

import numpy as np

__all__ = ["panels"]


def panels(b: np.ndarray, width: int) -> np.ndarray:
    """b (K, M) as ceil(M / width) panels of K x width, the last padded with zeros; 1-D, C-contiguous."""
    K, M = b.shape
    P = -(-M // width)
    out = np.zeros((P, K, width), dtype=b.dtype)
    full = M // width
    if full:
        out[:full] = b[:, : full * width].reshape(K, full, width).transpose(1, 0, 2)
    if full < P:
        out[full, :, : M - full * width] = b[:, full * width :]
    return out.reshape(-1)
