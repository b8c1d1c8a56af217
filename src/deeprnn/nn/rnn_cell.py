"""``nn.RNNCell``: one time step of an Elman RNN, ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

Shapes: input (N, H_in) or (H_in,); hidden (N, H_out) or (H_out,), zeros by default;
the result h' has the hidden's shape. Parameters weight_ih (H_out, H_in), weight_hh
(H_out, H_out), bias_ih and bias_hh (H_out,), all drawn from U(-1/sqrt(H_out), 1/sqrt(H_out)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.random import Generator
from ..autograd.tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter
from .rnn_checks import check_dtype, check_nonlinearity, check_sizes, check_tensor
from .rnn_function import rnn_cell

__all__ = ["RNNCell"]


class RNNCell(Module):
    """An Elman RNN cell: ``RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')``.

    Equivalent to ``act(input @ weight_ih.T + bias_ih + hx @ weight_hh.T + bias_hh)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
    ) -> None:
        check_sizes(input_size, hidden_size)
        check_nonlinearity(nonlinearity)
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bool(bias)
        self.nonlinearity = nonlinearity
        self.generator = generator
        dt = dtype or np.float32
        self.weight_ih = Parameter(np.zeros((hidden_size, input_size), dtype=dt))
        self.weight_hh = Parameter(np.zeros((hidden_size, hidden_size), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.zeros(hidden_size, dtype=dt))
            self.bias_hh = Parameter(np.zeros(hidden_size, dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(H_out), 1/sqrt(H_out)) for every parameter, as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv, generator=self.generator)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        """One step; returns h' shaped like hx."""
        check_tensor("input", input)
        if input.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        check_dtype("RNNCell input", input, self.weight_ih.dtype)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}")
        if hx is not None:
            check_tensor("hx", hx)
            expected = (input.shape[0], self.hidden_size) if input.dim() == 2 else (self.hidden_size,)
            if tuple(hx.shape) != expected:
                raise RuntimeError(f"Expected hidden size {expected}, got {list(hx.shape)}")
            check_dtype("RNNCell hx", hx, self.weight_ih.dtype)
        return rnn_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s
