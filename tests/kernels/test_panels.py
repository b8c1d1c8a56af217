"""kernels/panels.py: a matrix as column panels, the packed product's layout, on 64-byte boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn.kernels.panels import ALIGN, aligned_zeros, panels


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize("shape", [(0,), (1,), (3, 5), (200, 800), (2, 3, 4)])
def test_aligned_zeros_are_zeros_on_a_64_byte_boundary(dtype, shape):
    for _ in range(8):  # several allocations: NumPy's own alignment varies between them
        a = aligned_zeros(shape, dtype)
        assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
        assert a.size == 0 or a.ctypes.data % ALIGN == 0
        assert not a.any()


@pytest.mark.parametrize("K,M,width", [(3, 5, 8), (200, 800, 64), (7, 130, 64), (1, 16, 16)])
def test_panels_hold_b_column_block_by_column_block_zero_padded(K, M, width):
    b = np.random.default_rng(K * M).standard_normal((K, M)).astype(np.float32)
    p = panels(b, width)
    P = -(-M // width)
    assert p.shape == (P * K * width,) and p.ctypes.data % ALIGN == 0
    blocks = p.reshape(P, K, width)
    for q in range(P):
        cols = b[:, q * width : (q + 1) * width]
        np.testing.assert_array_equal(blocks[q, :, : cols.shape[1]], cols)
        assert not blocks[q, :, cols.shape[1] :].any()
