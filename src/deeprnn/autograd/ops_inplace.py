"""In-place tensor methods: ``add_``, ``mul_``, ``x += y``, ``x[i] = v``, ``zero_``, ``copy_``, ``relu_``, ...

Each one checks torch's rules first (``inplace.begin``), writes into the tensor's memory,
then bumps the version counter and, when autograd is involved, records itself in the graph
(``inplace.finish``). Without autograd (no_grad, optimiser updates, tensors that need no
gradient) the write is a plain in-place NumPy ufunc.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import inplace
from .dtypes import check_inplace_cast, result_type, torch_type_name
from .function import edge_of
from .grad_mode import is_grad_enabled
from .node import Node
from .ops_index import _check_bounds, _full_index, _index, _index_array
from .ops_math import _check_broadcast, _grad_to, _value
from .ops_shape import _dim
from .tensor import Tensor, as_array

__all__ = [
    "add_",
    "sub_",
    "mul_",
    "div_",
    "pow_",
    "neg_",
    "zero_",
    "fill_",
    "copy_",
    "clamp_",
    "masked_fill_",
    "setitem",
    "scatter_",
    "unary_",
    "reshape_",
    "random_fill_",
    "legacy_alpha",
]


_SIG = "Tensor other, *, Number alpha = 1"  # the signature torch's deprecation warning recommends


def legacy_alpha(name: str, other: Any, args: tuple, alpha: Any, signature: tuple[str, str]) -> tuple[Any, Any]:
    """torch's deprecated ``add(number, tensor)`` overloads: (other, alpha), with torch's warning."""
    if not args:
        return other, alpha
    if len(args) != 1 or not isinstance(other, (int, float)) or isinstance(other, bool):
        raise TypeError(f"{name}() takes 1 positional argument (other) and a keyword alpha")
    old, new = signature
    warnings.warn(
        f"This overload of {name} is deprecated:\n\t{name}({old})\n"
        f"Consider using one of the following signatures instead:\n\t{name}({new})",
        UserWarning,
        stacklevel=3,
    )
    return args[0], other


def _check_binary(self: Tensor, o: Any) -> None:
    """torch's errors for an in-place binary op: the result's dtype and shape must fit self."""
    check_inplace_cast(result_type(self._data, o), self._data.dtype)
    _check_broadcast(self._data, o)
    shape = np.broadcast_shapes(self._data.shape, np.shape(o))
    if shape != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape {list(shape)}"
        )


def _other(other: Any) -> tuple[Tensor | None, Any]:
    return (other if isinstance(other, Tensor) else None), _value(other)


def add_(self: Tensor, other: Any, *args: Any, alpha: Any = 1) -> Tensor:
    """self += alpha * other."""
    other, alpha = legacy_alpha("add_", other, args, alpha, ("Number alpha, Tensor other", _SIG))
    ot, o = _other(other)
    _check_binary(self, o)
    track = inplace.begin(self, ot)
    np.add(self._data, o if alpha == 1 else np.multiply(o, alpha), out=self._data, casting="unsafe")
    so = np.shape(o)
    return inplace.finish(self, track, "AddBackward0", (ot,), lambda g: (g, _grad_to(g * alpha, ot, so)))


def sub_(self: Tensor, other: Any, *args: Any, alpha: Any = 1) -> Tensor:
    """self -= alpha * other."""
    other, alpha = legacy_alpha("sub_", other, args, alpha, ("Number alpha, Tensor other", _SIG))
    ot, o = _other(other)
    _check_binary(self, o)
    track = inplace.begin(self, ot)
    np.subtract(self._data, o if alpha == 1 else np.multiply(o, alpha), out=self._data, casting="unsafe")
    so = np.shape(o)
    return inplace.finish(self, track, "SubBackward0", (ot,), lambda g: (g, _grad_to(-g * alpha, ot, so)))


def mul_(self: Tensor, other: Any) -> Tensor:
    """self *= other."""
    ot, o = _other(other)
    _check_binary(self, o)
    track = inplace.begin(self, ot)
    x = self._data
    old = x.copy() if track and ot is not None and ot.requires_grad else None  # d other = g * old self
    self_req = track and self._requires_grad
    np.multiply(x, o, out=x, casting="unsafe")
    so, dt = np.shape(o), x.dtype

    def backward(g: np.ndarray) -> tuple:
        return (g * o).astype(dt, copy=False), (None if old is None else _grad_to(g * old, ot, so))

    return inplace.finish(self, track, "MulBackward0", (ot,), backward, saved=(ot if self_req else None,))


def div_(self: Tensor, other: Any) -> Tensor:
    """self /= other (true division: an integer tensor cannot hold the result, as in torch)."""
    ot, o = _other(other)
    d = result_type(self._data, o)
    check_inplace_cast(d if d.kind == "f" else np.dtype(np.float32), self._data.dtype)
    _check_binary(self, o)
    track = inplace.begin(self, ot)
    x = self._data
    old = x.copy() if track and ot is not None and ot.requires_grad else None
    with np.errstate(divide="ignore", invalid="ignore"):
        np.true_divide(x, o, out=x, casting="unsafe")
    so, dt = np.shape(o), x.dtype

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            gs = (g / o).astype(dt, copy=False)
            go = None if old is None else _grad_to(-g * old / np.square(o), ot, so)
        return gs, go

    return inplace.finish(self, track, "DivBackward0", (ot,), backward, saved=(ot,))


def pow_(self: Tensor, exponent: Any) -> Tensor:
    """self **= exponent (a number or a tensor)."""
    et, e = _other(exponent)
    _check_binary(self, e)
    track = inplace.begin(self, et)
    x = self._data
    old = x.copy() if track else None
    with np.errstate(divide="ignore", invalid="ignore"):
        np.power(x, e, out=x, casting="unsafe")
    so, dt = np.shape(e), x.dtype

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            gs = np.where(np.asarray(e) == 0, 0, g * e * np.power(old, np.subtract(e, 1))).astype(dt, copy=False)
            ge = None if et is None else _grad_to(np.where(old == 0, 0, g * np.power(old, e) * np.log(old)), et, so)
        return gs, ge

    return inplace.finish(self, track, "PowBackward0" if et is None else "PowBackward1", (et,), backward, saved=(et,))


def neg_(self: Tensor) -> Tensor:
    """self = -self."""
    track = inplace.begin(self)
    np.negative(self._data, out=self._data)
    return inplace.finish(self, track, "NegBackward0", (), lambda g: (-g,))


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros in place."""
    track = inplace.begin(self)
    self._data[...] = 0
    return inplace.finish(self, track, "ZeroBackward0", (), lambda g: (np.zeros_like(g),))


def fill_(self: Tensor, value: Any) -> Tensor:
    """Fill with ``value`` (a number or a 0-d tensor) in place."""
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim != 0:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with {vt._data.ndim} dimensions."
        )
    track = inplace.begin(self, vt)
    self._data[...] = _value(value)

    def backward(g: np.ndarray) -> tuple:
        return np.zeros_like(g), (None if vt is None else _grad_to(np.asarray(g.sum()), vt, ()))

    return inplace.finish(self, track, "FillBackward2" if vt is None else "FillBackward3", (vt,), backward)


def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast, cast to this dtype) into this tensor in place."""
    st = src if isinstance(src, Tensor) else None
    arr = src._data if st is not None else as_array(src)
    try:
        b = np.broadcast_to(arr, self._data.shape)
    except ValueError as err:
        raise RuntimeError(
            f"The size of tensor a ({list(self._data.shape)}) must match the size of tensor b ({list(arr.shape)})"
        ) from err
    track = inplace.begin(self, st)
    np.copyto(self._data, b, casting="unsafe")
    shape = arr.shape

    def backward(g: np.ndarray) -> tuple:
        return np.zeros_like(g), (None if st is None else _grad_to(g, st, shape))

    return inplace.finish(self, track, "CopyBackwards", (st,), backward)


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Clip the tensor in place to [min, max] (numbers; either may be None); returns it."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo, hi = _value(min), _value(max)
    for bound in (lo, hi):
        if bound is not None:
            check_inplace_cast(result_type(self._data, bound), self._data.dtype)
    track = inplace.begin(self, min, max)
    x = self._data
    inside = None
    if track:
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
    if lo is not None:
        np.maximum(x, lo, out=x, casting="unsafe")
    if hi is not None:
        np.minimum(x, hi, out=x, casting="unsafe")
    return inplace.finish(self, track, "ClampBackward1", (), lambda g: (g * inside,))


def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    """Set the elements where ``mask`` (bool, broadcast to self) is True to ``value``."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {m.dtype}")
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim != 0:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{vt._data.ndim} dimension(s)."
        )
    _check_binary(self, np.zeros(m.shape, dtype=np.bool_))
    mb = np.broadcast_to(m, self._data.shape)
    track = inplace.begin(self, vt)
    np.copyto(self._data, _value(value), where=mb, casting="unsafe")

    def backward(g: np.ndarray) -> tuple:
        return np.where(mb, 0, g).astype(g.dtype, copy=False), (
            None if vt is None else _grad_to(np.asarray(g[mb].sum()), vt, ())
        )

    name = "MaskedFillBackward0" if vt is None else "MaskedFillBackward1"
    return inplace.finish(self, track, name, (vt,), backward, saved=(mask if isinstance(mask, Tensor) else None,))


def scatter_(self: Tensor, dim: int, index: Any, src: Any = None, value: Any = None, reduce: Any = None) -> Tensor:
    """self[i][index[i][j]] = src[i][j] (for dim 1) in place; ``src`` may be a number (one-hot rows)."""
    if reduce is not None:
        raise NotImplementedError("scatter_(reduce=...) is not supported by deeprnn")
    src = value if src is None else src
    d = _dim(dim, self._data.ndim)
    idx = _index_array(index, "scatter_")
    _check_bounds(idx, self._data.shape[d], d)
    full = _full_index(idx, d)
    st = src if isinstance(src, Tensor) else None
    region = tuple(slice(0, n) for n in idx.shape)
    track = inplace.begin(self, st)
    self._data[full] = st._data[region] if st is not None else src

    def backward(g: np.ndarray) -> tuple:
        gs = g.copy()
        gs[full] = 0
        gsrc = None
        if st is not None:
            gsrc = np.zeros_like(st._data, dtype=g.dtype)
            gsrc[region] = g[full]
        return gs, gsrc

    return inplace.finish(self, track, "ScatterBackward0" if st is not None else "ScatterBackward1", (st,), backward)


def setitem(self: Tensor, idx: Any, value: Any) -> None:
    """``self[idx] = value``: basic indexing records CopySlices, advanced IndexPutBackward0, as torch."""
    key, advanced = _index(idx)
    vt = value if isinstance(value, Tensor) else None
    v = vt._data if vt is not None else _value(value)
    try:
        region = self._data[key]
        np.broadcast_to(v, region.shape)
    except IndexError as err:
        raise IndexError(str(err)) from err
    except ValueError as err:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to indexing "
            f"result of shape {list(np.shape(region))}"
        ) from err
    if not advanced and self._base is None and self.requires_grad and self._grad_fn is None and is_grad_enabled():
        # torch writes basic indices through a view (t[key].copy_(v)), so it names the view
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    track = inplace.begin(self, vt)
    self._data[key] = v
    vshape = np.shape(v)

    def backward(g: np.ndarray) -> tuple:
        gs = g.copy()
        gs[key] = 0
        return gs, (None if vt is None else _grad_to(np.asarray(g[key]), vt, vshape))

    inplace.finish(self, track, "IndexPutBackward0" if advanced else "CopySlices", (vt,), backward)


_UNARY = {
    # name: (NumPy function, backward from (g, new values, old values), needs old values)
    "relu": (lambda x: np.maximum(x, 0, out=x), lambda g, y, x0: g * (y > 0), False),
    "tanh": (lambda x: np.tanh(x, out=x), lambda g, y, x0: g * (1 - y * y), False),
    "sigmoid": (lambda x: np.divide(1, 1 + np.exp(-x), out=x), lambda g, y, x0: g * y * (1 - y), False),
    "exp": (lambda x: np.exp(x, out=x), lambda g, y, x0: g * y, False),
    "sqrt": (lambda x: np.sqrt(x, out=x), lambda g, y, x0: g / (2 * y), False),
    "log": (lambda x: np.log(x, out=x), lambda g, y, x0: g / x0, True),
    "abs": (lambda x: np.abs(x, out=x), lambda g, y, x0: g * np.sign(x0), True),
}


def unary_(self: Tensor, name: str) -> Tensor:
    """An element-wise function applied in place (relu_, tanh_, sigmoid_, exp_, sqrt_, log_, abs_)."""
    fn, grad, needs_old = _UNARY[name]
    if self._data.dtype.kind not in "f" and name != "relu" and name != "abs":
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {torch_type_name(self._data.dtype)}"
        )
    track = inplace.begin(self)
    x = self._data
    old = x.copy() if track and needs_old else None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fn(x)
    node = {"relu": "ReluBackward0", "tanh": "TanhBackward0", "sigmoid": "SigmoidBackward0"}.get(
        name, name.capitalize() + "Backward0"
    )

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad(g, x, old).astype(g.dtype, copy=False),)

    return inplace.finish(self, track, node, (), backward, save_self=not needs_old)


def reshape_(self: Tensor, new: np.ndarray, name: str) -> Tensor:
    """An in-place change of shape only (unsqueeze_, squeeze_, t_, transpose_): same memory, new geometry.

    Values do not change, so the base of a view is not rebased; this tensor's gradient is
    mapped back to its old shape (``new`` must be a NumPy view of the old array).
    """
    track = inplace.begin(self)
    old = self._data
    edge = edge_of(self) if track else None
    self._data = new
    self._vc.value += 1
    if self._base is not None and self._view_version >= 0:
        self._view_version = self._vc.value
    if edge is not None:
        inverse = _inverse_geometry(old, new)
        self._grad_fn = Node(name, (None,), (edge,), lambda g: (inverse(g),), [(new.shape, new.dtype)])  # no cycle
        self._output_nr = 0
    return self


def _inverse_geometry(old: np.ndarray, new: np.ndarray) -> Any:
    """A function taking a gradient shaped like ``new`` back to ``old``'s shape (same elements)."""
    if old.size == new.size and old.ndim != new.ndim:
        return lambda g: g.reshape(old.shape)
    return lambda g: np.swapaxes(g, -1, -2) if g.ndim >= 2 else g  # t_ / transpose_ of the last two dims


def random_fill_(self: Tensor, values: np.ndarray, name: str) -> Tensor:
    """Overwrite with freshly drawn ``values`` (uniform_, normal_): no gradient flows to the old values."""
    track = inplace.begin(self)
    self._data[...] = values
    return inplace.finish(self, track, name, (), lambda g: (np.zeros_like(g),))
