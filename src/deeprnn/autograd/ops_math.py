"""Element-wise arithmetic and the common activations, with their local derivatives.

Each function takes tensors (or Python numbers), computes the NumPy result in torch's
promoted dtype and records a closure with the chain rule, micrograd-style:
d(a*b) = b da + a db, d tanh(a) = 1 - tanh^2, ... Broadcast operands get their gradient
summed back to their own shape. Each op saves (for the version check) what torch saves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import get_default_dtype, is_floating, result_type
from .function import record, unbroadcast
from .tensor import Tensor, as_array

__all__ = [
    "add",
    "sub",
    "rsub",
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


def _value(x: Any) -> Any:
    """The NumPy operand for x: a tensor's array, an array, or a Python number."""
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)):
        return as_array(x)
    if isinstance(x, np.generic):
        return x.item()  # a NumPy scalar counts as a Python number, as in torch
    return x


def _operands(a: Any, b: Any) -> tuple[Tensor | None, Any, Tensor | None, Any]:
    """(tensor or None, operand) for each side, arrays cast to torch's result dtype."""
    ta = a if isinstance(a, Tensor) else None
    tb = b if isinstance(b, Tensor) else None
    xa, xb = _value(a), _value(b)
    d = result_type(xa, xb)
    if isinstance(xa, np.ndarray) and xa.dtype != d:
        xa = xa.astype(d)
    if isinstance(xb, np.ndarray) and xb.dtype != d:
        xb = xb.astype(d)
    if not isinstance(xa, np.ndarray) and not isinstance(xb, np.ndarray):
        xa = np.asarray(xa, dtype=d)
    return ta, xa, tb, xb


def _common(xa: Any, xb: Any) -> np.dtype:
    """The dtype both operands of ``_operands`` now share (at least one of them is an array)."""
    return xa.dtype if isinstance(xa, np.ndarray) else xb.dtype


def _scaled(x: Any, alpha: Any, d: np.dtype) -> Any:
    """alpha * x in dtype d (torch refuses a float alpha for integer tensors)."""
    if alpha == 1:
        return x
    if d.kind in "biu" and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return np.multiply(x, alpha, dtype=d)


def _req(t: Tensor | None) -> bool:
    return t is not None and t.requires_grad


def _shape(x: Any) -> tuple[int, ...]:
    return np.shape(x)


def _cast(g: np.ndarray, t: Tensor | None) -> np.ndarray | None:
    if t is None:
        return None
    return g if g.dtype == t._data.dtype else g.astype(t._data.dtype)


def _grad_to(g: np.ndarray, t: Tensor | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """The gradient for operand t: summed to its shape and cast to its dtype (None for a number)."""
    return None if t is None else _cast(unbroadcast(g, shape), t)


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
    out = np.asarray(np.add(xa, _scaled(xb, alpha, _common(xa, xb))))
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        return _grad_to(g, ta, sa), _grad_to(g if alpha == 1 else g * alpha, tb, sb)

    return record("AddBackward0", out, (ta, tb), backward, saved=())


def sub(a: Any, b: Any, alpha: float = 1) -> Tensor:
    """a - alpha * b."""
    ta, xa, tb, xb = _operands(a, b)
    if _common(xa, xb) == np.bool_:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    _check_broadcast(xa, xb)
    out = np.asarray(np.subtract(xa, _scaled(xb, alpha, _common(xa, xb))))
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        return _grad_to(g, ta, sa), _grad_to(-g * alpha, tb, sb)

    return record("SubBackward0", out, (ta, tb), backward, saved=())


def rsub(a: Any, b: Any, alpha: float = 1) -> Tensor:
    """b - alpha * a (``torch.rsub``; ``2 - t`` records RsubBackward1, as torch)."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    out = np.asarray(np.subtract(xb, _scaled(xa, alpha, _common(xa, xb))))
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        return _grad_to(-g * alpha, ta, sa), _grad_to(g, tb, sb)

    return record("RsubBackward1" if tb is None else "RsubBackward0", out, (ta, tb), backward, saved=())


def mul(a: Any, b: Any) -> Tensor:
    """a * b (element-wise)."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    out = np.asarray(np.multiply(xa, xb))
    sa, sb = _shape(xa), _shape(xb)
    ra, rb = _req(ta), _req(tb)

    def backward(g: np.ndarray) -> tuple:
        return (_grad_to(g * xb, ta, sa) if ra else None), (_grad_to(g * xa, tb, sb) if rb else None)

    return record("MulBackward0", out, (ta, tb), backward, saved=(tb if ra else None, ta if rb else None))


def div(a: Any, b: Any) -> Tensor:
    """a / b (true division; integer operands give the default float dtype)."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    if not is_floating(_common(xa, xb)):
        d = get_default_dtype()
        xa = np.asarray(xa, dtype=d) if isinstance(xa, np.ndarray) else xa
        xb = np.asarray(xb, dtype=d) if isinstance(xb, np.ndarray) else xb
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(np.true_divide(xa, xb))
    if not is_floating(out.dtype):
        out = out.astype(get_default_dtype())
    sa, sb = _shape(xa), _shape(xb)
    ra, rb = _req(ta), _req(tb)

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = _grad_to(g / xb, ta, sa) if ra else None
            gb = _grad_to(-g * xa / np.square(xb), tb, sb) if rb else None
        return ga, gb

    name = "MulBackward0" if ta is None else "DivBackward0"  # torch computes number / t as t.reciprocal() * number
    return record(name, out, (ta, tb), backward, saved=(tb if ra or rb else None, ta if rb else None))


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b. d/da = b a^(b-1); d/db = a^b log a."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    d = _common(xa, xb)
    if d.kind in "iu" and np.any(np.asarray(xb) < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(np.power(xa, xb))
    sa, sb = _shape(xa), _shape(xb)
    ra, rb = _req(ta), _req(tb)

    def backward(g: np.ndarray) -> tuple:
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ra:
                ga = _grad_to(np.where(np.asarray(xb) == 0, 0, g * xb * np.power(xa, np.subtract(xb, 1))), ta, sa)
            if rb:
                gb = _grad_to(np.where((np.asarray(xa) == 0) & (np.asarray(xb) >= 0), 0, g * out * np.log(xa)), tb, sb)
        return ga, gb

    if tb is None:
        return record("PowBackward0", out, (ta, tb), backward, saved=(ta,))
    name = "PowBackward2" if ta is None else "PowBackward1"
    return record(name, out, (ta, tb), backward, saved=(ta, tb), save_output=True)


def neg(a: Tensor) -> Tensor:
    """-a."""
    if a._data.dtype == np.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return record("NegBackward0", np.negative(a._data), (a,), lambda g: (-g,), saved=())


def _float_of(a: Tensor) -> np.ndarray:
    """The values of a as floats: integer tensors go to the default float dtype (torch's unary float ops)."""
    x = a._data
    return x if is_floating(x.dtype) else x.astype(get_default_dtype())


def tanh(a: Tensor) -> Tensor:
    """tanh(a) = (e^a - e^-a) / (e^a + e^-a); derivative 1 - tanh(a)^2."""
    out = np.tanh(_float_of(a))
    return record("TanhBackward0", out, (a,), lambda g: (g * (1 - out * out),), saved=(), save_output=True)


def relu(a: Tensor) -> Tensor:
    """max(a, 0); derivative 1 where a > 0, else 0."""
    if a._data.dtype == np.bool_:
        raise RuntimeError("\"clamp_min_scalar_cpu\" not implemented for 'Bool'")
    out = np.maximum(a._data, 0)
    return record("ReluBackward0", out, (a,), lambda g: (g * (out > 0),), saved=(), save_output=True)


def sigmoid(a: Tensor) -> Tensor:
    """1 / (1 + e^-a); derivative s (1 - s)."""
    x = _float_of(a)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1 + ex)
    return record("SigmoidBackward0", out, (a,), lambda g: (g * out * (1 - out),), saved=(), save_output=True)


def exp(a: Tensor) -> Tensor:
    """e^a; derivative e^a."""
    with np.errstate(over="ignore"):
        out = np.exp(_float_of(a))
    return record("ExpBackward0", out, (a,), lambda g: (g * out,), saved=(), save_output=True)


def log(a: Tensor) -> Tensor:
    """Natural logarithm; derivative 1/a."""
    x = _float_of(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(x)

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g / x,)

    return record("LogBackward0", out, (a,), backward, saved=(a,))


def sqrt(a: Tensor) -> Tensor:
    """Square root; derivative 1 / (2 sqrt(a))."""
    with np.errstate(invalid="ignore"):
        out = np.sqrt(_float_of(a))

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g / (2 * out),)

    return record("SqrtBackward0", out, (a,), backward, saved=(), save_output=True)


def abs(a: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """|a|; derivative sign(a)."""
    x = a._data
    return record("AbsBackward0", np.abs(x), (a,), lambda g: (g * np.sign(x),), saved=(a,))


def clamp(a: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit values to [min, max] (numbers or tensors, broadcast); the gradient passes only inside.

    Where a bound is a tensor that requires grad, it receives the gradient where it is the value.
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    x = a._data
    tmin = min if isinstance(min, Tensor) else None
    tmax = max if isinstance(max, Tensor) else None
    lo = None if min is None else _value(min)
    hi = None if max is None else _value(max)
    d = result_type(*(v for v in (x, lo, hi) if v is not None))
    x = x.astype(d, copy=False)
    m = x if lo is None else np.maximum(x, np.asarray(lo, dtype=d))
    out = np.asarray(m if hi is None else np.minimum(m, np.asarray(hi, dtype=d)))
    xb = np.broadcast_to(x, out.shape)
    inside = np.ones(out.shape, dtype=bool)  # self passes the gradient where lo <= x <= hi
    if lo is not None:
        inside &= xb >= lo
    if hi is not None:
        inside &= xb <= hi
    at_hi = None if hi is None else np.broadcast_to(m > hi, out.shape)  # the upper bound is the value
    at_lo = None if lo is None else (xb < lo) & (True if at_hi is None else ~at_hi)

    def backward(g: np.ndarray) -> tuple:
        return (
            _grad_to(g * inside, a, x.shape),
            None if tmin is None else _grad_to(g * at_lo, tmin, tmin._data.shape),
            None if tmax is None else _grad_to(g * at_hi, tmax, tmax._data.shape),
        )

    name = "ClampBackward1" if tmin is None and tmax is None else "ClampBackward0"
    return record(name, out, (a, tmin, tmax), backward, saved=(a, tmin, tmax))


def maximum(a: Any, b: Any) -> Tensor:
    """Element-wise maximum; ties send half the gradient to each side, as PyTorch does."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    out = np.asarray(np.maximum(xa, xb))
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        wa = (xa > xb) + 0.5 * (xa == xb)
        return _grad_to(g * wa, ta, sa), _grad_to(g * (1 - wa), tb, sb)

    return record("MaximumBackward0", out, (ta, tb), backward, saved=(ta, tb))


def minimum(a: Any, b: Any) -> Tensor:
    """Element-wise minimum; ties send half the gradient to each side."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    out = np.asarray(np.minimum(xa, xb))
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        wa = (xa < xb) + 0.5 * (xa == xb)
        return _grad_to(g * wa, ta, sa), _grad_to(g * (1 - wa), tb, sb)

    return record("MinimumBackward0", out, (ta, tb), backward, saved=(ta, tb))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Pick a where cond is true, else b (broadcast together)."""
    tc = cond if isinstance(cond, Tensor) else None
    c = cond._data if tc is not None else np.asarray(cond)
    if c.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {c.dtype}")
    ta, xa, tb, xb = _operands(a, b)
    out = np.asarray(np.where(c, xa, xb))
    sa, sb = _shape(xa), _shape(xb)

    def backward(g: np.ndarray) -> tuple:
        return _grad_to(np.where(c, g, 0), ta, sa), _grad_to(np.where(c, 0, g), tb, sb), None

    return record("WhereBackward0", out, (ta, tb, tc), backward, saved=(tc,))
