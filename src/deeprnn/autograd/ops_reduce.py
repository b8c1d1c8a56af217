"""Reductions: sum, mean, max, min, norm. Their gradients spread back over the reduced axes."""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np

from .function import record
from .tensor import Tensor

__all__ = ["sum", "mean", "max", "min", "norm", "amax"]

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _axes(dim: Any, ndim: int) -> tuple[int, ...] | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        out.append(d % n)
    return tuple(out)


def _expand(g: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
    if axes is not None and not keepdim and len(shape) > 0:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def sum(a: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all elements when None). (…, D, …) -> (…, …) or (…, 1, …) with keepdim."""
    x = a._data
    axes = _axes(dim, x.ndim)
    if x.ndim == 0:
        axes = None
    out = np.asarray(x.sum(axis=axes, keepdims=keepdim, dtype=dtype))
    if not np.issubdtype(out.dtype, np.floating) and out.dtype != np.int64 and dtype is None:
        out = out.astype(np.int64)
    shape = x.shape
    return record(
        "SumBackward0" if dim is None else "SumBackward1", out, (a,), lambda g: (_expand(g, shape, axes, keepdim),)
    )


def mean(a: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Mean over ``dim`` (all elements when None)."""
    x = a._data
    if not np.issubdtype(x.dtype, np.floating) and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {x.dtype}"
        )
    axes = _axes(dim, x.ndim)
    if x.ndim == 0:
        axes = None
    out = np.asarray(x.mean(axis=axes, keepdims=keepdim, dtype=dtype))
    count = x.size // builtins.max(out.size, 1) if x.size else 0
    shape = x.shape
    return record(
        "MeanBackward0" if dim is None else "MeanBackward1",
        out,
        (a,),
        lambda g: (_expand(g / builtins.max(count, 1), shape, axes, keepdim),),
    )


def _extreme(a: Tensor, dim: Any, keepdim: bool, fn: Any, argfn: Any, name: str) -> Any:
    x = a._data
    if dim is None:
        if x.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        flat = int(argfn(x))
        out = np.asarray(x.reshape(-1)[flat])

        def backward_all(g: np.ndarray) -> tuple:
            gx = np.zeros_like(x)
            gx.reshape(-1)[flat] = g
            return (gx,)

        return record(f"{name.capitalize()}Backward1", out, (a,), backward_all)
    (axis,) = _axes(dim, x.ndim)
    idx = np.expand_dims(argfn(x, axis=axis), axis)
    vals = np.take_along_axis(x, idx, axis=axis)

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros_like(x)
        np.put_along_axis(gx, idx, g if keepdim else np.expand_dims(g, axis), axis=axis)
        return (gx,)

    values = record(f"{name.capitalize()}Backward0", vals if keepdim else np.squeeze(vals, axis), (a,), backward)
    indices = Tensor._wrap((idx if keepdim else np.squeeze(idx, axis)).astype(np.int64))
    return MaxResult(values, indices)


def max(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Largest value; with ``dim`` a (values, indices) pair as in PyTorch."""
    return _extreme(a, dim, keepdim, np.max, np.argmax, "max")


def min(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Smallest value; with ``dim`` a (values, indices) pair as in PyTorch."""
    return _extreme(a, dim, keepdim, np.min, np.argmin, "min")


def amax(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Largest values over ``dim`` (values only)."""
    if dim is None:
        return max(a)
    return max(a, dim, keepdim).values


def norm(a: Tensor, p: float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The p-norm (2 by default) over ``dim`` or all elements."""
    if p == 2:
        from .ops_math import sqrt

        return sqrt(sum(a * a, dim=dim, keepdim=keepdim))
    from .ops_math import abs as abs_

    return sum(abs_(a) ** p, dim=dim, keepdim=keepdim) ** (1.0 / p)
