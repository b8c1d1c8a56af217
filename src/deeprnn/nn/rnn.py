"""``nn.RNN``: a deep, optionally bidirectional Elman RNN with PyTorch's API and numbers.

For each layer l, direction d and time step t::

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),    act = tanh or relu

Layer 0 reads the input x_t; layer l > 0 reads layer l-1's output (both directions
concatenated), with dropout between layers in training mode.

Shapes, with N = batch size, L = sequence length, D = 2 if bidirectional else 1:
    input   (L, N, H_in), or (N, L, H_in) with batch_first, or (L, H_in) unbatched
    h_0     (D*num_layers, N, H_out), or (D*num_layers, H_out) unbatched; zeros by default
    output  (L, N, D*H_out) (batch_first: (N, L, D*H_out)), the last layer's h_t for every t
    h_n     (D*num_layers, N, H_out), every layer's and direction's final h_t
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.random import Generator, resolve
from ..autograd.tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter
from .rnn_checks import check_dropout, check_dtype, check_nonlinearity, check_sizes, check_tensor
from .rnn_function import rnn

__all__ = ["RNNBase", "RNN"]


class RNNBase(Module):
    """Parameter bookkeeping shared by recurrent modules (names, shapes and initialisation as PyTorch)."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
    ) -> None:
        check_dropout(dropout, num_layers if isinstance(num_layers, int) else 1)
        check_sizes(input_size, hidden_size, num_layers)
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.generator = generator
        D = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            for direction in range(D):
                suffix = "_reverse" if direction == 1 else ""
                layer_in = input_size if layer == 0 else hidden_size * D
                shapes = {
                    f"weight_ih_l{layer}{suffix}": (hidden_size, layer_in),
                    f"weight_hh_l{layer}{suffix}": (hidden_size, hidden_size),
                }
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (hidden_size,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (hidden_size,)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(np.zeros(shape, dtype=dtype or np.float32)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(H_out), 1/sqrt(H_out)), as PyTorch does."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv, generator=self.generator)

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Per layer and direction: [weight_ih, weight_hh(, bias_ih, bias_hh)]."""
        per = 4 if self.bias else 2
        w = [getattr(self, n) for n in self._flat_weights_names]
        return [w[i : i + per] for i in range(0, len(w), per)]

    def _weight_groups(self) -> list[tuple[Parameter, Parameter, Parameter | None, Parameter | None]]:
        return [(g[0], g[1], g[2] if self.bias else None, g[3] if self.bias else None) for g in self.all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """A multi-layer Elman RNN: ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh',
    bias=True, batch_first=False, dropout=0.0, bidirectional=False)``.

    ``forward(input, h_0=None) -> (output, h_n)``; see the module docstring for the shapes.
    Equivalent to this loop (one layer, one direction)::

        for t in range(L):
            h = act(x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
            output.append(h)

    but run by fused kernels: one input-projection GEMM per layer and a hand-derived BPTT.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
    ) -> None:
        check_nonlinearity(nonlinearity)
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
            generator,
        )
        self.nonlinearity = nonlinearity

    def _dropout_masks(self, T: int, N: int, dtype: np.dtype) -> list[np.ndarray] | None:
        if not (self.training and self.dropout > 0 and self.num_layers > 1):
            return None
        p = self.dropout
        rng = resolve(self.generator)
        shape = (T, N, self.num_directions * self.hidden_size)
        if p >= 1:
            return [np.zeros(shape, dtype=dtype) for _ in range(self.num_layers - 1)]
        scale = np.asarray(1.0 / (1.0 - p), dtype=dtype)
        return [(rng.random(shape) >= p).astype(dtype) * scale for _ in range(self.num_layers - 1)]

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        """Run the network over a sequence; returns (output, h_n)."""
        check_tensor("input", input)
        if input.dim() not in (2, 3):
            raise ValueError(f"RNN: Expected input to be 2D or 3D, got {input.dim()}D tensor instead")
        batched = input.dim() == 3
        if hx is not None:
            check_tensor("hx", hx)
            if batched and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            if not batched and hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
        w_dtype = self.weight_ih_l0.dtype
        check_dtype("RNN input", input, w_dtype)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )
        time_axis = 1 if (batched and self.batch_first) else 0
        T = input.shape[time_axis]
        if T == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        N = input.shape[1 - time_axis] if batched else 1
        if hx is not None:
            expected = (
                (self.num_layers * self.num_directions, N, self.hidden_size)
                if batched
                else (self.num_layers * self.num_directions, self.hidden_size)
            )
            if tuple(hx.shape) != expected:
                raise RuntimeError(f"Expected hidden size {expected}, got {list(hx.shape)}")
            check_dtype("RNN hx", hx, w_dtype)
        masks = self._dropout_masks(T, N, w_dtype)
        return rnn(
            input,
            hx,
            self._weight_groups(),
            self.nonlinearity,
            self.num_layers,
            self.bidirectional,
            self.batch_first,
            batched,
            masks,
        )
