"""``nn.RNNCell``, ``nn.LSTMCell`` and ``nn.GRUCell``: one time step of each kind, with PyTorch's API.

    RNNCell:   h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)
    LSTMCell:  i, f, g, o from x W_ih^T + b_ih + h W_hh^T + b_hh;  c' = f c + i g,  h' = o tanh(c')
    GRUCell:   r, z = sigmoid(...),  n = tanh(W_in x + b_in + r (W_hn h + b_hn)),  h' = (1 - z) n + z h

Shapes: input (N, H_in) or (H_in,); h and c (N, H_out) or (H_out,), zeros by default; the
results have the state's shape.  Parameters weight_ih (G*H_out, H_in), weight_hh
(G*H_out, H_out), bias_ih and bias_hh (G*H_out,), G = 1, 4, 3, all drawn from
U(-1/sqrt(H_out), 1/sqrt(H_out)).  Each step runs the same kernels as the whole-sequence
modules (kernels/cells.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.dtypes import as_dtype, get_default_dtype
from ..autograd.random import Generator
from ..autograd.tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter
from .rnn_checks import check_empty_size, check_matmul_dtype, check_tensor
from .rnn_function import recurrent_cell

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """Parameters shared by the cells (PyTorch's ``nn.RNNCellBase``): ``num_chunks`` gates of hidden_size rows."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.generator = generator
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        # torch makes these with torch.empty, whose size checks are the cells' only ones.
        self.weight_ih = Parameter(np.zeros(check_empty_size((num_chunks * hidden_size, input_size)), dtype=dt))
        self.weight_hh = Parameter(np.zeros(check_empty_size((num_chunks * hidden_size, hidden_size)), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.zeros(check_empty_size((num_chunks * hidden_size,)), dtype=dt))
            self.bias_hh = Parameter(np.zeros(check_empty_size((num_chunks * hidden_size,)), dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(H_out), 1/sqrt(H_out)) for every parameter, as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv, generator=self.generator)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _check_input(self, input: Tensor) -> bool:  # noqa: A002
        """torch's Python-level checks of the input; returns whether it is batched."""
        check_tensor("input", input)
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        return input.dim() == 2

    def _check_state(self, state: Tensor, what: str) -> None:
        check_tensor(what.replace("hidden", "hx"), state)
        if state.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected {what} to be 1D or 2D, got {state.dim()}D instead")

    def _run(self, mode: str, input: Tensor, states: tuple, batched: bool) -> tuple:  # noqa: A002
        """The checks torch's C++ cell makes (sizes, then dtypes), then one step of the kernel."""
        N = input.shape[0] if batched else 1
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}")
        for i, s in enumerate(states):
            if s is None:
                continue
            shape = tuple(s.shape) if batched else (1, *s.shape)  # as the C++ cell sees it
            if shape[0] != N:
                raise RuntimeError(f"Input batch size {N} doesn't match hidden{i} batch size {shape[0]}")
            if len(shape) < 2:
                raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
            if shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{i} has inconsistent hidden_size: got {shape[1]}, expected {self.hidden_size}"
                )
        w_dtype = self.weight_ih.dtype
        check_matmul_dtype(input, w_dtype)
        for s in states:
            if s is not None:
                check_matmul_dtype(s, w_dtype)
        return recurrent_cell(mode, input, states, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class RNNCell(RNNCellBase):
    """An Elman RNN cell: ``RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None)``.

    Equivalent to ``act(input @ weight_ih.T + bias_ih + hx @ weight_hh.T + bias_hh)``.  As in
    torch, an unknown nonlinearity is accepted here and refused by ``forward``.
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
        super().__init__(input_size, hidden_size, bias, 1, device, dtype, generator)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        """One step; returns h' shaped like hx (zeros by default)."""
        batched = self._check_input(input)
        if hx is not None:
            self._check_state(hx, "hidden")
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        (h,) = self._run(mode, input, (hx,), batched)
        return h


class LSTMCell(RNNCellBase):
    """An LSTM cell: ``LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None)``.

    ``forward(input, (h, c)=None) -> (h', c')``, gate order i, f, g, o as PyTorch.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype, generator)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        """One step; returns (h', c') shaped like (h, c) (zeros by default)."""
        batched = self._check_input(input)
        if hx is None:
            states: tuple = (None, None)
        else:
            for i, value in enumerate(hx):
                self._check_state(value, f"hx[{i}]")
            states = tuple(hx) if batched else (hx[0], hx[1])  # unbatched: a 1-tuple raises IndexError, as torch
            if len(states) != 2:
                raise RuntimeError("lstm_cell expects two hidden states")
        h, c = self._run("LSTM", input, states, batched)
        return h, c


class GRUCell(RNNCellBase):
    """A GRU cell: ``GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None)``.

    ``forward(input, h=None) -> h'``, gate order r, z, n as PyTorch.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype, generator)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        """One step; returns h' shaped like hx (zeros by default)."""
        batched = self._check_input(input)
        if hx is not None:
            self._check_state(hx, "hidden")
        (h,) = self._run("GRU", input, (hx,), batched)
        return h
