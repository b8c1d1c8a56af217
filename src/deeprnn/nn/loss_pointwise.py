"""Element-wise losses of ``nn.functional``: l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy
and binary_cross_entropy_with_logits.

Each is one recorded op. Per element, with d = x - y:

    l1          |d|                                              d/dx: sign(d)
    smooth_l1   0.5 d^2 / beta if |d| < beta else |d| - beta/2   d/dx: clamp(d / beta, -1, 1)
    huber       0.5 d^2 if |d| < delta else delta (|d| - delta/2) d/dx: clamp(d, -delta, delta)
    bce         -w (y max(log x, -100) + (1 - y) max(log(1 - x), -100))
                d/dx: w (x - y) / max(x (1 - x), 1e-12f);     d/dy: -w logit(x)
    bce_logits  -w ((1 - y) ... ) = w ((1 - y) x - l log_sigmoid(x)), l = 1 + (pos_weight - 1) y
                d/dx: w ((pos_weight y + 1 - y) sigmoid(x) - pos_weight y)   (pos_weight = 1 if None)
                d/dy: w (log_sigmoid(-x) - pos_weight log_sigmoid(x))

then reduced by 'mean' (over all elements), 'sum' or 'none' (shape of the broadcast inputs).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import ops_math as _M
from ..autograd.dtypes import torch_type_name
from ..autograd.function import record, unbroadcast
from ..autograd.grad_mode import no_grad
from ..autograd.size import Size
from ..autograd.tensor import Tensor
from .functional_checks import _check_tensor
from .loss_functions import _reduction

__all__ = ["l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]


def _reduce(per: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return per
    return np.asarray(per.mean() if reduction == "mean" else per.sum(), dtype=per.dtype)


def _scale(g: np.ndarray, reduction: str, n: int, dtype: np.dtype) -> np.ndarray:
    """d(reduced)/d(per element) times the upstream gradient g."""
    return g * np.asarray(1.0 / n if reduction == "mean" else 1.0, dtype=dtype)


def _broadcast_warning(input: Tensor, target: Tensor) -> None:  # noqa: A002
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape!r}) that is different to the input size ({input.shape!r}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def _distance_loss(
    name: str,
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str,
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
) -> Tensor:
    _check_tensor("input", input)
    _check_tensor("target", target)
    _broadcast_warning(input, target)
    with no_grad():
        d = _M.sub(input, target)._data  # broadcast and promoted as input - target
    per = f(d)
    sx, sy = input._data.shape, target._data.shape

    def backward(g: np.ndarray) -> tuple:
        gd = _scale(g, reduction, per.size, d.dtype) * df(d)
        gx = unbroadcast(gd, sx).astype(input._data.dtype, copy=False) if input.requires_grad else None
        gy = unbroadcast(-gd, sy).astype(target._data.dtype, copy=False) if target.requires_grad else None
        return gx, gy

    return record(name, _reduce(per, reduction), (input, target), backward)


def _no_weight(name: str, weight: Any) -> None:
    if weight is not None:
        raise NotImplementedError(f"{name}: weight is not supported")


def l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error |x - y|, reduced."""
    reduction = _reduction(size_average, reduce, reduction)
    _no_weight("l1_loss", weight)
    return _distance_loss("L1LossBackward0", input, target, reduction, np.abs, np.sign)


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Quadratic below ``beta``, linear above (beta = 0 is l1_loss)."""
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)

    def f(d: np.ndarray) -> np.ndarray:
        z = np.abs(d)
        return np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta).astype(d.dtype, copy=False)

    def df(d: np.ndarray) -> np.ndarray:
        return np.where(d < -beta, -1.0, np.where(d > beta, 1.0, d / beta)).astype(d.dtype, copy=False)

    return _distance_loss("SmoothL1LossBackward0", input, target, reduction, f, df)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """Quadratic below ``delta``, delta-scaled linear above (huber = delta * smooth_l1 with beta = delta)."""
    reduction = _reduction(None, None, reduction)
    _no_weight("huber_loss", weight)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")

    def f(d: np.ndarray) -> np.ndarray:
        z = np.abs(d)
        return np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)).astype(d.dtype, copy=False)

    def df(d: np.ndarray) -> np.ndarray:
        return np.clip(d, -delta, delta).astype(d.dtype, copy=False)

    return _distance_loss("HuberLossBackward0", input, target, reduction, f, df)


def _same_size(input: Tensor, target: Tensor, message: str) -> None:  # noqa: A002
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(message.format(target=Size(target.shape), input=Size(input.shape)))


def _broadcast_to(t: Tensor | None, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
    if t is None:
        return None
    w = t._data if isinstance(t, Tensor) else np.asarray(t)
    try:
        return np.broadcast_to(w, np.broadcast_shapes(w.shape, shape)).astype(dtype, copy=False)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({w.shape[-1] if w.ndim else 1}) must match the size of tensor b "
            f"({shape[-1] if shape else 1}) at non-singleton dimension {max(len(shape), w.ndim) - 1}"
        ) from None


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of probabilities x in [0, 1] against targets y in [0, 1] (same shape)."""
    _check_tensor("input", input)
    _check_tensor("target", target)
    reduction = _reduction(size_average, reduce, reduction)
    _same_size(
        input,
        target,
        "Using a target size ({target!r}) that is different to the input size ({input!r}) is deprecated. "
        "Please ensure they have the same size.",
    )
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"Found dtype {torch_type_name(target._data.dtype)} but expected {torch_type_name(input._data.dtype)}"
        )
    x, y = input._data, target._data
    if x.size and ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if y.size and ((y < 0) | (y > 1)).any():
        raise RuntimeError("all elements of target should be between 0 and 1")
    w = _broadcast_to(weight, x.shape, x.dtype)
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100)
        log_1mx = np.maximum(np.log1p(-x), -100)
    per = -(y * log_x + (1 - y) * log_1mx)
    if w is not None:
        per = w * per

    def backward(g: np.ndarray) -> tuple:
        gs = _scale(g, reduction, per.size, x.dtype)
        if w is not None:
            gs = gs * w
        eps = np.asarray(np.float32(1e-12), dtype=x.dtype)  # torch's EPSILON is the float 1e-12, also in float64
        gx = gs * (x - y) / np.maximum((1 - x) * x, eps) if input.requires_grad else None
        gy = None
        if target.requires_grad:
            with np.errstate(divide="ignore"):
                gy = (-gs * (np.log(x) - np.log1p(-x))).astype(target._data.dtype, copy=False)
        return gx, gy

    return record("BinaryCrossEntropyBackward0", _reduce(per, reduction), (input, target), backward)


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of logits x (sigmoid applied inside, stably) against targets y (same shape).

    ``pos_weight`` weighs the positive term, broadcast along the last (class) dim.
    """
    _check_tensor("input", input)
    _check_tensor("target", target)
    reduction = _reduction(size_average, reduce, reduction)
    _same_size(input, target, "Target size ({target!r}) must be the same as input size ({input!r})")
    x, y = input._data, target._data.astype(input._data.dtype, copy=False)
    w = _broadcast_to(weight, x.shape, x.dtype)
    pw = _broadcast_to(pos_weight, x.shape, x.dtype)
    ls = _log_sigmoid(x)
    per = (1 - y) * x - (ls if pw is None else ((pw - 1) * y + 1) * ls)
    if w is not None:
        per = w * per

    def backward(g: np.ndarray) -> tuple:
        gs = _scale(g, reduction, per.size, x.dtype)
        if w is not None:
            gs = gs * w
        gx = gy = None
        if input.requires_grad:
            e = np.exp(-np.abs(x))
            s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
            gx = gs * ((s - y) if pw is None else ((pw * y + 1 - y) * s - pw * y))
        if target.requires_grad:
            gy = gs * (-x if pw is None else _log_sigmoid(-x) - pw * ls)
            gy = gy.astype(target._data.dtype, copy=False)
        return gx, gy

    return record("BinaryCrossEntropyWithLogitsBackward0", _reduce(per, reduction), (input, target), backward)
