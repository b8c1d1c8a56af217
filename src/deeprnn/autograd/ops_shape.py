"""Shape operations: reshape/view, transpose/permute, indexing, cat, stack, unbind.

None of them changes a value, so each gradient is the inverse rearrangement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .function import record
from .tensor import Tensor

__all__ = [
    "reshape",
    "transpose",
    "permute",
    "getitem",
    "cat",
    "stack",
    "unbind",
    "squeeze",
    "unsqueeze",
    "flatten",
    "expand",
    "to_dtype",
    "clone",
    "select",
]


def _dim(d: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return d % n


def _shape_arg(shape: Any) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(a: Tensor, *shape: Any) -> Tensor:
    """The same values in a new shape; one size may be -1."""
    x = a._data
    new = _shape_arg(shape)
    try:
        out = x.reshape(new)
    except ValueError as err:
        raise RuntimeError(f"shape '{list(new)}' is invalid for input of size {x.size}") from err
    old = x.shape
    return record("ViewBackward0", out, (a,), lambda g: (g.reshape(old),))


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    s = a._data.shape
    if len(s) == 0:
        return reshape(a, 1)
    i, j = _dim(start_dim, len(s)), _dim(end_dim, len(s))
    return reshape(a, *s[:i], -1, *s[j + 1 :])


def squeeze(a: Tensor, dim: int | None = None) -> Tensor:
    """Drop size-1 dimensions (only ``dim`` when given)."""
    s = a._data.shape
    if dim is None:
        return reshape(a, *[n for n in s if n != 1])
    d = _dim(dim, len(s))
    if len(s) == 0 or s[d] != 1:
        return reshape(a, *s)
    return reshape(a, *s[:d], *s[d + 1 :])


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``."""
    s = a._data.shape
    d = _dim(dim, len(s) + 1)
    return reshape(a, *s[:d], 1, *s[d:])


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    x = a._data
    d0, d1 = _dim(dim0, x.ndim), _dim(dim1, x.ndim)
    if x.ndim == 0:
        return record("TransposeBackward0", x, (a,), lambda g: (g,))
    return record("TransposeBackward0", np.swapaxes(x, d0, d1), (a,), lambda g: (np.swapaxes(g, d0, d1),))


def permute(a: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions: result dimension i is input dimension dims[i]."""
    x = a._data
    order = tuple(_dim(d, x.ndim) for d in _shape_arg(dims))
    if sorted(order) != list(range(x.ndim)):
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
            f"the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not equal to len(dims) = {len(order)}"
            if len(order) != x.ndim
            else f"permute(): duplicate dims are not allowed, got {list(dims)}"
        )
    inverse = tuple(np.argsort(order))
    return record("PermuteBackward0", np.transpose(x, order), (a,), lambda g: (np.transpose(g, inverse),))


def expand(a: Tensor, *sizes: Any) -> Tensor:
    """Broadcast size-1 dimensions to ``sizes`` (-1 keeps a size), without copying."""
    x = a._data
    new = list(_shape_arg(sizes))
    lead = len(new) - x.ndim
    for i in range(x.ndim):
        if new[lead + i] == -1:
            new[lead + i] = x.shape[i]
    out = np.broadcast_to(x, tuple(new))
    old = x.shape

    def backward(g: np.ndarray) -> tuple:
        from .function import unbroadcast

        return (unbroadcast(g, old),)

    return record("ExpandBackward0", out, (a,), backward)


def _index(idx: Any) -> tuple[Any, bool]:
    """Convert Tensor indices to arrays; tell whether the index is advanced (may repeat)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    conv = []
    advanced = False
    for it in items:
        if isinstance(it, Tensor):
            it = it._data
        if isinstance(it, (list, np.ndarray)):
            advanced = True
            it = np.asarray(it)
        conv.append(it)
    return (tuple(conv) if isinstance(idx, tuple) else conv[0]), advanced


def getitem(a: Tensor, idx: Any) -> Tensor:
    """``a[idx]``: basic and advanced NumPy indexing; the gradient is scattered back (summed on repeats)."""
    x = a._data
    key, advanced = _index(idx)
    try:
        out = x[key]
    except IndexError as err:
        raise IndexError(str(err)) from err
    out = np.array(out) if advanced else np.asarray(out)

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros_like(x)
        if advanced:
            np.add.at(gx, key, g)
        else:
            gx[key] = g
        return (gx,)

    return record("IndexBackward0" if advanced else "SliceBackward0", out, (a,), backward)


def select(a: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (that dimension removed)."""
    d = _dim(dim, a._data.ndim)
    return getitem(a, (slice(None),) * d + (index,))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    xs = [t._data for t in tensors]
    d = _dim(dim, xs[0].ndim)
    for i, x in enumerate(xs[1:], 1):
        if x.ndim != xs[0].ndim or x.shape[:d] + x.shape[d + 1 :] != xs[0].shape[:d] + xs[0].shape[d + 1 :]:
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {d}. Expected size "
                f"{list(xs[0].shape)} but got size {list(x.shape)} for tensor number {i} in the list."
            )
    out = np.concatenate(xs, axis=d)
    cuts = np.cumsum([x.shape[d] for x in xs])[:-1]
    return record("CatBackward0", out, tensors, lambda g: tuple(np.split(g, cuts, axis=d)))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equally shaped tensors along a new dimension."""
    tensors = list(tensors)
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
    out = np.stack(xs, axis=d)
    return record("StackBackward0", out, tensors, lambda g: tuple(np.take(g, i, axis=d) for i in range(len(xs))))


def unbind(a: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into the slices along ``dim`` (that dimension removed)."""
    d = _dim(dim, a._data.ndim)
    return tuple(select(a, d, i) for i in range(a._data.shape[d]))


def to_dtype(a: Tensor, dtype: Any) -> Tensor:
    """Cast to ``dtype``; the gradient is cast back."""
    x = a._data
    if x.dtype == dtype:
        return a
    old = x.dtype
    return record("ToCopyBackward0", x.astype(dtype), (a,), lambda g: (g.astype(old),))


def clone(a: Tensor) -> Tensor:
    """A copy that stays in the graph."""
    return record("CloneBackward0", a._data.copy(), (a,), lambda g: (g,))
