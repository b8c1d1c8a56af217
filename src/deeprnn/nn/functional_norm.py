"""Normalisation of ``nn.functional``: batch_norm and layer_norm, each one op with a hand-derived backward.

With xhat = (x - mean) / sqrt(var + eps) (var biased), y = w xhat + b. Over a group of M
values normalised together, with gw = g w:

    dx = (1 / sqrt(var + eps)) (gw - mean(gw) - xhat mean(gw xhat))     (statistics from the batch)
    dx = gw / sqrt(var + eps)                                             (fixed running statistics)
    dw = sum(g xhat),  db = sum(g)    over everything but the feature dims

batch_norm: input (N, C, *) normalised per channel C over N and *; layer_norm: input
(*, D1..Dk) normalised over the last k dims (``normalized_shape``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..autograd.function import record
from ..autograd.grad_mode import no_grad
from ..autograd.size import Size
from ..autograd.tensor import Tensor
from .functional_checks import _check_tensor

__all__ = ["batch_norm", "layer_norm"]


def _feature_shaped(t: Tensor | None, shape: tuple[int, ...], what: str) -> np.ndarray | None:
    if t is None:
        return None
    a = t._data
    if a.size != math.prod(shape):
        raise RuntimeError(f"{what} should contain {math.prod(shape)} elements not {a.size}")
    return a.reshape(shape)


def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of input (N, C, *) by its batch statistics (training) or the running ones.

    In training, the running statistics (if given) are updated in place:
    running = (1 - momentum) running + momentum batch, with the unbiased batch variance.
    """
    _check_tensor("input", input)
    x = input._data
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or more input (got {x.ndim}D input)")
    C = x.shape[1]
    bshape = (1, C) + (1,) * (x.ndim - 2)  # broadcasts over N and *
    axes = (0, *range(2, x.ndim))
    n = x.size // C if C else 0
    if training and n <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {Size(x.shape)!r}")
    rm = _feature_shaped(running_mean, (C,), "running_mean")
    rv = _feature_shaped(running_var, (C,), "running_var")
    w = _feature_shaped(weight, bshape, "weight")
    b = _feature_shaped(bias, bshape, "bias")
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        if rm is not None:
            with no_grad():
                rm *= 1 - momentum
                rm += momentum * mean.reshape(C)
        if rv is not None:
            with no_grad():
                rv *= 1 - momentum
                rv += momentum * var.reshape(C) * (n / (n - 1))
    else:
        if rm is None or rv is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        mean, var = rm.reshape(bshape), rv.reshape(bshape)
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
    xhat = (x - mean) * invstd
    out = xhat * w if w is not None else xhat
    if b is not None:
        out = out + b

    def backward(g: np.ndarray) -> tuple:
        gw = g * w if w is not None else g
        if training:
            gx = invstd * (gw - gw.mean(axis=axes, keepdims=True) - xhat * (gw * xhat).mean(axis=axes, keepdims=True))
        else:
            gx = gw * invstd
        gwt = (g * xhat).sum(axis=axes).reshape(weight._data.shape) if weight is not None else None
        gbt = g.sum(axis=axes).reshape(bias._data.shape) if bias is not None else None
        return gx if input.requires_grad else None, gwt, gbt

    return record("NativeBatchNormBackward0", out, (input, weight, bias), backward)


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last dims ``normalized_shape`` of input (*, *normalized_shape), then w y + b."""
    _check_tensor("input", input)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(d) for d in normalized_shape)
    x = input._data
    k = len(ns)
    if k == 0 or x.shape[x.ndim - k :] != ns or x.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape [*, {', '.join(map(str, ns))}], "
            f"but got input of size{list(x.shape)}"
        )
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != ns:
            raise RuntimeError(
                f"Expected {what} to be of same shape as normalized_shape, but got {what} of shape "
                f"{list(t._data.shape)} and normalized_shape = {list(ns)}"
            )
    axes = tuple(range(x.ndim - k, x.ndim))
    lead = tuple(range(x.ndim - k))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    rstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
    xhat = (x - mean) * rstd
    w = weight._data if weight is not None else None
    out = xhat * w if w is not None else xhat
    if bias is not None:
        out = out + bias._data

    def backward(g: np.ndarray) -> tuple:
        gw = g * w if w is not None else g
        gx = rstd * (gw - gw.mean(axis=axes, keepdims=True) - xhat * (gw * xhat).mean(axis=axes, keepdims=True))
        gwt = (g * xhat).sum(axis=lead) if weight is not None and weight.requires_grad else None
        gbt = g.sum(axis=lead) if bias is not None and bias.requires_grad else None
        return gx if input.requires_grad else None, gwt, gbt

    return record("NativeLayerNormBackward0", out, (input, weight, bias), backward)
