"""Shape operations: reshape/view, transpose/permute, squeeze/unsqueeze, expand, casts, clone.

None of them changes a value, so each gradient is the inverse rearrangement. Those that
return a NumPy view return a deeprnn view (shared memory and version counter), as torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .aliases import dim_aliases
from .dtypes import as_dtype
from .function import record, unbroadcast
from .tensor import Tensor

__all__ = [
    "reshape",
    "view",
    "transpose",
    "t",
    "permute",
    "squeeze",
    "unsqueeze",
    "flatten",
    "unflatten",
    "expand",
    "expand_as",
    "to_dtype",
    "clone",
    "contiguous",
    "movedim",
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


def _new_shape(x: np.ndarray, shape: Any) -> tuple[int, ...]:
    new = _shape_arg(shape)
    known = int(np.prod([s for s in new if s != -1]))
    if new.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if (
        any(s < -1 for s in new)
        or (-1 not in new and known != x.size)
        or (-1 in new and (known == 0 or x.size % known))
    ):
        raise RuntimeError(f"shape '{list(new)}' is invalid for input of size {x.size}")
    return new


def reshape(a: Tensor, *shape: Any) -> Tensor:
    """The same values in a new shape; one size may be -1. A view when the memory allows, else a copy."""
    x = a._data
    out = x.reshape(_new_shape(x, shape))
    old = x.shape
    if np.may_share_memory(out, x):
        return record("ViewBackward0", out, (a,), lambda g: (g.reshape(old),), saved=(), view_of=a)
    return record("UnsafeViewBackward0", out, (a,), lambda g: (g.reshape(old),), saved=())


def view(a: Tensor, *shape: Any) -> Tensor:
    """The same memory in a new shape; torch's error when the strides do not allow it."""
    x = a._data
    new = _new_shape(x, shape)
    try:
        out = np.reshape(x, new, copy=False)
    except ValueError as err:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead."
        ) from err
    old = x.shape
    return record("ViewBackward0", out, (a,), lambda g: (g.reshape(old),), saved=(), view_of=a)


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    s = a._data.shape
    if len(s) == 0:
        return reshape(a, 1)
    i, j = _dim(start_dim, len(s)), _dim(end_dim, len(s))
    if i > j:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if i == j:
        return a
    return reshape(a, *s[:i], -1, *s[j + 1 :])


def unflatten(a: Tensor, dim: int, sizes: Any) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1)."""
    s = a._data.shape
    d = _dim(dim, len(s))
    return view(a, *s[:d], *sizes, *s[d + 1 :])


def _reshape_named(a: Tensor, new: tuple[int, ...], name: str) -> Tensor:
    x = a._data
    old = x.shape
    return record(name, x.reshape(new), (a,), lambda g: (g.reshape(old),), saved=(), view_of=a)


@dim_aliases
def squeeze(a: Tensor, dim: Any = None) -> Tensor:
    """Drop size-1 dimensions (only those in ``dim``, an int or a tuple, when given)."""
    s = a._data.shape
    if dim is None:
        return _reshape_named(a, tuple(n for n in s if n != 1), "SqueezeBackward0")
    dims = {_dim(d, len(s)) for d in ((dim,) if isinstance(dim, int) else dim)}
    new = tuple(n for i, n in enumerate(s) if not (i in dims and n == 1))
    return _reshape_named(a, new, "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2")


@dim_aliases
def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``."""
    s = a._data.shape
    d = _dim(dim, len(s) + 1)
    return _reshape_named(a, (*s[:d], 1, *s[d:]), "UnsqueezeBackward0")


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    x = a._data
    d0, d1 = _dim(dim0, x.ndim), _dim(dim1, x.ndim)
    out = np.swapaxes(x, d0, d1) if x.ndim else x.view()
    return record(
        "TransposeBackward0", out, (a,), lambda g: (np.swapaxes(g, d0, d1) if g.ndim else g,), saved=(), view_of=a
    )


def t(a: Tensor) -> Tensor:
    """Transpose a matrix (a tensor of at most 2 dimensions)."""
    x = a._data
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return record("TBackward0", x.T, (a,), lambda g: (g.T,), saved=(), view_of=a)


def permute(a: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions: result dimension i is input dimension dims[i]."""
    x = a._data
    order = tuple(_dim(d, x.ndim) for d in _shape_arg(dims))
    if len(order) != x.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
            f"the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not equal to len(dims) = {len(order)}"
        )
    if sorted(order) != list(range(x.ndim)):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    inverse = tuple(int(i) for i in np.argsort(order))
    return record(
        "PermuteBackward0", np.transpose(x, order), (a,), lambda g: (np.transpose(g, inverse),), saved=(), view_of=a
    )


def movedim(a: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dimension(s) ``source`` to position(s) ``destination``."""
    x = a._data
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_dim(d, x.ndim) for d in src]
    dst = [_dim(d, x.ndim) for d in dst]
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same number "
            f"of dims as destination ({dst} dims)"
        )
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(a, *order)


def expand(a: Tensor, *sizes: Any) -> Tensor:
    """Broadcast size-1 dimensions to ``sizes`` (-1 keeps a size), without copying."""
    x = a._data
    new = list(_shape_arg(sizes))
    lead = len(new) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(x.shape)}}}, size={new}): the number of sizes provided "
            f"({len(new)}) must be greater or equal to the number of dimensions in the tensor ({x.ndim})"
        )
    for i in range(x.ndim):
        if new[lead + i] == -1:
            new[lead + i] = x.shape[i]
        elif x.shape[i] != 1 and new[lead + i] != x.shape[i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({new[lead + i]}) must match the existing size "
                f"({x.shape[i]}) at non-singleton dimension {lead + i}.  Target sizes: {list(_shape_arg(sizes))}.  "
                f"Tensor sizes: {list(x.shape)}"
            )
    out = np.broadcast_to(x, tuple(new))
    old = x.shape
    return record("ExpandBackward0", out, (a,), lambda g: (unbroadcast(g, old),), saved=(), view_of=a)


def expand_as(a: Tensor, other: Tensor) -> Tensor:
    """``expand`` to the shape of ``other``."""
    return expand(a, *other._data.shape)


def to_dtype(a: Tensor, dtype: Any, copy: bool = False) -> Tensor:
    """Cast to ``dtype`` (the same tensor when it already has it, unless ``copy``); the gradient is cast back."""
    x = a._data
    dtype = as_dtype(dtype)
    if x.dtype == dtype and not copy:
        return a
    old = x.dtype
    return record("ToCopyBackward0", x.astype(dtype), (a,), lambda g: (g.astype(old),), saved=())


def clone(a: Tensor, memory_format: Any = None) -> Tensor:
    """A copy that stays in the graph."""
    return record("CloneBackward0", a._data.copy(), (a,), lambda g: (g,), saved=())


def contiguous(a: Tensor, memory_format: Any = None) -> Tensor:
    """This tensor if its memory is C-contiguous, else a contiguous copy (CloneBackward0)."""
    if a._data.flags.c_contiguous:
        return a
    return record("CloneBackward0", np.ascontiguousarray(a._data), (a,), lambda g: (g,), saved=())
