"""kernels/sums.py: the rows' sums of a bias gradient, against torch's sum and NumPy's."""

import numpy as np
import pytest
import torch

from deeprnn.kernels.sums import column_sums
from oracle import assert_close


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (25, 800), (1600, 512), (2048, 65)])
def test_column_sums_against_torch(dtype, shape):
    a = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype)
    got = column_sums(a)
    assert got.shape == (shape[1],) and got.dtype == dtype
    assert_close(got, torch.from_numpy(a).sum(dim=0))


def test_column_sums_of_strided_columns():
    """A direction's columns of dA: a view with the whole row's stride, as stack_backward passes it."""
    whole = np.random.default_rng(1).standard_normal((50, 64))
    view = whole[:, 16:48]
    assert_close(column_sums(view), torch.from_numpy(np.ascontiguousarray(view)).sum(dim=0))
    assert not np.shares_memory(column_sums(view), whole)


def test_column_sums_edge_values():
    a = np.array([[1.0, np.inf, np.nan, -np.inf], [2.0, 1.0, 0.0, -1.0]], dtype=np.float32)
    got = column_sums(a)
    assert got[0] == 3.0 and got[1] == np.inf and np.isnan(got[2]) and got[3] == -np.inf
    assert np.array_equal(column_sums(np.zeros((0, 5), np.float32)), np.zeros(5, np.float32))


def test_column_sums_refuses_other_ranks():
    with pytest.raises(ValueError, match="2-D array, got 1-D"):
        column_sums(np.zeros(4))
