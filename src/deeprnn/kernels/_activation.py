"""The two Elman nonlinearities and their derivatives, written to work in place.

Both derivatives are expressed through the *output* y = act(a) rather than the
pre-activation a, so the forward pass never has to keep a:

    tanh:  y = tanh(a)      dy/da = 1 - y**2
    relu:  y = max(a, 0)    dy/da = 1 if y > 0 else 0   (= sign(y), since y >= 0)

At a == 0 relu's derivative is taken as 0, as PyTorch does.
"""

from __future__ import annotations

import numpy as np

NONLINEARITIES = ("tanh", "relu")


def check_nonlinearity(nonlinearity: str) -> None:
    """Raise ValueError unless `nonlinearity` is 'tanh' or 'relu'."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def activate_(a: np.ndarray, nonlinearity: str) -> np.ndarray:
    """Apply the nonlinearity to `a` in place and return it: a <- act(a)."""
    if nonlinearity == "tanh":
        return np.tanh(a, out=a)
    return np.maximum(a, a.dtype.type(0), out=a)


def derivative_from_output(y: np.ndarray, out: np.ndarray, nonlinearity: str) -> np.ndarray:
    """Write act'(a) into `out`, computed from the output y = act(a); same shape as y."""
    if nonlinearity == "tanh":
        np.multiply(y, y, out=out)  # y**2
        return np.subtract(out.dtype.type(1), out, out=out)  # 1 - y**2
    return np.sign(y, out=out)  # y >= 0 after relu, so sign(y) is 1 where y > 0 and 0 elsewhere
