"""Argument and input validation shared by RNN and RNNCell, with PyTorch's exception classes.

Every check runs before any state changes, and each message names what was expected and
what was received.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

from ..autograd.tensor import Tensor

__all__ = ["check_sizes", "check_nonlinearity", "check_dropout", "check_tensor", "check_dtype"]


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_sizes(input_size: Any, hidden_size: Any, num_layers: Any = 1) -> None:
    """input_size, hidden_size and num_layers must be ints >= 1."""
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if not _is_int(v):
            raise TypeError(f"{name} should be of type int, got: {type(v).__name__}")
    if input_size <= 0:
        raise ValueError(f"input_size must be greater than zero, got {input_size}")
    if hidden_size <= 0:
        raise ValueError(f"hidden_size must be greater than zero, got {hidden_size}")
    if num_layers <= 0:
        raise ValueError(f"num_layers must be greater than zero, got {num_layers}")


def check_nonlinearity(nonlinearity: Any) -> None:
    """Only 'tanh' and 'relu' exist for an Elman RNN."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")


def check_dropout(dropout: Any, num_layers: int) -> None:
    """dropout must be a number in [0, 1]; warn, as PyTorch does, when it can have no effect."""
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of an element "
            f"being zeroed, got {dropout!r}"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
            f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
            UserWarning,
            stacklevel=3,
        )


def check_tensor(name: str, value: Any) -> None:
    """Raise TypeError naming `name` unless value is a deeprnn.Tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a deeprnn.Tensor, got {type(value).__name__}")


def check_dtype(what: str, tensor: Tensor, weight_dtype: Any) -> None:
    """The input and hidden state must have the parameters' dtype."""
    if tensor.dtype != weight_dtype:
        raise ValueError(
            f"{what} dtype ({tensor.dtype}) does not match weight dtype ({weight_dtype}). "
            f"Convert {what.split()[-1]}: {what.split()[-1]}.to(deeprnn.{weight_dtype}), "
            f"or convert model: model.to(deeprnn.{tensor.dtype})"
        )
