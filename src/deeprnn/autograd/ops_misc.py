"""Less common tensor functions that programs still call: tan/sinh/cosh/erf, lerp, addmm, diag,
repeat_interleave, unique, broadcast_to/broadcast_tensors, hstack/vstack, meshgrid, logspace,
empty_like, masked_fill, and the in-place index_add_/index_fill_/addcmul_/addcdiv_.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import inplace
from .dtypes import get_default_dtype, is_floating
from .function import record
from .ops_index import _check_bounds, _index_array
from .ops_join import cat
from .ops_linalg import matmul
from .ops_math import _grad_to, _value, add, mul
from .ops_shape import _dim, expand, unsqueeze
from .tensor import Tensor

__all__ = [
    "tan",
    "sinh",
    "cosh",
    "erf",
    "lerp",
    "addmm",
    "diag",
    "repeat_interleave",
    "unique",
    "broadcast_to",
    "broadcast_tensors",
    "hstack",
    "vstack",
    "meshgrid",
    "logspace",
    "empty_like",
    "masked_fill",
    "index_add_",
    "index_fill_",
    "addcmul_",
    "addcdiv_",
]


def _unary(name: str, a: Tensor, fn: Any, grad: Any) -> Tensor:
    x = a._data if is_floating(a._data.dtype) else a._data.astype(get_default_dtype())
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(fn(x), dtype=x.dtype)
    return record(name, out, (a,), lambda g: (grad(g, x, out).astype(x.dtype, copy=False),), saved=(a,))


def tan(a: Tensor) -> Tensor:
    """tan(a); derivative 1 + tan^2."""
    return _unary("TanBackward0", a, np.tan, lambda g, x, y: g * (1 + y * y))


def sinh(a: Tensor) -> Tensor:
    """sinh(a); derivative cosh(a)."""
    return _unary("SinhBackward0", a, np.sinh, lambda g, x, y: g * np.cosh(x))


def cosh(a: Tensor) -> Tensor:
    """cosh(a); derivative sinh(a)."""
    return _unary("CoshBackward0", a, np.cosh, lambda g, x, y: g * np.sinh(x))


_erf = np.frompyfunc(math.erf, 1, 1)


def erf(a: Tensor) -> Tensor:
    """The error function; derivative 2/sqrt(pi) exp(-a^2)."""
    return _unary(
        "ErfBackward0",
        a,
        lambda x: _erf(x).astype(x.dtype),
        lambda g, x, y: g * (2 / math.sqrt(math.pi)) * np.exp(-x * x),
    )


def lerp(start: Tensor, end: Any, weight: Any) -> Tensor:
    """start + weight * (end - start)."""
    return add(start, mul(weight, add(end, start, alpha=-1)))


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2)."""
    prod = matmul(mat1, mat2)
    return add(input if beta == 1 else mul(input, beta), prod if alpha == 1 else mul(prod, alpha))


def diag(a: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor to a square matrix with it on ``diagonal``; a matrix to its ``diagonal`` (1-D)."""
    x = a._data
    if x.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    out = np.diag(x, diagonal).copy()
    shape = x.shape

    def backward(g: np.ndarray) -> tuple:
        if len(shape) == 1:
            return (np.diag(g, diagonal).copy(),)
        gx = np.zeros(shape, dtype=g.dtype)
        r = np.arange(len(g))
        gx[r + max(-diagonal, 0), r + max(diagonal, 0)] = g
        return (gx,)

    return record("DiagEmbedBackward0" if x.ndim == 1 else "DiagonalBackward0", out, (a,), backward, saved=())


def repeat_interleave(a: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (an int or one count per element) along ``dim`` (flattened if None)."""
    x = a._data if dim is not None else a._data.reshape(-1)
    d = 0 if dim is None else _dim(dim, x.ndim)
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    out = np.repeat(x, reps, axis=d)
    n = x.shape[d]
    counts = np.broadcast_to(reps, (n,))
    owner = np.repeat(np.arange(n), counts)  # source index of each output position along d
    shape = a._data.shape

    def backward(g: np.ndarray) -> tuple:
        gx = np.zeros(x.shape, dtype=g.dtype)
        np.add.at(np.moveaxis(gx, d, 0), owner, np.moveaxis(g, d, 0))
        return (gx.reshape(shape),)

    return record("RepeatInterleaveBackward0", out, (a,), backward, saved=())


def unique(
    a: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
) -> Any:  # noqa: A002
    """The distinct values (sorted), optionally with each element's index into them and their counts."""
    if dim is not None:
        raise NotImplementedError("unique(dim=...) is not supported by deeprnn")
    vals, inverse, counts = np.unique(a._data, return_inverse=True, return_counts=True)
    out: list[Tensor] = [Tensor._wrap(vals)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(a._data.shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def broadcast_to(a: Tensor, size: Any) -> Tensor:
    """``a`` expanded to ``size`` (a view)."""
    return expand(a, *size)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape."""
    shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, *shape) for t in tensors)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    tensors = list(tensors)
    return cat(tensors, 0 if tensors and tensors[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate along dim 0, 1-D tensors taken as rows."""
    return cat([unsqueeze(t, 0) if t._data.ndim < 2 else t for t in tensors], 0)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (``indexing`` 'ij' or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of 'xy' or 'ij', but received: {indexing}")
    n = len(tensors)
    sizes = [t._data.size for t in tensors]
    grids = []
    for i, t in enumerate(tensors):  # 'ij': tensor i varies along dimension i
        shape = [1] * n
        shape[i] = sizes[i]
        grids.append(expand(t.reshape(*shape), *sizes))
    if indexing == "xy" and n >= 2:  # 'xy': the first two dimensions swapped
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


def logspace(
    start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None, device: Any = None
) -> Tensor:
    """``steps`` values base**x for x evenly spaced from start to end."""
    from .creation import _dtype, _make

    return _make(np.logspace(start, end, steps, base=base).astype(_dtype(dtype)), False, device)


def empty_like(
    t: Tensor, *, dtype: Any = None, requires_grad: bool = False, device: Any = None, **kwargs: Any
) -> Tensor:
    """A tensor shaped like t (zero-filled here, for reproducibility)."""
    from .creation import zeros_like

    return zeros_like(t, dtype=dtype, requires_grad=requires_grad, device=device)


def masked_fill(a: Tensor, mask: Any, value: Any) -> Tensor:
    """A copy of a with ``value`` where ``mask`` is True."""
    from .ops_inplace import masked_fill_
    from .ops_shape import clone

    return masked_fill_(clone(a), mask, value)


def index_add_(self: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """self[..., index[i], ...] += alpha * source[..., i, ...] along ``dim`` (repeats add up)."""
    d = _dim(dim, self._data.ndim)
    idx = _index_array(index, "index_add_").reshape(-1)
    _check_bounds(idx, self._data.shape[d], d)
    track = inplace.begin(self, source)
    src = source._data if alpha == 1 else source._data * alpha
    np.add.at(np.moveaxis(self._data, d, 0), idx, np.moveaxis(src.astype(self._data.dtype, copy=False), d, 0))
    sshape = source._data.shape

    def backward(g: np.ndarray) -> tuple:
        gs = np.moveaxis(np.moveaxis(g, d, 0)[idx], 0, d) * alpha
        return g, _grad_to(np.ascontiguousarray(gs), source, sshape)

    return inplace.finish(self, track, "IndexAddBackward0", (source,), backward, saved=())


def index_fill_(self: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """Set the entries ``index`` along ``dim`` to ``value``."""
    d = _dim(dim, self._data.ndim)
    idx = _index_array(index, "index_fill_").reshape(-1)
    _check_bounds(idx, self._data.shape[d], d)
    track = inplace.begin(self)
    key = (slice(None),) * d + (idx,)
    self._data[key] = _value(value)

    def backward(g: np.ndarray) -> tuple:
        gs = g.copy()
        gs[key] = 0
        return (gs,)

    return inplace.finish(self, track, "IndexFillBackward0", (), backward, saved=())


def addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """self += value * tensor1 * tensor2 (in place)."""
    from .ops_inplace import add_

    return add_(self, mul(mul(tensor1, tensor2), value))


def addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """self += value * tensor1 / tensor2 (in place)."""
    from .ops_inplace import add_
    from .ops_math import div

    return add_(self, mul(div(tensor1, tensor2), value))
