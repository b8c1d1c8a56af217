"""softmax and log_softmax along a dimension, each one recorded op with a hand-derived backward.

softmax(x)_i = exp(x_i) / sum_j exp(x_j); backward dx = s * (g - sum(g * s)).
log_softmax(x) = x - logsumexp(x); backward dx = g - exp(out) * sum(g).
``nn.functional`` and the Tensor methods share them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .aliases import dim_aliases
from .dtypes import as_dtype, is_floating, torch_type_name
from .function import record
from .tensor import Tensor

__all__ = ["softmax", "log_softmax", "stable_log_softmax"]


def stable_log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """log softmax(x) = (x - max) - log(sum(exp(x - max))), stable for large |x|."""
    if x.ndim == 0:
        return np.zeros_like(x)
    z = x - x.max(axis=axis, keepdims=True)
    z -= np.log(_sum_exp(z, axis))
    return z


_BLOCK = 1 << 16  # elements of exp(z) that exist at once, over the last axis of a 2-D array


def _sum_exp(z: np.ndarray, axis: int) -> np.ndarray:
    """sum(exp(z), axis, keepdims=True).

    For a 2-D z (M, C) reduced over its last axis (a batch of logits), exp(z) is computed a block
    of rows at a time, so that it never exists whole: a large vocabulary's (M, C) array less at the
    peak.  Each row's sum is the same as over the whole array's (the same pairwise summation).
    """
    if z.ndim != 2 or axis not in (1, -1) or z.size <= _BLOCK:
        return np.exp(z).sum(axis=axis, keepdims=True)
    rows = max(1, _BLOCK // z.shape[1])
    total = np.empty((z.shape[0], 1), z.dtype)
    for s in range(0, z.shape[0], rows):
        np.exp(z[s : s + rows]).sum(axis=1, keepdims=True, out=total[s : s + rows])
    return total


def _softmax_dim(name: str, ndim: int, dim: int | None) -> int:
    """PyTorch's legacy implicit dim (with its deprecation warning) and range check."""
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. "
            "Change the call to include dim=X as an argument.",
            UserWarning,
            stacklevel=3,
        )
        dim = 0 if ndim in (0, 1, 3) else 1
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _float_input(name: str, input: Tensor, dtype: Any) -> np.ndarray:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a deeprnn.Tensor, got {type(input).__name__}")
    x = input._data if dtype is None else input._data.astype(as_dtype(dtype))
    if not is_floating(x.dtype):
        raise NotImplementedError(f"\"{name}_lastdim_kernel_impl\" not implemented for '{torch_type_name(x.dtype)}'")
    return x


@dim_aliases
def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``dim``.

    Backward: dx = s * (g - sum(g * s, dim)).
    """
    x = _float_input("softmax", input, dtype)
    axis = _softmax_dim("softmax", x.ndim, dim)
    if x.ndim == 0:
        s = np.ones_like(x)
    else:
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        s = e / e.sum(axis=axis, keepdims=True)
    old = input._data.dtype

    def backward(g: np.ndarray) -> tuple:
        gs = g * s
        gx = gs - s * gs.sum(axis=axis, keepdims=True) if s.ndim else np.zeros_like(gs)
        return (gx.astype(old, copy=False),)

    return record("SoftmaxBackward0", s, (input,), backward, saved=(), save_output=True)


@dim_aliases
def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """log(softmax(x)) along ``dim``, computed stably.

    Backward: dx = g - exp(out) * sum(g, dim).
    """
    x = _float_input("log_softmax", input, dtype)
    axis = _softmax_dim("log_softmax", x.ndim, dim)
    out = stable_log_softmax(x, axis)
    old = input._data.dtype

    def backward(g: np.ndarray) -> tuple:
        gx = g - np.exp(out) * g.sum(axis=axis, keepdims=True) if out.ndim else np.zeros_like(g)
        return (gx.astype(old, copy=False),)

    return record("LogSoftmaxBackward0", out, (input,), backward, saved=(), save_output=True)
