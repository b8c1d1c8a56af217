"""kernels/compiled/_bits.py: same_words, the compiled bit check of kernels/transposed.py."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from deeprnn.kernels.compiled._bits import BLOCK, same_words  # noqa: E402


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64, np.uint16, np.uint8])
@pytest.mark.parametrize("n", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7])
def test_equal_words_and_every_single_changed_word(dtype, n):
    rng = np.random.default_rng(n)
    a = rng.integers(0, np.iinfo(dtype).max, n, dtype=dtype, endpoint=True)
    b = a.copy()
    assert same_words(a, b) is True
    for i in range(n):  # every position: each block, each tail, the block's first and last word
        b[i] ^= dtype(1 << (i % (8 * a.itemsize)))
        assert same_words(a, b) is False, i
        b[i] = a[i]
    assert same_words(a, b) is True


def test_float_bits_not_values():
    z = np.zeros(300, np.float32)
    m = z.copy()
    m[299] = -0.0  # equal as numbers, different as bits
    assert same_words(z.view(np.uint32), m.view(np.uint32)) is False
    nan = np.full(300, np.nan, np.float32)
    assert same_words(nan.view(np.uint32), nan.copy().view(np.uint32)) is True
