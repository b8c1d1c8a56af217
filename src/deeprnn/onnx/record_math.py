"""Recorders of arithmetic, element-wise functions, products, reductions, casts and creation.

A recorder is called after the operation ran for real: ``rec(trace, result, *args, **kwargs)``
with the arguments as the model passed them (torch's signature), it adds the nodes that
compute ``result`` from the graph values of the arguments and binds ``result`` to its output.
The operation's own checks have already passed, so a recorder only handles what it can
express and raises ``UnsupportedOperatorError`` for the rest (legacy forms, in-place flags).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from .errors import UnsupportedOperatorError
from .graph import elem_type
from .trace import Labels, Trace, TracedDim

__all__ = ["MATH_RECORDERS", "operand", "broadcast_labels", "alias", "unary", "cast_to"]


# ---- helpers -----------------------------------------------------------------------------
def cast_to(tr: Trace, name: str, src: np.dtype, dst: np.dtype) -> str:
    """``name`` as ``dst`` (a Cast node when the dtypes differ)."""
    return name if np.dtype(src) == np.dtype(dst) else tr.graph.op("Cast", [name], to=elem_type(dst))


def operand(tr: Trace, x: Any, dtype: np.dtype) -> str:
    """The graph value of a tensor or Python number, as ``dtype``."""
    if isinstance(x, Tensor):
        return cast_to(tr, tr.name(x), x.dtype, dtype)
    if isinstance(x, TracedDim):
        return cast_to(tr, tr.graph.op("Squeeze", [x.value_name(), tr.graph.ints([0])]), np.int64, dtype)
    return tr.graph.const(x, dtype)


def _labels_of(tr: Trace, x: Any) -> Labels:
    """A tensor's labels; a number (or a TracedDim, a scalar of the graph) has no dimensions."""
    return tr.labels(x) if isinstance(x, Tensor) else ()


def broadcast_labels(*labels: Labels) -> Labels:
    """The labels of a broadcast result: a dimension is dynamic if it is in any operand."""
    n = max((len(lab) for lab in labels), default=0)
    out = []
    for i in range(n):
        found = None
        for lab in labels:
            j = len(lab) - n + i
            if j >= 0 and lab[j] is not None:
                found = lab[j]
                break
        out.append(found)
    return tuple(out)


def alias(tr: Trace, result: Any, x: Any, *args: Any, **kwargs: Any) -> None:
    """The result is the input itself (contiguous, clone, detach, cpu, .data, eval-mode dropout)."""
    if isinstance(result, Tensor) and result is not x:
        tr.bind(result, tr.name(x), tr.labels(x))


def cast_or_alias(tr: Trace, result: Any, x: Tensor, *args: Any, **kwargs: Any) -> None:
    """``to``, ``float``, ``type(dtype)``, ...: a Cast to the result's dtype, or the input itself."""
    if not isinstance(result, Tensor):  # x.type() returns the type's name
        return
    tr.bind(result, cast_to(tr, tr.name(x), x.dtype, result.dtype), tr.labels(x))


def unary(op_type: str) -> Any:
    """A recorder of an element-wise function of one tensor (torch.tanh(x), x.tanh(), -x, ...)."""

    def rec(tr: Trace, result: Tensor, x: Tensor) -> None:
        tr.bind(result, tr.graph.op(op_type, [operand(tr, x, result.dtype)]), tr.labels(x))

    return rec


# ---- arithmetic --------------------------------------------------------------------------
def _binary(op_type: str, reflected: bool = False) -> Any:
    def rec(tr: Trace, result: Tensor, a: Any, b: Any, *args: Any, alpha: Any = 1, **kwargs: Any) -> None:
        if args:
            raise UnsupportedOperatorError(
                f"the legacy form {op_type.lower()}(Number, Tensor) is not supported by deeprnn.onnx.export"
            )
        dt = result.dtype
        x, y = operand(tr, a, dt), operand(tr, b, dt)
        if alpha != 1:
            y = tr.graph.op("Mul", [y, tr.graph.const(alpha, dt)])
        if reflected:
            x, y = y, x
        tr.bind(result, tr.graph.op(op_type, [x, y]), broadcast_labels(_labels_of(tr, a), _labels_of(tr, b)))

    return rec


def _rsub(tr: Trace, result: Tensor, a: Any, b: Any, alpha: Any = 1) -> None:
    """torch.rsub(a, b, alpha) = b - alpha * a."""
    _binary("Sub", reflected=True)(tr, result, a, b, alpha=alpha)


def _pos(tr: Trace, result: Tensor, a: Tensor) -> None:
    alias(tr, result, a)


# ---- products ----------------------------------------------------------------------------
def _matmul_labels(la: Labels, lb: Labels) -> Labels:
    A, B = list(la), list(lb)
    a1, b1 = len(A) == 1, len(B) == 1
    if a1:
        A = [None, *A]
    if b1:
        B = [*B, None]
    out = [*broadcast_labels(tuple(A[:-2]), tuple(B[:-2])), A[-2], B[-1]]
    if b1:
        out.pop(-1)
    if a1:
        out.pop(-1 if b1 else -2)
    return tuple(out)


def _matmul(tr: Trace, result: Tensor, a: Any, b: Any, reflected: bool = False) -> None:
    if reflected:
        a, b = b, a
    dt = result.dtype
    name = tr.graph.op("MatMul", [operand(tr, a, dt), operand(tr, b, dt)])
    tr.bind(result, name, _matmul_labels(_labels_of(tr, a), _labels_of(tr, b)))


# ---- softmax -----------------------------------------------------------------------------
def _softmax(op_type: str) -> Any:
    def rec(tr: Trace, result: Tensor, x: Tensor, dim: Any = None, *args: Any, dtype: Any = None, **kw: Any) -> None:
        dim = kw.get("axis", dim)
        if dim is None:  # torch's legacy implicit dim (the call already warned)
            dim = 0 if x.ndim in (0, 1, 3) else 1
        x_name = cast_to(tr, tr.name(x), x.dtype, result.dtype)
        if x.ndim == 0:
            tr.bind(result, tr.graph.op(op_type, [x_name]), ())
            return
        tr.bind(result, tr.graph.op(op_type, [x_name], axis=int(dim) % x.ndim), tr.labels(x))

    return rec


# ---- reductions --------------------------------------------------------------------------
def _reduce(op_type: str) -> Any:
    def rec(tr: Trace, result: Tensor, x: Tensor, dim: Any = None, keepdim: bool = False, **kw: Any) -> None:
        dim = kw.get("axis", dim)
        keepdim = bool(kw.get("keepdims", keepdim))
        n = x.ndim
        if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
            axes = list(range(n))
        else:
            axes = sorted({int(d) % max(n, 1) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))})
        x_name = cast_to(tr, tr.name(x), x.dtype, result.dtype)
        g = tr.graph
        if n == 0:
            name = g.op("Identity", [x_name])
        elif op_type == "ReduceMean" and g.opset < 18:
            name = g.op(op_type, [x_name], axes=axes, keepdims=int(keepdim))
        else:
            name = g.op(op_type, [x_name, g.ints(axes)], keepdims=int(keepdim))
        labels = tr.labels(x)
        out = (
            [None if i in axes else lab for i, lab in enumerate(labels)]
            if keepdim
            else [lab for i, lab in enumerate(labels) if i not in axes]
        )
        tr.bind(result, name, tuple(out))

    return rec


# ---- creation ----------------------------------------------------------------------------
def _size_entries(size: tuple) -> list[Any]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return list(size[0])
    return list(size)


def _filled(tr: Trace, result: Tensor, shape_name: str, labels: Labels, value: Any) -> None:
    fill = np.asarray([value], dtype=result.dtype)
    from onnx import numpy_helper

    name = tr.graph.op("ConstantOfShape", [shape_name], value=numpy_helper.from_array(fill, "value"))
    tr.bind(result, name, labels)


def _dims_labels(tr: Trace, entries: list[Any]) -> Labels:
    return tuple(e.label if isinstance(e, TracedDim) else None for e in entries)


def _creation(value: Any) -> Any:
    """zeros/ones/empty(*size): a ConstantOfShape when a size is dynamic (else the call is a constant)."""

    def rec(tr: Trace, result: Tensor, *size: Any, **kwargs: Any) -> None:
        entries = _size_entries(size)
        _filled(tr, result, tr.sizes_value(entries), _dims_labels(tr, entries), value)

    return rec


def _full(tr: Trace, result: Tensor, size: Any, fill_value: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(fill_value, (Tensor, TracedDim)):
        raise UnsupportedOperatorError("full() with a fill value computed from the inputs is not supported")
    entries = list(size)
    _filled(tr, result, tr.sizes_value(entries), _dims_labels(tr, entries), fill_value)


def _like(value: Any) -> Any:
    """zeros_like/ones_like/empty_like(x): ConstantOfShape(Shape(x))."""

    def rec(tr: Trace, result: Tensor, x: Tensor, *args: Any, **kwargs: Any) -> None:
        _filled(tr, result, tr.shape_of(tr.name(x)), tr.labels(x), value)

    return rec


def _full_like(tr: Trace, result: Tensor, x: Tensor, fill_value: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(fill_value, (Tensor, TracedDim)):
        raise UnsupportedOperatorError("full_like() with a fill value computed from the inputs is not supported")
    _filled(tr, result, tr.shape_of(tr.name(x)), tr.labels(x), fill_value)


def _new(value: Any) -> Any:
    """x.new_zeros/new_ones/new_empty(size): the sizes may be dynamic, x's values are not read."""

    def rec(tr: Trace, result: Tensor, x: Tensor, *size: Any, **kwargs: Any) -> None:
        entries = _size_entries(size)
        _filled(tr, result, tr.sizes_value(entries), _dims_labels(tr, entries), value)

    return rec


def _new_full(tr: Trace, result: Tensor, x: Tensor, size: Any, fill_value: Any, **kwargs: Any) -> None:
    _full(tr, result, size, fill_value)


# ---- clamp -------------------------------------------------------------------------------
def _clamp(tr: Trace, result: Tensor, x: Tensor, min: Any = None, max: Any = None) -> None:  # noqa: A002
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        raise UnsupportedOperatorError("clamp() with tensor bounds is not supported by deeprnn.onnx.export")
    dt = result.dtype
    lo = "" if min is None else tr.graph.const(min, dt)
    hi = "" if max is None else tr.graph.const(max, dt)
    tr.bind(result, tr.graph.op("Clip", [operand(tr, x, dt), lo, hi]), tr.labels(x))


MATH_RECORDERS: dict[str, Any] = {
    "add": _binary("Add"),
    "__add__": _binary("Add"),
    "__radd__": _binary("Add", reflected=True),
    "sub": _binary("Sub"),
    "subtract": _binary("Sub"),
    "__sub__": _binary("Sub"),
    "__rsub__": _binary("Sub", reflected=True),
    "rsub": _rsub,
    "mul": _binary("Mul"),
    "multiply": _binary("Mul"),
    "__mul__": _binary("Mul"),
    "__rmul__": _binary("Mul", reflected=True),
    "div": _binary("Div"),
    "divide": _binary("Div"),
    "true_divide": _binary("Div"),
    "__truediv__": _binary("Div"),
    "__rtruediv__": _binary("Div", reflected=True),
    "pow": _binary("Pow"),
    "__pow__": _binary("Pow"),
    "__rpow__": _binary("Pow", reflected=True),
    "neg": unary("Neg"),
    "negative": unary("Neg"),
    "__neg__": unary("Neg"),
    "__pos__": _pos,
    "abs": unary("Abs"),
    "absolute": unary("Abs"),
    "__abs__": unary("Abs"),
    "tanh": unary("Tanh"),
    "relu": unary("Relu"),
    "sigmoid": unary("Sigmoid"),
    "exp": unary("Exp"),
    "log": unary("Log"),
    "sqrt": unary("Sqrt"),
    "clamp": _clamp,
    "clip": _clamp,
    "matmul": _matmul,
    "mm": _matmul,
    "bmm": _matmul,
    "__matmul__": _matmul,
    "__rmatmul__": lambda tr, result, a, b: _matmul(tr, result, a, b, reflected=True),
    "softmax": _softmax("Softmax"),
    "log_softmax": _softmax("LogSoftmax"),
    "sum": _reduce("ReduceSum"),
    "mean": _reduce("ReduceMean"),
    # casts and copies
    "to": cast_or_alias,
    "type": cast_or_alias,
    "type_as": cast_or_alias,
    "float": cast_or_alias,
    "double": cast_or_alias,
    "half": cast_or_alias,
    "long": cast_or_alias,
    "int": cast_or_alias,
    "bool": cast_or_alias,
    "cpu": alias,
    "contiguous": alias,
    "clone": alias,
    "detach": alias,
    "data": alias,
    # creation
    "zeros": _creation(0),
    "ones": _creation(1),
    "empty": _creation(0),
    "full": _full,
    "zeros_like": _like(0),
    "ones_like": _like(1),
    "empty_like": _like(0),
    "full_like": _full_like,
    "new_zeros": _new(0),
    "new_ones": _new(1),
    "new_empty": _new(0),
    "new_full": _new_full,
}
