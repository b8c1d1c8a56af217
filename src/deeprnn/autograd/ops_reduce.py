"""Reductions: sum, mean, prod, max/min, amax/amin, argmax/argmin, all/any, logsumexp.

Their gradients spread back over the reduced axes. ``dim`` is an int, a tuple of ints or
None (every element); ``keepdim`` keeps reduced dimensions as size 1. Statistics and norms
are in ``ops_stats``.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import return_types
from .aliases import dim_aliases
from .dtypes import as_dtype, is_floating, torch_type_name
from .function import record
from .tensor import Tensor

__all__ = [
    "sum",
    "mean",
    "prod",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "all",
    "any",
    "logsumexp",
]


def _axes(dim: Any, ndim: int) -> tuple[int, ...] | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    n = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
    return tuple(out) if ndim else None


def _expand(g: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
    """Broadcast a reduced gradient back to the input's shape."""
    return np.broadcast_to(_keep(g, axes, len(shape), keepdim), shape)


def _filled(g: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdim: bool, dtype) -> np.ndarray:
    """A new (shape) array of dtype holding the reduced gradient g broadcast back: what
    ``_expand(...).astype(dtype)`` gives, in two C calls (np.broadcast_to is Python: a sum's backward runs it
    in every training step, with the interpreter's caches cold)."""
    out = np.empty(shape, dtype=dtype)
    out[...] = _keep(g, axes, len(shape), keepdim)
    return out


def _keep(v: np.ndarray, axes: tuple[int, ...] | None, ndim: int, keepdim: bool) -> np.ndarray:
    """A reduced array with its reduced dimensions back as size 1 (as keepdim=True gives it): a reshape, as
    np.expand_dims gives it, without that function's Python frames (a sum's backward runs this every step)."""
    if keepdim or not ndim:
        return v
    if axes is None:
        return v.reshape((1,) * ndim)
    kept = iter(v.shape)
    return v.reshape(tuple(1 if i in axes else next(kept) for i in range(ndim)))


@dim_aliases
def sum(a: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all elements when None); integers and bools sum to int64, as in torch."""
    x = a._data
    axes = _axes(dim, x.ndim)
    if dtype is None and not is_floating(x.dtype):
        dtype = np.int64
    out = np.asarray(x.sum(axis=axes, keepdims=keepdim, dtype=None if dtype is None else as_dtype(dtype)))
    shape, dt = x.shape, x.dtype
    name = "SumBackward0" if dim is None else "SumBackward1"
    return record(name, out, (a,), lambda g: (_filled(g, shape, axes, keepdim, dt),), saved=())


@dim_aliases
def mean(a: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean over ``dim`` (all elements when None); a floating input (or ``dtype``) is required."""
    x = a._data
    if dtype is not None:
        x = x.astype(as_dtype(dtype))
    if not is_floating(x.dtype):
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {torch_type_name(x.dtype)}"
        )
    axes = _axes(dim, x.ndim)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (
            np.asarray(x.mean(axis=axes, keepdims=keepdim))
            if x.size
            else np.asarray(x.sum(axis=axes, keepdims=keepdim) / 0)
        )
    count = x.size // builtins.max(out.size, 1) if x.size else 0
    shape, dt = x.shape, a._data.dtype
    name = "MeanBackward0" if dim is None else "MeanBackward1"
    return record(
        name, out, (a,), lambda g: ((_expand(g, shape, axes, keepdim) / builtins.max(count, 1)).astype(dt),), saved=()
    )


@dim_aliases
def prod(a: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over ``dim`` (all elements when None); the gradient is exact with zeros present."""
    x = a._data if dtype is None else a._data.astype(as_dtype(dtype))
    if dtype is None and not is_floating(x.dtype):
        x = x.astype(np.int64)
    if dim is None:
        flat = x.reshape(-1)
        out = np.asarray(flat.prod())
        shape = x.shape

        def backward_all(g: np.ndarray) -> tuple:
            return ((g * _others_product(flat, 0)).reshape(shape),)

        return record("ProdBackward0", out, (a,), backward_all, saved=(a,), save_output=True)
    (axis,) = _axes(dim, x.ndim) or (0,)
    out = np.asarray(x.prod(axis=axis, keepdims=keepdim))

    def backward(g: np.ndarray) -> tuple:
        gk = g if keepdim else np.expand_dims(g, axis)
        return (gk * _others_product(x, axis),)

    return record("ProdBackward1", out, (a,), backward, saved=(a,), save_output=True)


def _others_product(x: np.ndarray, axis: int) -> np.ndarray:
    """For each element, the product of the other elements along ``axis`` (exclusive cumprods, zero-safe)."""
    ones = np.ones_like(np.take(x, [0], axis=axis))
    left = np.cumprod(np.concatenate([ones, np.delete(x, -1, axis=axis)], axis=axis), axis=axis)
    rx = np.flip(x, axis)
    right = np.flip(np.cumprod(np.concatenate([ones, np.delete(rx, -1, axis=axis)], axis=axis), axis=axis), axis)
    return left * right


def _all_extreme(a: Tensor, fn: Any, name: str, node: str) -> Tensor:
    """max()/min()/amax() over everything: the gradient is shared evenly among ties, as torch."""
    x = a._data
    if x.size == 0:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    out = np.asarray(fn(x))

    def backward(g: np.ndarray) -> tuple:
        mask = x == out
        return ((g * mask / mask.sum()).astype(x.dtype, copy=False),)

    return record(node, out, (a,), backward, saved=(a,), save_output=True)


def _dim_extreme(a: Tensor, dim: int, keepdim: bool, argfn: Any, name: str) -> Any:
    x = a._data
    (axis,) = _axes(dim, x.ndim) or (0,)
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    if x.ndim == 0:
        idx, vals = np.zeros((), dtype=np.int64), x.copy()
    else:
        idx = np.expand_dims(argfn(x, axis=axis), axis)
        vals = np.take_along_axis(x, idx, axis=axis)
        if not keepdim:
            idx, vals = np.squeeze(idx, axis), np.squeeze(vals, axis)

    def backward(g: np.ndarray) -> tuple:
        if x.ndim == 0:
            return (g,)
        gx = np.zeros_like(x)
        np.put_along_axis(
            gx, idx if keepdim else np.expand_dims(idx, axis), g if keepdim else np.expand_dims(g, axis), axis
        )
        return (gx,)

    values = record(f"{name.capitalize()}Backward0", np.asarray(vals), (a,), backward, saved=())
    kind = return_types.max if name == "max" else return_types.min
    return kind(values, Tensor._wrap(np.asarray(idx, dtype=np.int64)))


@dim_aliases
def max(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Largest value; with ``dim`` a (values, indices) pair, with a tensor the element-wise maximum."""
    if isinstance(dim, Tensor):
        from .ops_math import maximum

        return maximum(a, dim)
    if dim is None:
        return _all_extreme(a, np.max, "max", "MaxBackward1")
    return _dim_extreme(a, dim, keepdim, np.argmax, "max")


@dim_aliases
def min(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Smallest value; with ``dim`` a (values, indices) pair, with a tensor the element-wise minimum."""
    if isinstance(dim, Tensor):
        from .ops_math import minimum

        return minimum(a, dim)
    if dim is None:
        return _all_extreme(a, np.min, "min", "MinBackward1")
    return _dim_extreme(a, dim, keepdim, np.argmin, "min")


def _amax(a: Tensor, dim: Any, keepdim: bool, fn: Any, node: str) -> Tensor:
    x = a._data
    axes = _axes(dim if dim not in ((), []) else None, x.ndim)
    out = np.asarray(fn(x, axis=axes, keepdims=keepdim))

    def backward(g: np.ndarray) -> tuple:
        mask = x == _keep(out, axes, x.ndim, keepdim)
        count = mask.sum(axis=axes, keepdims=True)
        return ((_keep(g, axes, x.ndim, keepdim) * mask / count).astype(x.dtype, copy=False),)

    return record(node, out, (a,), backward, saved=(a,), save_output=True)


@dim_aliases
def amax(a: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Largest values over ``dim`` (every dimension by default); ties share the gradient evenly."""
    return _amax(a, dim, keepdim, np.max, "AmaxBackward0")


@dim_aliases
def amin(a: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Smallest values over ``dim`` (every dimension by default); ties share the gradient evenly."""
    return _amax(a, dim, keepdim, np.min, "AminBackward0")


@dim_aliases
def argmax(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Indices (int64) of the maxima, over everything (flattened) or along dim."""
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmax(a._data), dtype=np.int64))
    return max(a, dim, keepdim).indices


@dim_aliases
def argmin(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Indices (int64) of the minima, over everything (flattened) or along dim."""
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmin(a._data), dtype=np.int64))
    return min(a, dim, keepdim).indices


@dim_aliases
def all(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (over ``dim``) is non-zero (uint8 input gives uint8, as torch)."""
    x = a._data
    out = np.asarray(np.all(x, axis=_axes(dim, x.ndim), keepdims=keepdim))
    return Tensor._wrap(out.astype(np.uint8) if x.dtype == np.uint8 else out)


@dim_aliases
def any(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element (over ``dim``) is non-zero (uint8 input gives uint8, as torch)."""
    x = a._data
    out = np.asarray(np.any(x, axis=_axes(dim, x.ndim), keepdims=keepdim))
    return Tensor._wrap(out.astype(np.uint8) if x.dtype == np.uint8 else out)


@dim_aliases
def logsumexp(a: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(a))) over ``dim``, computed stably; the gradient is softmax(a) along dim."""
    x = a._data if is_floating(a._data.dtype) else a._data.astype(np.float32)
    axes = _axes(dim, x.ndim)
    m = np.max(x, axis=axes, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        lse = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    out = lse if keepdim else (np.squeeze(lse, axes) if axes is not None else lse.reshape(()))

    def backward(g: np.ndarray) -> tuple:
        return ((_keep(g, axes, x.ndim, keepdim) * np.exp(x - lse)).astype(x.dtype, copy=False),)

    return record("LogsumexpBackward0", np.asarray(out), (a,), backward, saved=(a,), save_output=True)
