"""The activations of the recurrent kernels and their derivatives, written to work in place.

Every derivative is expressed through the *output* y = act(a) rather than the
pre-activation a, so the forward pass never has to keep a:

    tanh:     y = tanh(a)                  dy/da = 1 - y**2
    relu:     y = max(a, 0)                dy/da = 0 if y <= 0 else 1
    sigmoid:  y = 1 / (1 + exp(-a))        dy/da = y (1 - y)

relu's derivative follows PyTorch's ``threshold_backward`` exactly: 0 where y <= 0
(so 0 at a == 0), 1 elsewhere, *including where y is NaN* (NaN <= 0 is false).  Taking
sign(y) instead would turn one NaN input into NaN gradients everywhere.

The GRU computes its sigmoid as e / (1 + e) with e = exp(a), after clipping a to
[-B, B] with B = `sigmoid_bound(dtype)` (17 in float32, 36 in float64):

- accurate to a few units in the last place *relative to the result* for |a| <= B.  The LSTM
  still uses 0.5 tanh(0.5 a) + 0.5 (one tanh over its four gates), which is accurate only
  relative to 1: for a << 0, where the result is small, 0.5 + 0.5 tanh(...) cancels, and
  the derivative y (1 - y) inherits the relative error.  Measured over [-10, 10] in float32:
  up to 7,752 ulp of the result (mean 171) for the tanh form, 3.2 ulp (mean 0.5) for
  e / (1 + e).  Under NumPy's SSE4.2 baseline (NPY_DISABLE_CPU_FEATURES, tools/portability.sh)
  that cancellation put a GRU's float32 bias gradient 9x above torch's error (H = 1);
- never subnormal: beyond the clip the result is sigmoid(+-B) instead of a number nearer 0 or 1,
  an absolute difference below 6e-8 (float32), and exp never overflows or underflows.
  Subnormal operands make x86 arithmetic 10-100x slower, and 1 / (1 + exp(-a)) unclipped is
  subnormal for -103 < a < -87 in float32 (the tanh form saturates to exactly 0 and 1).

Measured (2026-12, 2-layer LSTM and GRU, H = 64, batch 16 x 32, weights x30 so that gates
saturate, 2,000 SGD steps on fresh batches, CPU time per step, machine shared, with the tanh
form for both kinds): thousands of pre-activations fell in the range where 1/(1+exp(-a)) is
subnormal, yet the kernels wrote 214 subnormal numbers in all (LSTM; products such as f * c
decaying; none for GRU) among some 10^9 values, and the step time stayed flat: 5.6 -> 5.7 ms
(LSTM), 5.9 -> 6.3 ms (GRU) from the first to the last tenth of the run, where torch's GRU
went from 10.9 to 17.4 ms.  So nothing is flushed: there is nothing to flush.
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


def sigmoid_bound(dtype) -> float:
    """B: the GRU's sigmoid clips its argument to [-B, B] (module docstring); 17 for float32, 36 for float64.

    exp(-B) is far above the smallest normal number, and the clip moves no result by more than
    about 6e-8 (float32: sigmoid(-B) = 4.1e-8 below, 1 - sigmoid(B) = 6.0e-8 above) or 2.3e-16 (float64).
    """
    return 17.0 if np.dtype(dtype).itemsize <= 4 else 36.0


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
