"""Argument and input validation of the recurrent modules and cells, as PyTorch does it.

Every check runs before any state changes, in PyTorch's order, with PyTorch's exception
class and message (`deeprnn.` where torch says `torch.`).  Where torch's error comes from
deeper down (``torch.empty`` for a bad size, a matrix product for a state of another
dtype), the message is the one torch users see.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from ..autograd.dtypes import torch_type_name
from ..autograd.tensor import Tensor

__all__ = [
    "check_rnn_args",
    "check_empty_size",
    "check_nonlinearity",
    "check_tensor",
    "check_input_dtype",
    "check_matmul_dtype",
]


def check_rnn_args(
    mode: str,
    input_size: Any,
    hidden_size: Any,
    num_layers: Any,
    bias: Any,
    batch_first: Any,
    dropout: Any,
    proj_size: Any,
) -> None:
    """RNNBase's checks, in torch's order (ValueError/TypeError, and its UserWarning on dropout)."""
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
            f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
            UserWarning,
            stacklevel=4,
        )
    if not isinstance(bias, bool):
        raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
    if not isinstance(batch_first, bool):
        raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
    if not isinstance(input_size, int):
        raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    if mode not in ("LSTM", "GRU", "RNN_TANH", "RNN_RELU"):
        raise ValueError("Unrecognized RNN mode: " + mode)
    range(num_layers)  # TypeError "'float' object cannot be interpreted as an integer", as torch's loop


def check_empty_size(shape: tuple) -> tuple[int, ...]:
    """The size checks of ``torch.empty(shape)``, which is where torch rejects a bad parameter size."""
    for pos, v in enumerate(shape):
        if pos == 0 and (not isinstance(v, int) or isinstance(v, bool)):
            raise TypeError(
                f"empty(): argument 'size' (position 1) must be tuple of ints, but found element of type "
                f"{type(v).__name__} at pos 0"
            )
        if not isinstance(v, int):
            raise TypeError(
                f"empty(): argument 'size' failed to unpack the object at pos {pos + 1} with error "
                f'"type must be tuple of ints,but got {type(v).__name__}"'
            )
    for v in shape:
        if v < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {v}: {list(map(int, shape))}")
    return tuple(int(v) for v in shape)


def check_nonlinearity(nonlinearity: Any) -> None:
    """nn.RNN's check at construction: only 'tanh' and 'relu' exist for an Elman RNN."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")


def check_tensor(name: str, value: Any) -> None:
    """Raise TypeError naming `name` unless value is a deeprnn.Tensor (torch fails later, on ``.dim()``)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a deeprnn.Tensor, got {type(value).__name__}")


def _name(dtype: Any) -> str:
    return f"deeprnn.{np.dtype(dtype).name}"


def check_input_dtype(tensor: Tensor, weight_dtype: Any) -> None:
    """RNNBase.check_input: the input must have the parameters' dtype (ValueError)."""
    if tensor.dtype != weight_dtype:
        raise ValueError(
            f"RNN input dtype ({_name(tensor.dtype)}) does not match weight dtype ({_name(weight_dtype)}). "
            f"Convert input: input.to({_name(weight_dtype)}), or convert model: model.to({_name(tensor.dtype)})"
        )


def check_matmul_dtype(tensor: Tensor, weight_dtype: Any) -> None:
    """A state (or a cell's input) of another dtype than the weights: torch's product refuses it (RuntimeError)."""
    if tensor.dtype != weight_dtype:
        raise RuntimeError(
            "mat1 and mat2 must have the same dtype, but got "
            f"{torch_type_name(tensor.dtype)} and {torch_type_name(weight_dtype)}"
        )
