"""Comparisons and logic: eq/ne/lt/le/gt/ge, isnan/isinf/isfinite, logical_*, nonzero, equal, allclose.

Results are bool tensors and carry no gradient. Operands are compared in torch's promoted
dtype (so an int tensor compared with 0.5 compares as floats).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .aliases import dim_aliases
from .ops_math import _check_broadcast, _operands
from .tensor import Tensor

__all__ = [
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "isnan",
    "isinf",
    "isfinite",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "nonzero",
    "count_nonzero",
    "equal",
    "allclose",
    "isclose",
]


def _compare(ufunc: Any) -> Any:
    def op(a: Any, b: Any) -> Tensor:
        _, xa, _, xb = _operands(a, b)
        _check_broadcast(xa, xb)
        return Tensor._wrap(np.asarray(ufunc(xa, xb)))

    op.__name__ = ufunc.__name__
    op.__doc__ = f"Element-wise ``{ufunc.__name__}`` of two tensors (or a tensor and a number): a bool tensor."
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def logical_not(a: Tensor) -> Tensor:
    """True where a is zero (False)."""
    return Tensor._wrap(np.logical_not(a._data))


def isnan(a: Tensor) -> Tensor:
    """True where a is NaN."""
    x = a._data
    return Tensor._wrap(np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, dtype=bool))


def isinf(a: Tensor) -> Tensor:
    """True where a is +inf or -inf."""
    x = a._data
    return Tensor._wrap(np.isinf(x) if x.dtype.kind == "f" else np.zeros(x.shape, dtype=bool))


def isfinite(a: Tensor) -> Tensor:
    """True where a is neither NaN nor infinite."""
    x = a._data
    return Tensor._wrap(np.isfinite(x) if x.dtype.kind == "f" else np.ones(x.shape, dtype=bool))


def nonzero(a: Tensor, *, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: (count, ndim) int64, or one 1-D tensor per dimension."""
    x = a._data
    idx = np.nonzero(x) if x.ndim else np.nonzero(x.reshape(1))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in idx)
    return Tensor._wrap(np.stack(idx, axis=1).astype(np.int64) if x.ndim else np.zeros((len(idx[0]), 0), np.int64))


@dim_aliases
def count_nonzero(a: Tensor, dim: Any = None) -> Tensor:
    """How many elements are non-zero (over ``dim``)."""
    return Tensor._wrap(np.asarray(np.count_nonzero(a._data, axis=dim), dtype=np.int64))


def equal(a: Tensor, b: Tensor) -> bool:
    """True if a and b have the same shape and values."""
    return a._data.shape == b._data.shape and bool(np.array_equal(a._data, b._data))


def isclose(a: Tensor, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|a - b| <= atol + rtol |b| element-wise."""
    _, xa, _, xb = _operands(a, b)
    return Tensor._wrap(np.asarray(np.isclose(xa, xb, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(a: Tensor, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if every element of a is close to b (``isclose``)."""
    return bool(isclose(a, b, rtol, atol, equal_nan)._data.all())
