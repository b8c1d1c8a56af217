"""``RNNBase``: what nn.RNN, nn.LSTM and nn.GRU share, as in PyTorch.

The bookkeeping of a recurrent module: validating the arguments, registering the
parameters with PyTorch's names, shapes and initialisation, normalising the input
(batch_first, unbatched, packed), checking it with PyTorch's errors, drawing the dropout
masks, and calling the one kernel of its kind (nn/rnn_function.py).

Shapes, with N = batch size, L = sequence length, D = 2 if bidirectional else 1,
H_out = proj_size if proj_size > 0 else hidden_size (LSTM only has proj_size):
    input   (L, N, H_in), or (N, L, H_in) with batch_first, or (L, H_in) unbatched,
            or a PackedSequence
    h_0     (D*num_layers, N, H_out), or (D*num_layers, H_out) unbatched; zeros by default
    c_0     (LSTM) (D*num_layers, N, hidden_size)
    output  (L, N, D*H_out) (batch_first: (N, L, D*H_out)), the last layer's h_t for every t
    h_n     (D*num_layers, N, H_out), every layer's and direction's final h_t

Parameters, for layer k (``_reverse`` for the reverse direction), G = 4 (LSTM), 3 (GRU), 1 (RNN):
    weight_ih_l{k}  (G*hidden_size, H_in for k = 0, else D*H_out)
    weight_hh_l{k}  (G*hidden_size, H_out)
    bias_ih_l{k}, bias_hh_l{k}  (G*hidden_size,) when bias
    weight_hr_l{k}  (proj_size, hidden_size) when proj_size > 0
all drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.dtypes import as_dtype, get_default_dtype
from ..autograd.random import Generator, resolve
from ..autograd.tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter
from .rnn_checks import check_empty_size, check_input_dtype, check_matmul_dtype, check_rnn_args, check_tensor
from .rnn_function import recurrent
from .utils.rnn import PackedSequence

__all__ = ["RNNBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """Parameters, checks and input handling shared by RNN, LSTM and GRU (PyTorch's ``nn.RNNBase``).

    ``mode`` is one of 'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'.  ``generator`` (deeprnn only)
    makes the initialisation and the dropout masks reproducible.
    """

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
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
    ) -> None:
        check_rnn_args(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self.generator = generator
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden_size = proj_size if proj_size > 0 else hidden_size
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = {  # created in torch's order, so that a bad size fails as torch.empty does
                    f"weight_ih_l{layer}{suffix}": (gate_size, layer_input_size),
                    f"weight_hh_l{layer}{suffix}": (gate_size, real_hidden_size),
                    f"bias_ih_l{layer}{suffix}": (gate_size,),
                    f"bias_hh_l{layer}{suffix}": (gate_size,),
                }
                if proj_size > 0:
                    shapes[f"weight_hr_l{layer}{suffix}"] = (proj_size, hidden_size)
                names = []
                for name, shape in shapes.items():
                    shape = check_empty_size(shape)
                    if bias or not name.startswith("bias"):
                        setattr(self, name, Parameter(np.zeros(shape, dtype=dt)))
                        names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch does."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv, generator=self.generator)

    def flatten_parameters(self) -> None:
        """A no-op, as on PyTorch's CPU: the kernels read each weight where it is (cuDNN packs them on GPU)."""

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _flat_weights(self) -> list[Parameter | None]:
        """Every parameter in ``_flat_weights_names`` order (as torch keeps them for its kernels)."""
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Per layer and direction: [weight_ih, weight_hh(, bias_ih, bias_hh)(, weight_hr)]."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def _weight_groups(self) -> list[tuple]:
        """Per layer and direction, the kernels' tuple (w_ih, w_hh, b_ih, b_hh[, w_hr]) with None for no bias."""
        params = self._parameters  # without Module.__getattr__'s Python frame for each weight
        groups = []
        for names in self._all_weights:
            w = [params[n] if n in params else getattr(self, n) for n in names]  # or a plain attribute
            w_ih, w_hh = w[0], w[1]
            b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
            groups.append((w_ih, w_hh, b_ih, b_hh, w[-1]) if self.proj_size > 0 else (w_ih, w_hh, b_ih, b_hh))
        return groups

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- the forward pass -------------------------------------------------------------
    def _dropout_masks(self, T: int, N: int, dtype: np.dtype, rows: int | None = None) -> list[np.ndarray] | None:
        """The L-1 inter-layer masks (T, N, D*H_out) (packed: (rows, D*H_out)), scaled by 1/(1-p); None if off."""
        if not (self.training and self.dropout > 0 and self.num_layers > 1):
            return None
        p = self.dropout
        rng = resolve(self.generator)
        width = self.num_directions * (self.proj_size or self.hidden_size)
        shape = (T, N, width) if rows is None else (rows, width)
        if p >= 1:
            return [np.zeros(shape, dtype=dtype) for _ in range(self.num_layers - 1)]
        scale = np.asarray(1.0 / (1.0 - p), dtype=dtype)
        return [(rng.random(shape) >= p).astype(dtype) * scale for _ in range(self.num_layers - 1)]

    def _state_sizes(self, N: int) -> list[tuple[int, int, int]]:
        """The expected (D*num_layers, N, .) of h_0 (and c_0)."""
        LD = self.num_layers * self.num_directions
        h = (LD, N, self.proj_size if self.proj_size > 0 else self.hidden_size)
        return [h, (LD, N, self.hidden_size)] if self.mode == "LSTM" else [h]

    def _given_states(self, hx: Any, batched: bool | None) -> list[Tensor] | None:
        """hx as a list of state tensors, after torch's dimension checks (batched None: packed, no checks)."""
        if hx is None:
            return None
        if self.mode != "LSTM":
            check_tensor("hx", hx)
            if batched is False and hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            if batched and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            return [hx]
        h, c = hx[0], hx[1]  # as torch: a tensor is indexed, a 1-tuple raises IndexError
        check_tensor("hx[0]", h)
        check_tensor("hx[1]", c)
        if batched is not None and (h.dim(), c.dim()) != ((3, 3) if batched else (2, 2)):
            what = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(
                f"For {what} input, hx and cx should also be {3 if batched else 2}-D but got "
                f"({h.dim()}-D, {c.dim()}-D) tensors"
            )
        return [h, c, *hx[2:]]

    def _check_forward_args(
        self, x: Tensor, T: int, N: int, states: list[Tensor] | None, batched: bool, w_dtype: np.dtype
    ) -> None:
        """torch's check_forward_args and the kernel's own checks, in torch's order; w_dtype the weights'."""
        check_input_dtype(x, w_dtype)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {x.shape[-1]}"
            )
        if states is not None:
            lstm = self.mode == "LSTM"
            for i, (s, expected) in enumerate(zip(states, self._state_sizes(N))):
                shape = tuple(s.shape) if batched else (s.shape[0], 1, *s.shape[1:])
                if shape != expected:
                    what = f"hidden[{i}]" if lstm else "hidden"
                    raise RuntimeError(f"Expected {what} size {expected}, got {list(shape)}")
            if lstm and len(states) != 2:
                raise RuntimeError("lstm expects two hidden states")
        if T == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        for s in states or ():
            check_matmul_dtype(s, w_dtype)

    def _run(self, data: Tensor, states: list[Tensor] | None, groups: list, T: int, N: int, **layout: Any) -> tuple:
        """Call the kernel on the weights `groups` (_weight_groups): (output, (h_n,)) or (output, (h_n, c_n))."""
        hx = tuple(states) if states is not None else (None,) * (2 if self.mode == "LSTM" else 1)
        rows = data.shape[0] if layout.get("batch_sizes") is not None else None
        masks = self._dropout_masks(T, N, groups[0][0].dtype, rows)
        return recurrent(
            self.mode,
            data,
            hx,
            groups,
            self.num_layers,
            self.bidirectional,
            dropout_masks=masks,
            **layout,
        )

    def _result(self, output: Any, states: tuple) -> tuple:
        return output, (states if self.mode == "LSTM" else states[0])

    def forward(self, input: Any, hx: Any = None) -> tuple:  # noqa: A002 - PyTorch's name
        """Run the network over a sequence (or a PackedSequence): returns (output, h_n), LSTM (output, (h_n, c_n))."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        check_tensor("input", input)
        shape = input._data.shape
        if len(shape) not in (2, 3):
            name, tail = ("RNN", " tensor") if self.mode.startswith("RNN") else (self.mode, "")
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {len(shape)}D{tail} instead")
        batched = len(shape) == 3
        states = self._given_states(hx, batched)
        time_axis = 1 if (batched and self.batch_first) else 0
        T = shape[time_axis]
        N = shape[1 - time_axis] if batched else 1
        groups = self._weight_groups()
        self._check_forward_args(input, T, N, states, batched, groups[0][0].dtype)
        out, final = self._run(input, states, groups, T, N, batch_first=self.batch_first, batched=batched)
        return self._result(out, final)

    def _forward_packed(self, packed: PackedSequence, hx: Any) -> tuple:
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        check_tensor("input", data)
        sizes = np.asarray(batch_sizes._data if isinstance(batch_sizes, Tensor) else batch_sizes, dtype=np.int64)
        N = int(sizes[0])
        states = self._given_states(hx, None)
        groups = self._weight_groups()
        check_input_dtype(data, groups[0][0].dtype)
        if data.dim() != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {data.dim()}")
        self._check_forward_args(data, len(sizes), N, states, True, groups[0][0].dtype)
        order = None if sorted_indices is None else np.asarray(sorted_indices._data, dtype=np.intp)
        inverse = None if unsorted_indices is None else np.asarray(unsorted_indices._data, dtype=np.intp)
        out, final = self._run(
            data, states, groups, len(sizes), N, batch_sizes=sizes, sorted_indices=order, unsorted_indices=inverse
        )
        return self._result(PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices), final)
