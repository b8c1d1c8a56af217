"""flat_rows / row_at (kernels/compiled/_rows.py): strided rows as one flat array, row by row the same memory."""

import numpy as np
import pytest

pytest.importorskip("numba")

from deeprnn.kernels.compiled._rows import flat_rows, row_at  # noqa: E402


def _rows_match(x):
    rows = flat_rows(x)
    assert rows is not None
    flat, _ = rows
    x3 = x if x.ndim == 3 else x[None]
    T, N, W = x3.shape
    for t in range(T):
        for n in range(N):
            r = row_at(rows, t * N + n, W)
            assert np.shares_memory(r, x3[t, n])
            np.testing.assert_array_equal(r, x3[t, n])
    flat[...] = -1  # a view of x's memory: writes through it land in x (here: in every row of x)
    assert (x == -1).all()


@pytest.mark.parametrize("cols", [slice(0, 4), slice(4, 8), slice(2, 5)])
@pytest.mark.parametrize("T,N", [(3, 2), (1, 2), (3, 1), (1, 1)])
def test_a_direction_of_a_bidirectional_buffer(T, N, cols):
    buf = np.arange(T * N * 8, dtype=np.float32).reshape(T * N, 8)
    _rows_match(buf[:, cols].reshape(T, N, -1))


def test_two_dimensional_and_contiguous():
    _rows_match(np.arange(12.0).reshape(3, 4))
    rows = flat_rows(np.zeros((2, 3, 4)))
    assert rows[1] == 4 and rows[0].shape == (24,)


def test_empty():
    flat, stride = flat_rows(np.zeros((0, 3, 4), np.float32))
    assert flat.shape == (0,) and stride >= 1


@pytest.mark.parametrize(
    "x",
    [
        np.zeros((4, 6))[:, ::2],  # steps inside a row
        np.zeros((4, 6))[::-1],  # rows backwards
        np.zeros((3, 4, 5)).transpose(1, 0, 2),  # steps not N rows apart
        np.zeros((3, 4, 5))[:, :2],  # rows of each step not followed by the next step's
        np.lib.stride_tricks.as_strided(np.zeros(8), shape=(3, 4), strides=(16, 8)),  # overlapping rows
    ],
    ids=["inner-step", "reversed", "transposed", "gapped-steps", "overlapping"],
)
def test_layouts_it_cannot_describe_give_none(x):
    assert flat_rows(x) is None
