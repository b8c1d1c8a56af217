"""``nn.Linear`` (y = x W^T + b) and ``nn.Identity``.

Shapes: input (*, H_in) -> output (*, H_out); weight (H_out, H_in), bias (H_out,).
Initialisation as PyTorch: weight by kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(H_in), 1/sqrt(H_in)),
and bias U(-1/sqrt(H_in), 1/sqrt(H_in)).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..autograd.dtypes import as_dtype, get_default_dtype
from ..autograd.random import Generator
from ..autograd.tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "Identity"]


def check_features(**sizes: Any) -> None:
    """Each size must be an int >= 0 (PyTorch's classes and messages)."""
    for name, v in sizes.items():
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"{name} should be of type int, got: {type(v).__name__}")
    shape = list(sizes.values())[::-1]
    for v in shape:
        if v < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {v}: {shape}")


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input


class Linear(Module):
    """An affine map ``Linear(in_features, out_features, bias=True)``: y = x W^T + b.

    Equivalent to ``input @ weight.T + bias`` for input (*, in_features).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
    ) -> None:
        check_features(in_features=in_features, out_features=out_features)
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.generator = generator
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        self.weight = Parameter(np.zeros((out_features, in_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.zeros(out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight ~ kaiming_uniform(a=sqrt(5)); bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=self.generator)
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator=self.generator)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*, in_features) -> (*, out_features)."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
