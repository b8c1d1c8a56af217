"""Operators and op methods of ``Tensor`` (``a + b``, ``a @ b``, ``a.sum(1)``, ``a[0]``, ``a += b``, ...).

Each method dispatches to the function of the same name in an ``ops_*`` module, so the
maths lives in one place; in-place methods are in ``ops_inplace``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ops_compare as C
from . import ops_index as X
from . import ops_inplace as I
from . import ops_join as J
from . import ops_linalg as L
from . import ops_math as M
from . import ops_misc as MI
from . import ops_pointwise as P
from . import ops_reduce as R
from . import ops_shape as S
from . import ops_softmax as F
from . import ops_sort as O
from . import ops_stats as ST
from .aliases import dim_aliases
from .dtypes import as_dtype, torch_type_name
from .random import resolve
from .tensor import Tensor
from .tensor_convert import methods as _convert_methods
from .tensor_convert import properties as _properties

__all__ = ["attach"]

_SIG = "Tensor other, *, Number alpha = 1"


def _add(a: Tensor, other: Any, *args: Any, alpha: Any = 1) -> Tensor:
    """a + alpha * other (``a.add(number, tensor)``: torch's deprecated overload, with its warning)."""
    other, alpha = I.legacy_alpha("add", other, args, alpha, ("Number alpha, Tensor other", _SIG))
    return M.add(a, other, alpha)


def _sub(a: Tensor, other: Any, *args: Any, alpha: Any = 1) -> Tensor:
    """a - alpha * other (``a.sub(number, tensor)`` warns, as torch)."""
    other, alpha = I.legacy_alpha("sub", other, args, alpha, ("Number alpha, Tensor other", _SIG))
    return M.sub(a, other, alpha)


def _matmul_operand(b: Any) -> Tensor:
    from .creation import tensor

    return b if isinstance(b, Tensor) else tensor(b)


_NUMERIC = (Tensor, np.ndarray, int, float, bool, np.generic, list, tuple)


def _binary(fn: Any, reflected: bool = False) -> Any:
    def op(a: Tensor, b: Any) -> Any:
        if not isinstance(b, _NUMERIC):
            return NotImplemented
        return fn(b, a) if reflected else fn(a, b)

    return op


_operators = {
    "__add__": _binary(M.add),
    "__radd__": _binary(M.add, True),
    "__sub__": _binary(M.sub),
    "__rsub__": _binary(M.rsub),
    "__mul__": _binary(M.mul),
    "__rmul__": _binary(M.mul, True),
    "__truediv__": _binary(M.div),
    "__rtruediv__": _binary(M.div, True),
    "__floordiv__": _binary(P.floor_divide),
    "__rfloordiv__": _binary(P.floor_divide, True),
    "__mod__": _binary(P.remainder),
    "__rmod__": _binary(P.remainder, True),
    "__pow__": _binary(M.pow),
    "__rpow__": _binary(M.pow, True),
    "__matmul__": lambda a, b: L.matmul(a, _matmul_operand(b)),
    "__rmatmul__": lambda a, b: L.matmul(_matmul_operand(b), a),
    "__eq__": _binary(C.eq),
    "__ne__": _binary(C.ne),
    "__lt__": _binary(C.lt),
    "__le__": _binary(C.le),
    "__gt__": _binary(C.gt),
    "__ge__": _binary(C.ge),
    "__neg__": M.neg,
    "__pos__": lambda a: a,
    "__abs__": M.abs,
    "__getitem__": X.getitem,
    "__setitem__": I.setitem,
}


def _bitwise(ufunc: Any) -> Any:
    def op(a: Tensor, b: Any) -> Tensor:
        ob = b._data if isinstance(b, Tensor) else b
        if a._data.dtype.kind == "f" or np.result_type(ob).kind == "f":
            raise RuntimeError(f"\"{ufunc.__name__}_cpu\" not implemented for '{torch_type_name(a._data.dtype)}'")
        return Tensor._wrap(np.asarray(ufunc(a._data, ob)))

    return op


for _name, _uf in {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}.items():
    _op = _bitwise(_uf)
    _operators[f"__{_name}__"] = _operators[f"__r{_name}__"] = _operators[f"bitwise_{_name}"] = _op


def _invert(a: Tensor) -> Tensor:
    if a._data.dtype.kind == "f":
        raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for '{torch_type_name(a._data.dtype)}'")
    return Tensor._wrap(np.invert(a._data))


_operators["__invert__"] = _invert


def _view(self: Tensor, *shape: Any) -> Tensor:
    """The same memory with a new shape (torch's error when the strides forbid it). ``view(dtype)``
    reinterprets the bytes, as torch does: a different element size scales the last dimension,
    and no gradient flows (even to the same dtype, as in torch); the result shares the version counter."""
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
        out = Tensor._wrap(np.ascontiguousarray(data).view(new))
        out._vc = self._vc
        return out
    return S.view(self, *shape)


def _fill(name: str, draw: Any) -> Any:
    def method(self: Tensor, *args: Any, generator: Any = None) -> Tensor:
        return I.random_fill_(self, draw(resolve(generator), self._data.shape, *args), name)

    return method


def _squeeze_(self: Tensor, dim: Any = None) -> Tensor:
    """Drop size-1 dimensions in place (only ``dim`` when given)."""
    new = S.squeeze(Tensor._wrap(self._data), dim)._data
    return I.reshape_(self, new, "SqueezeBackward0" if dim is None else "SqueezeBackward1")


def _unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``, in place."""
    return I.reshape_(self, S.unsqueeze(Tensor._wrap(self._data), dim)._data, "UnsqueezeBackward1")


def _t_(self: Tensor) -> Tensor:
    """Transpose a matrix in place."""
    return I.reshape_(self, S.t(Tensor._wrap(self._data))._data, "TBackward1")


def _transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions in place."""
    return I.reshape_(self, S.transpose(Tensor._wrap(self._data), dim0, dim1)._data, "TransposeBackward1")


@dim_aliases
def _softmax(a: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return F.softmax(a, dim, dtype=dtype)


@dim_aliases
def _log_softmax(a: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return F.log_softmax(a, dim, dtype=dtype)


_methods: dict[str, Any] = {
    # in place
    "add_": I.add_,
    "sub_": I.sub_,
    "mul_": I.mul_,
    "div_": I.div_,
    "pow_": I.pow_,
    "neg_": I.neg_,
    "zero_": I.zero_,
    "fill_": I.fill_,
    "copy_": I.copy_,
    "clamp_": I.clamp_,
    "clip_": I.clamp_,
    "clamp_min_": lambda a, m: I.clamp_(a, m, None),
    "clamp_max_": lambda a, m: I.clamp_(a, None, m),
    "masked_fill_": I.masked_fill_,
    "scatter_": I.scatter_,
    "relu_": lambda a: I.unary_(a, "relu"),
    "tanh_": lambda a: I.unary_(a, "tanh"),
    "sigmoid_": lambda a: I.unary_(a, "sigmoid"),
    "exp_": lambda a: I.unary_(a, "exp"),
    "sqrt_": lambda a: I.unary_(a, "sqrt"),
    "log_": lambda a: I.unary_(a, "log"),
    "abs_": lambda a: I.unary_(a, "abs"),
    "uniform_": _fill("UniformBackward0", lambda rng, shape, a=0.0, b=1.0: rng.uniform(a, b, shape)),
    "normal_": _fill("NormalBackward0", lambda rng, shape, mean=0.0, std=1.0: rng.normal(mean, std, shape)),
    "bernoulli_": _fill("BernoulliBackward0", lambda rng, shape, p=0.5: rng.random(shape) < p),
    "squeeze_": _squeeze_,
    "unsqueeze_": _unsqueeze_,
    "t_": _t_,
    "transpose_": _transpose_,
    "__iadd__": I.add_,
    "__isub__": I.sub_,
    "__imul__": I.mul_,
    "__itruediv__": I.div_,
    "__ipow__": I.pow_,
    # arithmetic and element-wise
    "add": _add,
    "sub": _sub,
    "subtract": _sub,
    "mul": M.mul,
    "multiply": M.mul,
    "div": M.div,
    "divide": M.div,
    "true_divide": M.div,
    "pow": M.pow,
    "neg": M.neg,
    "negative": M.neg,
    "tanh": M.tanh,
    "relu": M.relu,
    "sigmoid": M.sigmoid,
    "exp": M.exp,
    "log": M.log,
    "sqrt": M.sqrt,
    "abs": M.abs,
    "absolute": M.abs,
    "clamp": M.clamp,
    "clip": M.clamp,
    "clamp_min": lambda a, m: M.clamp(a, m, None),
    "clamp_max": lambda a, m: M.clamp(a, None, m),
    "maximum": M.maximum,
    "minimum": M.minimum,
    "sign": P.sign,
    "floor": P.floor,
    "ceil": P.ceil,
    "round": P.round,
    "trunc": P.trunc,
    "frac": P.frac,
    "fmod": P.fmod,
    "remainder": P.remainder,
    "floor_divide": P.floor_divide,
    "reciprocal": P.reciprocal,
    "rsqrt": P.rsqrt,
    "square": P.square,
    "log1p": P.log1p,
    "expm1": P.expm1,
    "log2": P.log2,
    "log10": P.log10,
    "sin": P.sin,
    "cos": P.cos,
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "masked_fill": lambda a, mask, value: I.masked_fill_(S.clone(a), mask, value),
    "where": lambda a, cond, other: M.where(cond, a, other),
    # comparison and logic
    "eq": C.eq,
    "ne": C.ne,
    "lt": C.lt,
    "le": C.le,
    "gt": C.gt,
    "ge": C.ge,
    "greater": C.gt,
    "less": C.lt,
    "isnan": C.isnan,
    "isinf": C.isinf,
    "isfinite": C.isfinite,
    "logical_and": C.logical_and,
    "logical_or": C.logical_or,
    "logical_xor": C.logical_xor,
    "logical_not": C.logical_not,
    "nonzero": C.nonzero,
    "count_nonzero": C.count_nonzero,
    "equal": C.equal,
    "allclose": C.allclose,
    "isclose": C.isclose,
    # reductions
    "sum": R.sum,
    "mean": R.mean,
    "prod": R.prod,
    "max": R.max,
    "min": R.min,
    "amax": R.amax,
    "amin": R.amin,
    "argmax": R.argmax,
    "argmin": R.argmin,
    "all": R.all,
    "any": R.any,
    "logsumexp": R.logsumexp,
    "std": ST.std,
    "var": ST.var,
    "norm": ST.norm,
    "sort": O.sort,
    "argsort": O.argsort,
    "topk": O.topk,
    "median": O.median,
    "cumsum": O.cumsum,
    "cumprod": O.cumprod,
    # products
    "matmul": L.matmul,
    "mm": L.mm,
    "dot": L.dot,
    "mv": L.mv,
    "bmm": L.bmm,
    "outer": L.outer,
    "tril": L.tril,
    "tan": MI.tan,
    "sinh": MI.sinh,
    "cosh": MI.cosh,
    "erf": MI.erf,
    "lerp": MI.lerp,
    "addmm": MI.addmm,
    "diag": MI.diag,
    "repeat_interleave": MI.repeat_interleave,
    "unique": MI.unique,
    "broadcast_to": MI.broadcast_to,
    "index_add_": MI.index_add_,
    "index_fill_": MI.index_fill_,
    "addcmul_": MI.addcmul_,
    "addcdiv_": MI.addcdiv_,
    "triu": L.triu,
    "data_ptr": lambda a: int(a._data.__array_interface__["data"][0]),
    "__contains__": lambda a, v: bool((a._data == (v._data if isinstance(v, Tensor) else v)).any()),
    # shape
    "view": _view,
    "reshape": S.reshape,
    "view_as": lambda a, b: S.view(a, *b._data.shape),
    "reshape_as": lambda a, b: S.reshape(a, *b._data.shape),
    "flatten": S.flatten,
    "unflatten": S.unflatten,
    "squeeze": S.squeeze,
    "unsqueeze": S.unsqueeze,
    "transpose": S.transpose,
    "swapaxes": S.transpose,
    "permute": S.permute,
    "movedim": S.movedim,
    "expand": S.expand,
    "expand_as": S.expand_as,
    "clone": S.clone,
    "t": S.t,
    "repeat": J.repeat,
    "tile": J.tile,
    "flip": J.flip,
    "roll": J.roll,
    # indexing
    "select": X.select,
    "unbind": X.unbind,
    "narrow": X.narrow,
    "split": X.split,
    "chunk": X.chunk,
    "gather": X.gather,
    "scatter": X.scatter,
    "scatter_add": X.scatter_add,
    "index_select": X.index_select,
    "masked_select": X.masked_select,
    "take": X.take,
    "take_along_dim": X.take_along_dim,
}


def attach() -> None:
    """Give Tensor its operators and op methods (called once, by ``deeprnn.autograd``)."""
    for name, fn in {**_operators, **_methods, **_convert_methods}.items():
        setattr(Tensor, name, fn)
    for name, prop in _properties.items():
        setattr(Tensor, name, prop)
