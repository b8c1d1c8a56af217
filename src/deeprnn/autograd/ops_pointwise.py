"""More element-wise functions: rounding (sign, floor, ceil, round, trunc, frac), fmod/remainder,
reciprocal, rsqrt, square, log1p, expm1, log2, log10, sin, cos, floor_divide.

Rounding functions have a zero gradient almost everywhere, as in torch; ``frac`` passes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import get_default_dtype, is_floating
from .function import record
from .ops_math import _check_broadcast, _common, _grad_to, _operands, _req, _shape
from .tensor import Tensor

__all__ = [
    "sign",
    "floor",
    "ceil",
    "round",
    "trunc",
    "frac",
    "fmod",
    "remainder",
    "floor_divide",
    "reciprocal",
    "rsqrt",
    "square",
    "log1p",
    "expm1",
    "log2",
    "log10",
    "sin",
    "cos",
]


def _zero_grad(name: str, a: Tensor, out: np.ndarray) -> Tensor:
    return record(name, out, (a,), lambda g: (np.zeros_like(g),), saved=())


def sign(a: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (bool stays bool)."""
    x = a._data
    return _zero_grad("SignBackward0", a, x.copy() if x.dtype == np.bool_ else np.sign(x))


def _rounding(name: str, fn: Any, a: Tensor) -> Tensor:
    x = a._data
    return _zero_grad(name, a, fn(x) if is_floating(x.dtype) else x.copy())


def floor(a: Tensor) -> Tensor:
    """The largest integer not above each element."""
    return _rounding("FloorBackward0", np.floor, a)


def ceil(a: Tensor) -> Tensor:
    """The smallest integer not below each element."""
    return _rounding("CeilBackward0", np.ceil, a)


def trunc(a: Tensor) -> Tensor:
    """Each element rounded toward zero."""
    return _rounding("TruncBackward0", np.trunc, a)


def round(a: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round half to even (as torch), to ``decimals`` decimal places."""
    name = "RoundBackward0" if decimals == 0 else "RoundBackward1"
    return _rounding(name, lambda x: np.round(x, decimals), a)


def frac(a: Tensor) -> Tensor:
    """The fractional part, x - trunc(x); derivative 1."""
    x = a._data
    return record("FracBackward0", x - np.trunc(x), (a,), lambda g: (g,), saved=())


def _mod(name: str, fn: Any, rounder: Any, a: Any, b: Any) -> Tensor:
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    if not is_floating(_common(xa, xb)) and np.any(np.asarray(xb) == 0):
        raise RuntimeError("ZeroDivisionError")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(fn(xa, xb))
    sa, sb = _shape(xa), _shape(xb)
    rb = _req(tb)

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = _grad_to(-g * rounder(np.true_divide(xa, xb)), tb, sb) if rb else None
        return _grad_to(g, ta, sa), gb

    return record(
        name + ("0" if tb is None else "1"), out, (ta, tb), backward, saved=(ta if rb else None, tb if rb else None)
    )


def fmod(a: Any, b: Any) -> Tensor:
    """C's remainder: the result has the sign of the dividend (a - trunc(a / b) b)."""
    return _mod("FmodBackward", np.fmod, np.trunc, a, b)


def remainder(a: Any, b: Any) -> Tensor:
    """Python's remainder: the result has the sign of the divisor (a - floor(a / b) b)."""
    return _mod("RemainderBackward", np.remainder, np.floor, a, b)


def floor_divide(a: Any, b: Any) -> Tensor:
    """floor(a / b) in the promoted dtype (``a // b``); not differentiable, as torch."""
    ta, xa, tb, xb = _operands(a, b)
    _check_broadcast(xa, xb)
    if not is_floating(_common(xa, xb)) and np.any(np.asarray(xb) == 0):
        raise RuntimeError("ZeroDivisionError")
    with np.errstate(divide="ignore", invalid="ignore"):
        return Tensor._wrap(np.asarray(np.floor_divide(xa, xb)))


def _float(a: Tensor) -> np.ndarray:
    x = a._data
    return x if is_floating(x.dtype) else x.astype(get_default_dtype())


def reciprocal(a: Tensor) -> Tensor:
    """1 / a; derivative -1 / a^2."""
    with np.errstate(divide="ignore"):
        out = np.reciprocal(_float(a))
    return record("ReciprocalBackward0", out, (a,), lambda g: (-g * out * out,), saved=(), save_output=True)


def rsqrt(a: Tensor) -> Tensor:
    """1 / sqrt(a); derivative -1/2 a^(-3/2)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1 / np.sqrt(_float(a))
    return record("RsqrtBackward0", out, (a,), lambda g: (-0.5 * g * out**3,), saved=(), save_output=True)


def square(a: Tensor) -> Tensor:
    """a * a (recorded as torch does: PowBackward0)."""
    x = a._data
    out = np.square(x if x.dtype != np.bool_ else x.astype(np.int64))
    return record("PowBackward0", out, (a,), lambda g: (2 * g * x,), saved=(a,))


def _unary(name: str, a: Tensor, fn: Any, grad: Any) -> Tensor:
    x = _float(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = fn(x)

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad(g, x, out).astype(x.dtype, copy=False),)

    return record(name, out, (a,), backward, saved=(a,))


def log1p(a: Tensor) -> Tensor:
    """log(1 + a), accurate for small a; derivative 1 / (1 + a)."""
    return _unary("Log1PBackward0", a, np.log1p, lambda g, x, y: g / (1 + x))


def expm1(a: Tensor) -> Tensor:
    """e^a - 1, accurate for small a; derivative e^a."""
    return _unary("Expm1Backward0", a, np.expm1, lambda g, x, y: g * (y + 1))


def log2(a: Tensor) -> Tensor:
    """Base-2 logarithm; derivative 1 / (a ln 2)."""
    return _unary("Log2Backward0", a, np.log2, lambda g, x, y: g / (x * np.log(2.0)))


def log10(a: Tensor) -> Tensor:
    """Base-10 logarithm; derivative 1 / (a ln 10)."""
    return _unary("Log10Backward0", a, np.log10, lambda g, x, y: g / (x * np.log(10.0)))


def sin(a: Tensor) -> Tensor:
    """sin(a); derivative cos(a)."""
    return _unary("SinBackward0", a, np.sin, lambda g, x, y: g * np.cos(x))


def cos(a: Tensor) -> Tensor:
    """cos(a); derivative -sin(a)."""
    return _unary("CosBackward0", a, np.cos, lambda g, x, y: -g * np.sin(x))
