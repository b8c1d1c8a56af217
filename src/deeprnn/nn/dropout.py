"""``nn.Dropout``: zero each element with probability p in training and scale the rest by 1/(1-p).
``Dropout1d`` / ``Dropout2d`` zero whole channels instead (see ``functional_dropout``).

In evaluation mode (``module.eval()``) it is the identity. The mask is drawn from the
module's ``generator`` (the default generator when None), so runs are reproducible.
"""

from __future__ import annotations

from typing import Any

from ..autograd.random import Generator
from ..autograd.tensor import Tensor
from . import functional as F
from . import functional_dropout as FD
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d"]


class Dropout(Module):
    """``Dropout(p=0.5, inplace=False, generator=None)``; input and output have the same shape."""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: Generator | None = None) -> None:
        super().__init__()
        self.p = F._check_p(p)
        self.inplace = inplace
        self.generator = generator

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


# ---- channel-wise dropout (issue 12) -----------------------------------------------------------
class _FeatureDropout(Dropout):
    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._fn(input, self.p, self.training, generator=self.generator)


class Dropout1d(_FeatureDropout):
    """``Dropout1d(p=0.5, inplace=False, generator=None)``: zero whole channels of (N, C, L) or (C, L)."""

    @staticmethod
    def _fn(*args: Any, **kwargs: Any) -> Tensor:
        return FD.dropout1d(*args, **kwargs)


class Dropout2d(_FeatureDropout):
    """``Dropout2d(p=0.5, inplace=False, generator=None)``: zero whole channels of (N, C, H, W)."""

    @staticmethod
    def _fn(*args: Any, **kwargs: Any) -> Tensor:
        return FD.dropout2d(*args, **kwargs)
