"""``Parameter``: a tensor that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor, as_array
from ..kernels.panels import aligned_zeros

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that a Module lists in ``parameters()``."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.zeros(0, dtype=np.float32)
        else:  # a C-contiguous copy on a 64-byte boundary: the compiled loops read W_hh's rows with vector loads
            src = as_array(data)
            arr = aligned_zeros(src.shape, src.dtype)
            np.copyto(arr, src)
        self._init(arr, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
