"""Small helpers shared by ``functional`` and ``loss_functions``: input checks and a stable log-softmax."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor

__all__: list[str] = []


def _check_tensor(name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a deeprnn.Tensor, got {type(value).__name__}")


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """log softmax(x) = (x - max) - log(sum(exp(x - max))), stable for large |x|."""
    if x.ndim == 0:
        return np.zeros_like(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
