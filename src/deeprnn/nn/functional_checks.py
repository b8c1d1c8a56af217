"""Small helpers shared by ``functional`` and ``loss_functions``: input checks (and the stable log-softmax)."""

from __future__ import annotations

from typing import Any

from ..autograd.ops_softmax import stable_log_softmax as _log_softmax  # noqa: F401  (used by loss_functions)
from ..autograd.tensor import Tensor

__all__: list[str] = []


def _check_tensor(name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a deeprnn.Tensor, got {type(value).__name__}")
