"""Activation functions of ``nn.functional``: leaky_relu, elu, gelu, softplus, hardtanh, relu6, silu.

Each is one recorded op with its derivative written out beside it, at the points where
torch puts its boundaries (e.g. hardtanh's gradient is 0 AT min_val and max_val, leaky_relu's
slope applies at 0). Values and derivatives are computed in float64 and rounded to the
input's dtype: some derivatives cancel (gelu's near x = -0.75), and float32 arithmetic there
would be farther from the true value than torch's own float32 result.
Shapes: any input (*) -> output (*).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..autograd.dtypes import is_floating, torch_type_name
from ..autograd.function import record
from ..autograd.tensor import Tensor
from .functional_checks import _check_tensor

__all__ = ["leaky_relu", "elu", "gelu", "softplus", "hardtanh", "relu6", "silu", "logsigmoid"]

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_erf = np.frompyfunc(math.erf, 1, 1)


def _floating(name: str, input: Tensor) -> np.ndarray:  # noqa: A002
    """The input's values in float64 (refusing integer tensors, as torch does)."""
    _check_tensor("input", input)
    x = input._data
    if not is_floating(x.dtype):
        raise NotImplementedError(f"\"{name}\" not implemented for '{torch_type_name(x.dtype)}'")
    return x.astype(np.float64, copy=False)


def _unary(name: str, input: Tensor, out: np.ndarray, local_grad: Callable[[], np.ndarray]) -> Tensor:  # noqa: A002
    """Record out = f(input) whose backward is g * f'(input); ``local_grad()`` builds f' lazily."""
    dtype = input._data.dtype
    return record(name, out.astype(dtype, copy=False), (input,), lambda g: ((g * local_grad()).astype(dtype),))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else negative_slope * x; derivative 1 for x > 0, negative_slope otherwise."""
    x = _floating("leaky_relu", input)
    pos = x > 0
    out = np.where(pos, x, x * negative_slope)
    return _unary("LeakyReluBackward0", input, out, lambda: np.where(pos, 1.0, negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else alpha (e^x - 1); derivative 1 for x > 0, alpha e^x otherwise."""
    x = _floating("elu", input)
    pos = x > 0
    out = np.where(pos, x, alpha * np.expm1(np.minimum(x, 0)))
    return _unary("EluBackward0", input, out, lambda: np.where(pos, 1.0, alpha * np.exp(np.minimum(x, 0))))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x Phi(x), Phi the normal CDF: 0.5 x (1 + erf(x / sqrt 2)); or its tanh approximation.

    'tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    Derivatives: Phi(x) + x phi(x) (phi the normal density), and the tanh form's chain rule.
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    x = _floating("GeluKernelImpl", input)
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = np.tanh(inner)
        out = 0.5 * x * (1 + t)

        def local() -> np.ndarray:
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner

        return _unary("GeluBackward0", input, out, local)
    cdf = 0.5 * (1 + np.asarray(_erf(x / _SQRT_2), dtype=np.float64))
    return _unary("GeluBackward0", input, x * cdf, lambda: cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold; derivative sigmoid(beta x)."""
    x = _floating("softplus", input)
    bx = x * beta
    linear = bx > threshold
    with np.errstate(over="ignore"):
        out = np.where(linear, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)

    def local() -> np.ndarray:
        z = np.exp(np.minimum(bx, threshold))
        return np.where(linear, 1.0, z / (z + 1))

    return _unary("SoftplusBackward0", input, out, local)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """clamp(x, min_val, max_val); derivative 1 strictly inside (min_val, max_val), else 0."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x = _floating("hardtanh", input)
    out = np.clip(x, min_val, max_val)
    return _unary("HardtanhBackward0", input, out, lambda: ((x > min_val) & (x < max_val)).astype(np.float64))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6), i.e. hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x sigmoid(x); derivative s (1 + x (1 - s))."""
    x = _floating("silu", input)
    e = np.exp(-np.abs(x))  # stable sigmoid: never exp of a large positive number
    s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return _unary("SiluBackward0", input, x * s, lambda: s * (1 + x * (1 - s)))


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|), stable; derivative 1 - sigmoid(x)."""
    x = _floating("log_sigmoid_forward", input)
    out = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    def local() -> np.ndarray:
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, e / (1 + e), 1 / (1 + e))

    return _unary("LogSigmoidBackward0", input, out, local)
