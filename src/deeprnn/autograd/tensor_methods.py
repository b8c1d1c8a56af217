"""Operators and op methods of ``Tensor`` (``a + b``, ``a @ b``, ``a.sum(1)``, ``a[0]``, in-place updates).

Each method dispatches to the function of the same name in an ``ops_*`` module, so the
maths lives in one place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops_linalg as L
from . import ops_math as M
from . import ops_reduce as R
from . import ops_shape as S
from .dtypes import as_dtype, torch_type_name
from .grad_mode import is_grad_enabled
from .tensor import Tensor, as_array

__all__: list[str] = []


def _inplace_check(t: Tensor) -> None:
    if is_grad_enabled() and t.requires_grad:
        if t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        raise RuntimeError(
            "in-place operations on tensors that are part of the autograd graph are not supported "
            "by deeprnn; use the out-of-place form or wrap the update in deeprnn.no_grad()"
        )


def _other(o: Any, like: np.ndarray) -> Any:
    return o._data if isinstance(o, Tensor) else o


def _make_inplace(ufunc: Any) -> Any:
    def op(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
        _inplace_check(self)
        o = _other(other, self._data)
        if alpha != 1:
            o = np.multiply(o, alpha)
        ufunc(self._data, o, out=self._data, casting="same_kind")
        return self

    return op


_binary = {
    "__add__": lambda a, b: M.add(a, b),
    "__radd__": lambda a, b: M.add(b, a),
    "__sub__": lambda a, b: M.sub(a, b),
    "__rsub__": lambda a, b: M.sub(b, a),
    "__mul__": lambda a, b: M.mul(a, b),
    "__rmul__": lambda a, b: M.mul(b, a),
    "__truediv__": lambda a, b: M.div(a, b),
    "__rtruediv__": lambda a, b: M.div(b, a),
    "__pow__": lambda a, b: M.pow(a, b),
    "__rpow__": lambda a, b: M.pow(b, a),
    "__matmul__": lambda a, b: L.matmul(a, b if isinstance(b, Tensor) else Tensor(b)),
    "__rmatmul__": lambda a, b: L.matmul(b if isinstance(b, Tensor) else Tensor(b), a),
}
for _name, _fn in _binary.items():
    setattr(Tensor, _name, _fn)


def _compare(ufunc: Any) -> Any:
    def op(a: Tensor, b: Any) -> Any:
        if not isinstance(b, (Tensor, np.ndarray, int, float, bool, np.generic, list, tuple)):
            return NotImplemented  # e.g. tensor == "text" is False, as in PyTorch
        return Tensor._wrap(np.asarray(ufunc(a._data, _other(b, a._data))))

    return op


for _name, _uf in {
    "__eq__": np.equal,
    "__ne__": np.not_equal,
    "__lt__": np.less,
    "__le__": np.less_equal,
    "__gt__": np.greater,
    "__ge__": np.greater_equal,
}.items():
    setattr(Tensor, _name, _compare(_uf))
Tensor.eq, Tensor.ne, Tensor.lt, Tensor.gt = Tensor.__eq__, Tensor.__ne__, Tensor.__lt__, Tensor.__gt__

Tensor.__neg__ = lambda a: M.neg(a)
Tensor.__pos__ = lambda a: a
Tensor.__abs__ = lambda a: M.abs(a)
Tensor.__invert__ = lambda a: Tensor._wrap(np.invert(a._data))
Tensor.__and__ = lambda a, b: Tensor._wrap(np.logical_and(a._data, _other(b, a._data)))
Tensor.__or__ = lambda a, b: Tensor._wrap(np.logical_or(a._data, _other(b, a._data)))
Tensor.__getitem__ = lambda a, idx: S.getitem(a, idx)

# In-place arithmetic (for no_grad parameter updates, as in PyTorch).
Tensor.add_ = _make_inplace(np.add)
Tensor.sub_ = _make_inplace(np.subtract)
Tensor.mul_ = _make_inplace(np.multiply)
Tensor.div_ = _make_inplace(np.true_divide)
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_


def __setitem__(self: Tensor, idx: Any, value: Any) -> None:
    _inplace_check(self)
    key, _ = S._index(idx)
    self._data[key] = as_array(value) if not isinstance(value, (int, float)) else value


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    _inplace_check(self)
    self._data[...] = 0
    return self


def fill_(self: Tensor, value: float) -> Tensor:
    """Fill with ``value`` in place."""
    _inplace_check(self)
    self._data[...] = value
    return self


def copy_(self: Tensor, src: Any) -> Tensor:
    """Copy ``src`` (broadcast, cast to this dtype) into this tensor in place."""
    _inplace_check(self)
    arr = as_array(src)
    try:
        np.copyto(self._data, np.broadcast_to(arr, self._data.shape), casting="unsafe")
    except ValueError as err:
        raise RuntimeError(
            f"The size of tensor a ({list(self._data.shape)}) must match the size of tensor b ({list(arr.shape)})"
        ) from err
    return self


def clamp_(self: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Clip the tensor in place to [min, max] (either may be None); returns it."""
    _inplace_check(self)
    np.clip(self._data, min, max, out=self._data)
    return self


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples from U(a, b) in place."""
    from .random import resolve

    _inplace_check(self)
    self._data[...] = resolve(generator).uniform(a, b, self._data.shape)
    return self


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples from N(mean, std^2) in place."""
    from .random import resolve

    _inplace_check(self)
    self._data[...] = resolve(generator).normal(mean, std, self._data.shape)
    return self


def argmax(self: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Indices (int64) of the maxima, over everything or along dim (keepdim keeps it as size 1)."""
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmax(self._data), dtype=np.int64))
    return R.max(self, dim, keepdim).indices


def argmin(self: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Indices (int64) of the minima, over everything or along dim (keepdim keeps it as size 1)."""
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmin(self._data), dtype=np.int64))
    return R.min(self, dim, keepdim).indices


def view(self: Tensor, *shape: Any) -> Tensor:
    """The same data with a new shape, as reshape.  ``view(dtype)`` reinterprets the bytes, as torch
    does: a different element size scales the last dimension, and no gradient flows."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
        data, new = self._data, as_dtype(shape[0])
        old_size, new_size = data.dtype.itemsize, new.itemsize
        if old_size != new_size:
            if data.ndim == 0:
                raise RuntimeError(
                    f"self.dim() cannot be 0 to view {torch_type_name(data.dtype)} as "
                    f"{torch_type_name(new)} (different element sizes)"
                )
            if new_size > old_size and data.shape[-1] % (new_size // old_size):
                raise RuntimeError(
                    f"self.size(-1) must be divisible by {new_size // old_size} to view "
                    f"{torch_type_name(data.dtype)} as {torch_type_name(new)} (different element sizes), "
                    f"but got {data.shape[-1]}"
                )
        return Tensor._wrap(np.ascontiguousarray(data).view(new))
    return S.reshape(self, *shape)


_methods = {
    "__setitem__": __setitem__,
    "zero_": zero_,
    "fill_": fill_,
    "copy_": copy_,
    "clamp_": clamp_,
    "uniform_": uniform_,
    "normal_": normal_,
    "argmax": argmax,
    "argmin": argmin,
    "view": view,
    "add": M.add,
    "sub": M.sub,
    "mul": M.mul,
    "div": M.div,
    "pow": M.pow,
    "neg": M.neg,
    "tanh": M.tanh,
    "relu": M.relu,
    "sigmoid": M.sigmoid,
    "exp": M.exp,
    "log": M.log,
    "sqrt": M.sqrt,
    "abs": M.abs,
    "clamp": M.clamp,
    "clip": M.clamp,
    "maximum": M.maximum,
    "minimum": M.minimum,
    "sum": R.sum,
    "mean": R.mean,
    "max": R.max,
    "min": R.min,
    "amax": R.amax,
    "norm": R.norm,
    "matmul": L.matmul,
    "mm": L.mm,
    "reshape": S.reshape,
    "view_as": lambda a, b: S.reshape(a, *b.shape),
    "reshape_as": lambda a, b: S.reshape(a, *b.shape),
    "flatten": S.flatten,
    "squeeze": S.squeeze,
    "unsqueeze": S.unsqueeze,
    "transpose": S.transpose,
    "permute": S.permute,
    "expand": S.expand,
    "select": S.select,
    "unbind": S.unbind,
    "clone": S.clone,
    "t": lambda a: S.transpose(a, 0, 1) if a._data.ndim == 2 else a,
}
for _name, _fn in _methods.items():
    setattr(Tensor, _name, _fn)
