"""``Parameter``: a tensor that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor, as_array

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that a Module lists in ``parameters()``."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        arr = np.zeros(0, dtype=np.float32) if data is None else np.array(as_array(data), copy=True)
        self._init(arr, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
