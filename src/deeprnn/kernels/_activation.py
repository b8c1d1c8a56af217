"""The activations of the recurrent kernels and their derivatives, written to work in place.

Every derivative is expressed through the *output* y = act(a) rather than the
pre-activation a, so the forward pass never has to keep a:

    tanh:     y = tanh(a)                  dy/da = 1 - y**2
    relu:     y = max(a, 0)                dy/da = 0 if y <= 0 else 1
    sigmoid:  y = 1 / (1 + exp(-a))        dy/da = y (1 - y)

relu's derivative follows PyTorch's ``threshold_backward`` exactly: 0 where y <= 0
(so 0 at a == 0), 1 elsewhere, *including where y is NaN* (NaN <= 0 is false).  Taking
sign(y) instead would turn one NaN input into NaN gradients everywhere.

The sigmoid is computed as 0.5 * tanh(0.5 a) + 0.5, which is the same function.  It
saturates to exactly 0 and 1 instead of producing the subnormal numbers that
1 / (1 + exp(-a)) gives for a < -87 in float32 (exp(-a) overflows to inf, and for
-103 < a < -87 the result is subnormal): subnormal operands make x86 arithmetic 10-100x
slower.  Scaling by 0.5 is exact, so only tanh and one rounding differ from the
textbook formula: at most a few units in the last place (the float32 errors of the
modules against float64 have the same distribution as torch's: tests/oracle.py).

Measured (2026-12, 2-layer LSTM and GRU, H = 64, batch 16 x 32, weights x30 so that gates
saturate, 2,000 SGD steps on fresh batches, CPU time per step, machine shared): thousands of
pre-activations fell in the range where 1/(1+exp(-a)) is subnormal, yet the kernels wrote
214 subnormal numbers in all (LSTM; products such as f * c decaying; none for GRU) among
some 10^9 values, and the step time stayed flat: 5.6 -> 5.7 ms (LSTM), 5.9 -> 6.3 ms (GRU)
from the first to the last tenth of the run, where torch's GRU went from 10.9 to 17.4 ms.
So nothing is flushed: there is nothing to flush.
"""

from __future__ import annotations

import numpy as np

NONLINEARITIES = ("tanh", "relu")


def check_nonlinearity(nonlinearity: str) -> None:
    """Raise ValueError unless `nonlinearity` is 'tanh' or 'relu'."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def activate_(a: np.ndarray, nonlinearity: str) -> np.ndarray:
    """Apply the Elman nonlinearity to `a` in place and return it: a <- act(a)."""
    if nonlinearity == "tanh":
        return np.tanh(a, out=a)
    return np.maximum(a, a.dtype.type(0), out=a)


def sigmoid_(a: np.ndarray) -> np.ndarray:
    """a <- sigmoid(a) = 0.5 tanh(0.5 a) + 0.5, in place (a may be a strided view)."""
    half = a.dtype.type(0.5)
    np.multiply(a, half, out=a)
    np.tanh(a, out=a)
    np.multiply(a, half, out=a)
    return np.add(a, half, out=a)


def derivative_from_output(y: np.ndarray, out: np.ndarray, nonlinearity: str) -> np.ndarray:
    """Write act'(a) into `out`, computed from the output y = act(a); same shape as y."""
    one = out.dtype.type(1)
    if nonlinearity == "tanh":
        np.multiply(y, y, out=out)  # y**2
        return np.subtract(one, out, out=out)  # 1 - y**2
    np.less_equal(y, out.dtype.type(0), out=out)  # 1 where y <= 0 (not where y is NaN)
    return np.subtract(one, out, out=out)  # 0 where y <= 0, else 1


def sigmoid_derivative(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out <- y (1 - y), the sigmoid's derivative from its output y."""
    np.subtract(out.dtype.type(1), y, out=out)
    return np.multiply(out, y, out=out)


def tanh_derivative(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out <- 1 - y**2, tanh's derivative from its output y."""
    np.multiply(y, y, out=out)
    return np.subtract(out.dtype.type(1), out, out=out)
