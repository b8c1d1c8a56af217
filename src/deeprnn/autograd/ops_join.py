"""Joining and tiling: cat, stack, repeat, tile, flip, roll. Each gradient undoes the layout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .aliases import dim_aliases
from .dtypes import result_type
from .function import record
from .ops_shape import _dim, _shape_arg
from .tensor import Tensor

__all__ = ["cat", "stack", "repeat", "tile", "flip", "roll"]


def _tensor_list(tensors: Sequence[Tensor], name: str) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {tensors.index(t)} in argument 0, but got {type(t).__name__}")
    return tensors


def _cast_back(gs: Sequence[np.ndarray], tensors: Sequence[Tensor]) -> tuple:
    return tuple(g.astype(t._data.dtype, copy=False) for g, t in zip(gs, tensors))


@dim_aliases
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing dimension (dtypes promoted; 1-D empty tensors are skipped, as torch)."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    d_out = result_type(*(t._data for t in tensors if t._data.ndim)) if any(t._data.ndim for t in tensors) else None
    if any(t._data.ndim == 0 for t in tensors):
        i = next(i for i, t in enumerate(tensors) if t._data.ndim == 0)
        raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    used = [t for t in tensors if not (t._data.ndim == 1 and t._data.size == 0)] or tensors[:1]
    xs = [t._data for t in used]
    d = _dim(dim, xs[0].ndim)
    for i, x in enumerate(xs[1:], 1):
        if x.ndim != xs[0].ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {xs[0].ndim} and {x.ndim}")
        for j in range(x.ndim):
            if j != d and x.shape[j] != xs[0].shape[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {xs[0].shape[j]} "
                    f"but got size {x.shape[j]} for tensor number {i} in the list."
                )
    out = np.concatenate(xs, axis=d, dtype=d_out)
    cuts = np.cumsum([x.shape[d] for x in xs])[:-1]
    return record("CatBackward0", out, used, lambda g: _cast_back(np.split(g, cuts, axis=d), used), saved=())


@dim_aliases
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equally shaped tensors along a new dimension."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    xs = [t._data for t in tensors]
    for i, x in enumerate(xs[1:], 1):
        if x.shape != xs[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(xs[0].shape)} at entry 0 "
                f"and {list(x.shape)} at entry {i}"
            )
    d = _dim(dim, xs[0].ndim + 1)
    out = np.stack(xs, axis=d, dtype=result_type(*xs))
    n = len(xs)
    return record(
        "StackBackward0",
        out,
        tensors,
        lambda g: _cast_back([np.take(g, i, axis=d) for i in range(n)], tensors),
        saved=(),
    )


def repeat(a: Tensor, *sizes: Any) -> Tensor:
    """Tile a ``sizes`` times along each dimension (leading sizes add dimensions)."""
    x = a._data
    reps = _shape_arg(sizes)
    if len(reps) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    lead = len(reps) - x.ndim
    xs = x.reshape((1,) * lead + x.shape)
    out = np.tile(xs, reps)

    def backward(g: np.ndarray) -> tuple:
        # (r0, n0, r1, n1, ...) -> sum over the r axes
        split = []
        for r, n in zip(reps, xs.shape):
            split += [r, n]
        gs = g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2)))
        return (gs.reshape(x.shape),)

    return record("RepeatBackward0", out, (a,), backward, saved=())


def tile(a: Tensor, *dims: Any) -> Tensor:
    """``repeat`` that pads ``dims`` with leading ones when shorter than the tensor's dimensions."""
    reps = _shape_arg(dims)
    return repeat(a, *((1,) * (a._data.ndim - len(reps)) + reps))


def flip(a: Tensor, *dims: Any) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as torch)."""
    x = a._data
    axes = tuple(_dim(d, x.ndim) for d in _shape_arg(dims))
    if len(set(axes)) != len(axes):
        raise RuntimeError(
            f"dims has duplicates, original flip dims size={len(axes)}, but unique flip dims size={len(set(axes))}"
        )
    out = np.flip(x, axes).copy()
    return record("FlipBackward0", out, (a,), lambda g: (np.flip(g, axes),), saved=())


def roll(a: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (over the flattened tensor when None)."""
    x = a._data
    if dims is None:
        out = np.roll(x.reshape(-1), shifts).reshape(x.shape)
        return record(
            "RollBackward0",
            out,
            (a,),
            lambda g: (np.roll(g.reshape(-1), -np.asarray(shifts)).reshape(x.shape),),
            saved=(),
        )
    sh = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    ds = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(_dim(d, x.ndim) for d in ds)
    out = np.roll(x, sh, axes)
    return record("RollBackward0", out, (a,), lambda g: (np.roll(g, tuple(-s for s in sh), axes),), saved=())
