"""Indexing: ``t[idx]``, select, narrow, split, chunk, unbind, gather, scatter, index_select, masked_select.

Basic indexing (ints, slices, None, ...) returns a view, as torch does; advanced indexing
(lists, integer or boolean tensors) returns a copy, and its gradient is scattered back with
repeated indices summed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .aliases import dim_aliases
from .function import record, record_many
from .ops_shape import _dim
from .tensor import Tensor

__all__ = [
    "getitem",
    "select",
    "narrow",
    "split",
    "chunk",
    "unbind",
    "gather",
    "scatter",
    "scatter_add",
    "index_select",
    "masked_select",
    "take",
    "take_along_dim",
]


def _index(idx: Any) -> tuple[Any, bool]:
    """Convert Tensor indices to arrays; tell whether the index is advanced (may repeat)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    conv = []
    advanced = False
    for it in items:
        if isinstance(it, Tensor):
            it = it._data
            if it.ndim == 0 and it.dtype.kind in "iu":
                it = int(it)  # a 0-d integer tensor indexes like an int (a view), as in torch
        if isinstance(it, (list, np.ndarray)):
            advanced = True
            it = np.asarray(it)
            if it.dtype.kind not in "iub" and it.size:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        conv.append(it)
    return (tuple(conv) if isinstance(idx, tuple) else conv[0]), advanced


def _basic_name(key: Any) -> str:
    """torch's node for basic indexing: that of the last index that does something."""
    items = key if isinstance(key, tuple) else (key,)
    for it in reversed(items):
        if it is None:
            return "UnsqueezeBackward0"
        if isinstance(it, (int, np.integer)):
            return "SelectBackward0"
        if isinstance(it, slice) and it != slice(None):
            return "SliceBackward0"
    return "AliasBackward0" if any(it is Ellipsis for it in items) else "SliceBackward0"


def _check_masks(x: np.ndarray, key: Any) -> None:
    items = key if isinstance(key, tuple) else (key,)
    d = 0
    for it in items:
        if isinstance(it, np.ndarray) and it.dtype == np.bool_:
            for j, n in enumerate(it.shape):
                if d + j < x.ndim and n != x.shape[d + j]:
                    raise IndexError(
                        f"The shape of the mask {list(it.shape)} at index {j} does not match the shape of the "
                        f"indexed tensor {list(x.shape)} at index {d + j}"
                    )
            d += it.ndim
        elif it is not None and it is not Ellipsis:
            d += 1


def getitem(a: Tensor, idx: Any) -> Tensor:
    """``a[idx]``: basic and advanced NumPy indexing; the gradient is scattered back (summed on repeats)."""
    x = a._data
    key, advanced = _index(idx)
    if advanced:
        _check_masks(x, key)
    try:
        out = x[key]
    except IndexError as err:
        raise IndexError(str(err).replace("axis", "dimension")) from err
    if advanced:
        out = np.array(out)

        def backward_advanced(g: np.ndarray) -> tuple:
            gx = np.zeros_like(x, dtype=g.dtype)
            np.add.at(gx, key, g)
            return (gx,)

        return record("IndexBackward0", out, (a,), backward_advanced, saved=())
    if not isinstance(out, np.ndarray):  # a single element: index again for a 0-d view
        out = x[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros_like(x, dtype=g.dtype)
        gx[key] = g
        return (gx,)

    return record(_basic_name(key), out, (a,), backward, saved=(), view_of=a)


@dim_aliases
def select(a: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (that dimension removed); a view."""
    x = a._data
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(x.shape)} at dimension {d}")
    return getitem(a, (slice(None),) * d + (int(index),))


@dim_aliases
def narrow(a: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """Elements start..start+length-1 along ``dim``; a view."""
    x = a._data
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(a, (slice(None),) * d + (slice(start, start + length),))


def _pieces(a: Tensor, bounds: list[int], d: int, name: str) -> tuple[Tensor, ...]:
    x = a._data
    arrays = [x[(slice(None),) * d + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:])]
    shape = x.shape

    def backward(*grads: np.ndarray | None) -> tuple:
        gx = np.zeros(shape, dtype=next(g for g in grads if g is not None).dtype)
        for (lo, hi), g in zip(zip(bounds[:-1], bounds[1:]), grads):
            if g is not None:
                gx[(slice(None),) * d + (slice(lo, hi),)] = g
        return (gx,)

    return tuple(record_many(name, arrays, (a,), backward, saved=(), view_of=a))


@dim_aliases
def split(a: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes; views."""
    x = a._data
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        bounds = list(range(0, n, size)) + [n] if n else [0, 0]
        return _pieces(a, bounds, d, "SplitBackward0")
    sizes = [int(s) for s in split_size_or_sections]
    if sum(sizes) != n:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension {d}), "
            f"but got split_sizes={sizes}"
        )
    return _pieces(a, [0, *np.cumsum(sizes).tolist()], d, "SplitWithSizesBackward0")


@dim_aliases
def chunk(a: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` pieces of equal size ceil(n / chunks) along ``dim``; views."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = a._data.shape[_dim(dim, a._data.ndim)]
    return split(a, max(-(-n // chunks), 1), dim)


@dim_aliases
def unbind(a: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim`` (that dimension removed): one node, UnbindBackward0, as torch."""
    x = a._data
    d = _dim(dim, x.ndim)
    arrays = [x[(slice(None),) * d + (i,)] for i in range(x.shape[d])]
    shape = x.shape

    def backward(*grads: np.ndarray | None) -> tuple:
        gx = np.zeros(shape, dtype=next(g for g in grads if g is not None).dtype)
        for i, g in enumerate(grads):
            if g is not None:
                gx[(slice(None),) * d + (i,)] = g
        return (gx,)

    return tuple(record_many("UnbindBackward0", arrays, (a,), backward, saved=(), view_of=a))


def _index_array(index: Any, name: str) -> np.ndarray:
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    return idx


def _full_index(idx: np.ndarray, d: int) -> tuple:
    """Index arrays that address, for each position of idx, the element idx points to along d."""
    grid = list(np.indices(idx.shape, sparse=True))
    grid[d] = idx
    return tuple(grid)


def _check_bounds(idx: np.ndarray, n: int, d: int) -> None:
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {n}")


@dim_aliases
def gather(a: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j] = a[i][index[i][j]] (for dim 1): values picked along ``dim``; index (…) like a."""
    x = a._data
    d = _dim(dim, x.ndim)
    idx = _index_array(index, "gather")
    if idx.ndim != x.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    _check_bounds(idx, x.shape[d], d)
    full = _full_index(idx, d)
    out = x[full]

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros_like(x, dtype=g.dtype)
        np.add.at(gx, full, g)
        return (gx,)

    return record("GatherBackward0", out, (a,), backward, saved=())


@dim_aliases
def scatter(a: Tensor, dim: int, index: Any, src: Any = None, value: Any = None, reduce: Any = None) -> Tensor:
    """A copy of a with a[i][index[i][j]] = src[i][j] (for dim 1); ``src`` may be a number."""
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported by deeprnn")
    if src is None:
        src = value
    x = a._data
    d = _dim(dim, x.ndim)
    idx = _index_array(index, "scatter")
    _check_bounds(idx, x.shape[d], d)
    full = _full_index(idx, d)
    ts = src if isinstance(src, Tensor) else None
    out = x.copy()
    out[full] = ts._data[tuple(slice(0, n) for n in idx.shape)] if ts is not None else src

    def backward(g: np.ndarray) -> tuple:
        ga = g.copy()
        ga[full] = 0
        gs = None
        if ts is not None:
            gs = np.zeros_like(ts._data, dtype=g.dtype)
            gs[tuple(slice(0, n) for n in idx.shape)] = g[full]
        return ga, gs

    return record("ScatterBackward0" if ts is not None else "ScatterBackward1", out, (a, ts), backward, saved=())


@dim_aliases
def scatter_add(a: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A copy of a with src added at a[i][index[i][j]] (for dim 1); repeated indices add up."""
    x = a._data
    d = _dim(dim, x.ndim)
    idx = _index_array(index, "scatter_add")
    _check_bounds(idx, x.shape[d], d)
    full = _full_index(idx, d)
    region = tuple(slice(0, n) for n in idx.shape)
    out = x.copy()
    np.add.at(out, full, src._data[region])

    def backward(g: np.ndarray) -> tuple:
        gs = np.zeros_like(src._data, dtype=g.dtype)
        gs[region] = g[full]
        return g, gs

    return record("ScatterAddBackward0", out, (a, src), backward, saved=())


@dim_aliases
def index_select(a: Tensor, dim: int, index: Any) -> Tensor:
    """The entries ``index`` (1-D) along ``dim``; repeats allowed."""
    x = a._data
    d = _dim(dim, x.ndim)
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    _check_bounds(idx, x.shape[d] if x.ndim else 1, d)
    out = np.take(x, idx.reshape(-1), axis=d) if x.ndim else x[idx.reshape(-1)]

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros_like(x, dtype=g.dtype)
        np.add.at(np.moveaxis(gx, d, 0), idx.reshape(-1), np.moveaxis(g, d, 0))
        return (gx,)

    return record("IndexSelectBackward0", out, (a,), backward, saved=())


def masked_select(a: Tensor, mask: Any) -> Tensor:
    """The elements where ``mask`` (bool, broadcast with a) is True, as a 1-D tensor."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, but got {m.dtype}")
    x = a._data
    shape = np.broadcast_shapes(x.shape, m.shape)
    xb, mb = np.broadcast_to(x, shape), np.broadcast_to(m, shape)
    out = xb[mb]

    def backward(g: np.ndarray) -> tuple:
        from .function import unbroadcast

        gb = np.zeros(shape, dtype=g.dtype)
        gb[mb] = g
        return (unbroadcast(gb, x.shape),)

    return record("MaskedSelectBackward0", out, (a,), backward, saved=())


def take(a: Tensor, index: Any) -> Tensor:
    """Elements of a, seen as 1-D, at ``index`` (the result has index's shape)."""
    x = a._data
    idx = _index_array(index, "take")
    _check_bounds(idx, x.size, 0)
    out = x.reshape(-1)[idx]

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(x.size, dtype=g.dtype)
        np.add.at(gx, idx, g)
        return (gx.reshape(x.shape),)

    return record("TakeBackward0", out, (a,), backward, saved=())


def take_along_dim(a: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """``gather`` with broadcasting (torch.take_along_dim); dim None works on the flattened tensor."""
    if dim is None:
        return take(a, _index_array(indices, "take_along_dim").reshape(-1))
    return gather(a, dim, indices)
