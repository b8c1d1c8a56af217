"""Element-wise operations and their local derivatives.

Each function takes tensors (or Python numbers), computes the NumPy result and records a
closure with the chain rule, micrograd-style: d(a*b) = b da + a db, d tanh(a) = 1 - tanh^2, ...
Broadcast operands get their gradient summed back to their own shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import get_default_dtype, result_dtype
from .function import record, unbroadcast
from .tensor import Tensor, as_array

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "neg",
    "tanh",
    "relu",
    "sigmoid",
    "exp",
    "log",
    "sqrt",
    "abs",
    "clamp",
    "maximum",
    "minimum",
    "where",
]


def _operands(a: Any, b: Any) -> tuple[Tensor | None, np.ndarray | Any, Tensor | None, np.ndarray | Any]:
    ta = a if isinstance(a, Tensor) else None
    tb = b if isinstance(b, Tensor) else None
    xa = a._data if ta is not None else as_array(a) if isinstance(a, (np.ndarray, list, tuple)) else a
    xb = b._data if tb is not None else as_array(b) if isinstance(b, (np.ndarray, list, tuple)) else b
    if isinstance(xa, np.ndarray):
        d = result_dtype(xa, xb)
        if d is not None:
            xa = xa.astype(d, copy=False)
            if isinstance(xb, np.ndarray):
                xb = xb.astype(d, copy=False)
    elif isinstance(xb, np.ndarray):
        d = result_dtype(xb, xa)
        if d is not None:
            xb = xb.astype(d, copy=False)
    return ta, xa, tb, xb


def _shape(x: Any) -> tuple[int, ...]:
    return np.shape(x)


def _cast(g: np.ndarray, t: Tensor | None) -> np.ndarray | None:
    if t is None:
        return None
    return g if g.dtype == t._data.dtype else g.astype(t._data.dtype)


def _check_broadcast(xa: Any, xb: Any) -> None:
    sa, sb = _shape(xa), _shape(xb)
    for i in range(1, min(len(sa), len(sb)) + 1):
        if sa[-i] != sb[-i] and sa[-i] != 1 and sb[-i] != 1:
            dim = max(len(sa), len(sb)) - i
            raise RuntimeError(
                f"The size of tensor a ({sa[-i]}) must match the size of tensor b ({sb[-i]}) "
                f"at non-singleton dimension {dim}"
            )


def add(a: Any, b: Any, alpha: float = 1) -> Tensor:
    """a + alpha * b, broadcasting as NumPy does."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    out = np.add(xa, xb if alpha == 1 else np.multiply(xb, alpha))
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        return (
            _cast(unbroadcast(g, sa), ta) if ta is not None else None,
            _cast(unbroadcast(g if alpha == 1 else g * alpha, sb), tb) if tb is not None else None,
        )

    return record("AddBackward0", np.asarray(out), (ta, tb), backward)


def sub(a: Any, b: Any, alpha: float = 1) -> Tensor:
    """a - alpha * b."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    out = np.subtract(xa, xb if alpha == 1 else np.multiply(xb, alpha))
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        return (
            _cast(unbroadcast(g, sa), ta) if ta is not None else None,
            _cast(unbroadcast(-g * alpha, sb), tb) if tb is not None else None,
        )

    return record("SubBackward0", np.asarray(out), (ta, tb), backward)


def mul(a: Any, b: Any) -> Tensor:
    """a * b (element-wise)."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    out = np.multiply(xa, xb)
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        ga = _cast(unbroadcast(g * xb, sa), ta) if ta is not None else None
        gb = _cast(unbroadcast(g * xa, sb), tb) if tb is not None else None
        return ga, gb

    return record("MulBackward0", np.asarray(out), (ta, tb), backward)


def div(a: Any, b: Any) -> Tensor:
    """a / b (true division; integer tensors give the default float dtype)."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    out = np.true_divide(xa, xb)
    if not any(np.issubdtype(np.asarray(v).dtype, np.floating) for v in (xa, xb)):
        out = np.asarray(out).astype(get_default_dtype())  # int / int -> the default float, as torch
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        ga = _cast(unbroadcast(g / xb, sa), ta) if ta is not None else None
        gb = _cast(unbroadcast(-g * xa / np.square(xb), sb), tb) if tb is not None else None
        return ga, gb

    return record("DivBackward0", np.asarray(out), (ta, tb), backward)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b. d/da = b a^(b-1); d/db = a^b log a."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    out = np.asarray(np.power(xa, xb))
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        ga = gb = None
        if ta is not None:
            ga = _cast(unbroadcast(g * xb * np.power(xa, np.subtract(xb, 1)), sa), ta)
        if tb is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = _cast(unbroadcast(g * out * np.log(xa), sb), tb)
        return ga, gb

    return record("PowBackward0" if tb is None else "PowBackward1", out, (ta, tb), backward)


def neg(a: Tensor) -> Tensor:
    """-a."""
    return record("NegBackward0", np.negative(a._data), (a,), lambda g: (-g,))


def tanh(a: Tensor) -> Tensor:
    """tanh(a) = (e^a - e^-a) / (e^a + e^-a); derivative 1 - tanh(a)^2."""
    out = np.tanh(a._data)
    return record("TanhBackward0", out, (a,), lambda g: (g * (1 - out * out),))


def relu(a: Tensor) -> Tensor:
    """max(a, 0); derivative 1 where a > 0, else 0."""
    out = np.maximum(a._data, 0)
    return record("ReluBackward0", out, (a,), lambda g: (g * (out > 0),))


def sigmoid(a: Tensor) -> Tensor:
    """1 / (1 + e^-a); derivative s (1 - s)."""
    x = a._data
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1 + ex)
    return record("SigmoidBackward0", out, (a,), lambda g: (g * out * (1 - out),))


def exp(a: Tensor) -> Tensor:
    """e^a; derivative e^a."""
    out = np.exp(a._data)
    return record("ExpBackward0", out, (a,), lambda g: (g * out,))


def log(a: Tensor) -> Tensor:
    """Natural logarithm; derivative 1/a."""
    x = a._data
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(x)
    return record("LogBackward0", out, (a,), lambda g: (g / x,))


def sqrt(a: Tensor) -> Tensor:
    """Square root; derivative 1 / (2 sqrt(a))."""
    with np.errstate(invalid="ignore"):
        out = np.sqrt(a._data)
    return record("SqrtBackward0", out, (a,), lambda g: (g / (2 * out),))


def abs(a: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """|a|; derivative sign(a)."""
    x = a._data
    return record("AbsBackward0", np.abs(x), (a,), lambda g: (g * np.sign(x),))


def clamp(a: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; the gradient passes only where a is inside the range."""
    x = a._data
    out = np.clip(x, min, max)
    mask = np.ones(x.shape, dtype=bool)
    if min is not None:
        mask &= x >= min
    if max is not None:
        mask &= x <= max
    return record("ClampBackward1", out, (a,), lambda g: (g * mask,))


def maximum(a: Tensor, b: Tensor) -> Tensor:
    """Element-wise maximum; ties send half the gradient to each side, as PyTorch does."""
    ta, xa, tb, xb = _operands(a, b)
    out = np.maximum(xa, xb)
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        wa = (xa > xb) + 0.5 * (xa == xb)
        return (
            _cast(unbroadcast(g * wa, sa), ta) if ta is not None else None,
            _cast(unbroadcast(g * (1 - wa), sb), tb) if tb is not None else None,
        )

    return record("MaximumBackward0", out, (ta, tb), backward)


def minimum(a: Tensor, b: Tensor) -> Tensor:
    """Element-wise minimum."""
    return neg(maximum(neg(a), neg(b) if isinstance(b, Tensor) else -np.asarray(b)))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Pick a where cond is true, else b."""
    c = cond._data if isinstance(cond, Tensor) else np.asarray(cond)
    ta, xa, tb, xb = _operands(a, b)
    out = np.where(c, xa, xb)
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        return (
            _cast(unbroadcast(np.where(c, g, 0), sa), ta) if ta is not None else None,
            _cast(unbroadcast(np.where(c, 0, g), sb), tb) if tb is not None else None,
        )

    return record("WhereBackward0", out, (ta, tb), backward)
