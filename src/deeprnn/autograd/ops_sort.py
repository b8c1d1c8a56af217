"""Order and running totals: sort, argsort, topk, median, cumsum, cumprod.

Sorting is stable (equal values keep their order; descending sorts keep it too), so the
indices are reproducible; a sorted value's gradient goes back to the position it came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import return_types
from .aliases import dim_aliases
from .function import record
from .ops_shape import _dim
from .tensor import Tensor

__all__ = ["sort", "argsort", "topk", "median", "cumsum", "cumprod"]


def _order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    key = x.astype(np.int8) if x.dtype == np.bool_ else x
    with np.errstate(invalid="ignore"):
        return np.argsort(-key if key.dtype.kind != "u" else key.max(initial=0) - key, axis=axis, kind="stable")


def _picked(a: Tensor, idx: np.ndarray, axis: int, name: str, kind: Any) -> Any:
    """(values, indices) of the entries ``idx`` along ``axis``, the values differentiable."""
    x = a._data
    if x.ndim == 0:
        vals, idx = x.copy(), np.zeros((), dtype=np.int64)
    else:
        vals = np.take_along_axis(x, idx, axis=axis)

    def backward(g: np.ndarray) -> tuple:
        if x.ndim == 0:
            return (g,)
        gx = np.zeros_like(x, dtype=g.dtype)
        np.put_along_axis(gx, idx, g, axis=axis)
        return (gx,)

    values = record(name, np.asarray(vals), (a,), backward, saved=())
    return kind(values, Tensor._wrap(np.asarray(idx, dtype=np.int64)))


@dim_aliases
def sort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """(values, indices) sorted along ``dim``."""
    x = a._data
    axis = _dim(dim, x.ndim)
    idx = _order(x, axis, descending) if x.ndim else None
    return _picked(a, idx, axis, "SortBackward0", return_types.sort)


@dim_aliases
def argsort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``a`` along ``dim``."""
    return sort(a, dim, descending).indices


@dim_aliases
def topk(a: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest (or smallest) entries along ``dim``: (values, indices), sorted."""
    x = a._data
    axis = _dim(dim, x.ndim)
    n = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    idx = np.take(_order(x, axis, largest), np.arange(k), axis=axis) if x.ndim else None
    return _picked(a, idx, axis, "TopkBackward0", return_types.topk)


@dim_aliases
def median(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (of an even count, the smaller middle value, as torch); with ``dim`` (values, indices)."""
    x = a._data
    if dim is None:
        flat = x.reshape(-1)
        if flat.size == 0:
            return Tensor._wrap(np.asarray(np.nan, dtype=x.dtype))
        i = int(np.argsort(flat, kind="stable")[(flat.size - 1) // 2])
        shape = x.shape

        def backward(g: np.ndarray) -> tuple:
            gx = np.zeros(flat.size, dtype=g.dtype)
            gx[i] = g
            return (gx.reshape(shape),)

        return record("MedianBackward0", np.asarray(flat[i]), (a,), backward, saved=())
    axis = _dim(dim, x.ndim)
    n = x.shape[axis] if x.ndim else 1
    idx = np.take(_order(x, axis, False), [(n - 1) // 2], axis=axis) if x.ndim else None
    r = _picked(a, idx, axis, "MedianBackward1", return_types.median)
    if keepdim or not x.ndim:
        return r
    return return_types.median(r.values.squeeze(axis), r.indices.squeeze(axis))


@dim_aliases
def cumsum(a: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Running sums along ``dim``; the gradient is the reversed running sum of the gradient."""
    x = a._data
    axis = _dim(dim, x.ndim)
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.int64
    out = np.cumsum(x, axis=axis, dtype=dtype) if x.ndim else x.astype(dtype or x.dtype)

    def backward(g: np.ndarray) -> tuple:
        if not x.ndim:
            return (g,)
        return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis).astype(x.dtype, copy=False),)

    return record("CumsumBackward0", np.asarray(out), (a,), backward, saved=())


@dim_aliases
def cumprod(a: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Running products along ``dim``; exact gradient with zeros present.

    With L_i = prod_{k<i} x_k and S_i = g_i + x_{i+1} S_{i+1} (from the end), d/dx_i = L_i S_i.
    """
    x = a._data
    axis = _dim(dim, x.ndim)
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.int64
    out = np.cumprod(x, axis=axis, dtype=dtype) if x.ndim else x.astype(dtype or x.dtype)

    def backward(g: np.ndarray) -> tuple:
        if not x.ndim:
            return (g,)
        xm, gm = np.moveaxis(x, axis, 0), np.moveaxis(g, axis, 0)  # (n, ...)
        n = xm.shape[0]
        left = np.ones_like(gm)
        if n > 1:
            left[1:] = np.cumprod(xm[:-1], axis=0)
        s = np.empty_like(gm)
        s[n - 1] = gm[n - 1]
        for i in range(n - 2, -1, -1):
            s[i] = gm[i] + xm[i + 1] * s[i + 1]
        return (np.moveaxis(left * s, 0, axis).astype(x.dtype, copy=False),)

    return record("CumprodBackward0", np.asarray(out), (a,), backward, saved=(a,), save_output=True)
