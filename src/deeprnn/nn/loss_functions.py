"""Loss functions of ``deeprnn.nn.functional``: cross_entropy, nll_loss, mse_loss.

Each is one differentiable operation with a fused backward (cross entropy's is softmax
minus one-hot), so a language model's (T*N, V) logits cost one graph node. Shapes follow
PyTorch: input (N, C) or (C,) or (N, C, d1, ...), class dimension 1; targets (N, ...).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..autograd import ops_math as _M
from ..autograd.dtypes import is_floating, torch_type_name
from ..autograd.function import record, unbroadcast
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from .functional_checks import _check_tensor, _log_softmax

__all__ = ["cross_entropy", "nll_loss", "mse_loss"]


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if (size_average and reduce) else "sum" if reduce else "none"
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            UserWarning,
            stacklevel=3,
        )
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _to_rows(x: np.ndarray) -> np.ndarray:
    """(N, C, d1..dk) -> (N*d1*..*dk, C) with the class dimension last; (C,) -> (1, C)."""
    if x.ndim == 1:
        return x[None, :]
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _from_rows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``_to_rows``."""
    if len(shape) == 1:
        return rows[0]
    if len(shape) == 2:
        return rows
    return np.moveaxis(rows.reshape(shape[:1] + shape[2:] + shape[1:2]), -1, 1)


def _class_targets(x: np.ndarray, target: Tensor, ignore_index: int) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Validate class-index targets as PyTorch; return (flat targets, valid mask, 'none' shape)."""
    t = target._data
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim != 1 and t.ndim >= 1 and x.shape[0] != t.shape[0]:
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({t.shape[0]}).")
    if x.ndim <= 2:
        if t.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if x.ndim == 1 and t.ndim == 1 and t.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {t.shape[0]}")
        out_shape = () if x.ndim == 1 else t.shape
    else:
        expected = (x.shape[0],) + x.shape[2:]
        if t.shape != expected:
            raise RuntimeError(f"Expected target size {list(expected)}, got {list(t.shape)}")
        out_shape = expected
    if t.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {torch_type_name(t.dtype)}")
    flat = t.reshape(-1).astype(np.int64, copy=False)
    valid = flat != ignore_index
    C = x.shape[0] if x.ndim == 1 else x.shape[1]
    bad = valid & ((flat < 0) | (flat >= C))
    if bad.any():
        raise IndexError(f"Target {int(flat[bad][0])} is out of bounds.")
    return np.where(valid, flat, 0), valid, out_shape


def _class_weight(weight: Tensor | None, C: int, dtype: np.dtype) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (C,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {C} classes or no classes but got weight tensor "
            f"of shape: {list(w.shape)}"
        )
    return w.astype(dtype, copy=False)


def _reduce_rows(per: np.ndarray, reduction: str, out_shape: tuple, denom: Any) -> tuple[np.ndarray, Any]:
    """Reduce per-row losses; return the result and the d(result)/d(per) factor builder."""
    if reduction == "none":
        return per.reshape(out_shape), None
    total = per.sum()
    if reduction == "sum":
        return np.asarray(total, dtype=per.dtype), None
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / denom, dtype=per.dtype), denom


def _row_grad(g: np.ndarray, reduction: str, m: int, denom: Any, dtype: np.dtype) -> np.ndarray:
    """d(loss)/d(per-row loss) as an (M,) array."""
    if reduction == "none":
        return g.reshape(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = g / denom if reduction == "mean" else g
    return np.broadcast_to(np.asarray(scale, dtype=dtype), (m,))


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: Any = None,  # noqa: A002
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and class indices (or class probabilities), as one fused op.

    With p = softmax(x) over the class dim, w the class weights (1 by default), eps the
    label smoothing and v_i = [t_i != ignore_index], row i's loss is::

        l_i = v_i * ((1 - eps) * -w[t_i] log p[i, t_i] + eps / C * -sum_c w_c log p[i, c])

    'mean' divides sum_i l_i by sum_i v_i w[t_i] (the count of non-ignored targets without
    weights). Backward, per row: dl/dx = (1-eps) v w[t] (p - onehot(t)) + eps/C v (p sum(w) - w).
    """
    _check_tensor("input", input)
    _check_tensor("target", target)
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    x = input._data
    if not is_floating(x.dtype):
        name = torch_type_name(x.dtype)
        raise NotImplementedError(f"\"log_softmax_lastdim_kernel_impl\" not implemented for '{name}'")
    if x.ndim >= 1 and target._data.shape == x.shape:
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    tv, valid, out_shape = _class_targets(x, target, ignore_index)
    C = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = _class_weight(weight, C, x.dtype)
    logp = _log_softmax(_to_rows(x), 1)  # (M, C)
    m = logp.shape[0]
    rows = np.arange(m)
    wt = (w[tv] if w is not None else np.ones(m, dtype=x.dtype)) * valid  # (M,)
    eps = float(label_smoothing)
    per = -wt * logp[rows, tv]
    if eps > 0:
        smooth = -(logp * w).sum(axis=1) if w is not None else -logp.sum(axis=1)
        per = (1 - eps) * per + (eps / C) * (smooth * valid)
    out, denom = _reduce_rows(per, reduction, out_shape, wt.sum())

    def backward(g: np.ndarray) -> tuple:
        gr = _row_grad(g, reduction, m, denom, x.dtype)  # (M,)
        coef = (1 - eps) * wt * gr if eps > 0 else wt * gr
        p = np.exp(logp)  # (M, C)
        # without smoothing, in place: one (M, C) array less, which matters for large vocabularies
        grad = p * coef[:, None] if eps > 0 else np.multiply(p, coef[:, None], out=p)
        grad[rows, tv] -= coef
        if eps > 0:
            s = ((eps / C) * gr * valid)[:, None]  # (M, 1)
            grad += s * (p * C - 1) if w is None else s * (p * w.sum() - w)
        return _from_rows(grad.astype(x.dtype, copy=False), x.shape), None

    # backward reads its own log-softmax and the target (torch saves those, not the logits)
    return record("NllLossBackward0", out, (input, target), backward, saved=(target,))


def _cross_entropy_probs(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None,
    reduction: str,  # noqa: A002
    eps: float,
) -> Tensor:
    """Cross-entropy against class probabilities y (same shape as input): l_i = -sum_c w_c y_ic log p_ic."""
    x, y = input._data, target._data
    if not is_floating(y.dtype):
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {torch_type_name(y.dtype)}"
        )
    C = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = _class_weight(weight, C, x.dtype)
    logp = _log_softmax(_to_rows(x), 1)  # (M, C)
    yr = _to_rows(y).astype(x.dtype, copy=False)
    if eps > 0:
        yr = yr * (1 - eps) + eps / C
    wy = yr * w if w is not None else yr  # (M, C)
    per = -(logp * wy).sum(axis=1)
    m = per.shape[0]
    out_shape = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    out, denom = _reduce_rows(per, reduction, out_shape, m)

    def backward(g: np.ndarray) -> tuple:
        gr = _row_grad(g, reduction, m, denom, x.dtype)[:, None]  # (M, 1)
        grad = (np.exp(logp) * wy.sum(axis=1, keepdims=True) - wy) * gr
        gy = None
        if target.requires_grad:
            gyr = -(logp * w if w is not None else logp) * gr
            gy = _from_rows((gyr * (1 - eps)).astype(y.dtype, copy=False), y.shape)
        return _from_rows(grad.astype(x.dtype, copy=False), x.shape), gy

    return record("SumBackward0" if reduction == "none" else "DivBackward1", out, (input, target), backward)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: Any = None,  # noqa: A002
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities: l_i = -w[t_i] x[i, t_i] (0 where ignored).

    'mean' divides by sum_i w[t_i] over non-ignored targets. Backward: -w[t_i] at [i, t_i].
    """
    _check_tensor("input", input)
    _check_tensor("target", target)
    reduction = _reduction(size_average, reduce, reduction)
    x = input._data
    tv, valid, out_shape = _class_targets(x, target, ignore_index)
    C = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = _class_weight(weight, C, x.dtype)
    xr = _to_rows(x)  # (M, C)
    m = xr.shape[0]
    rows = np.arange(m)
    wt = (w[tv] if w is not None else np.ones(m, dtype=x.dtype)) * valid  # (M,)
    per = -wt * xr[rows, tv]
    out, denom = _reduce_rows(per, reduction, out_shape, wt.sum())

    def backward(g: np.ndarray) -> tuple:
        gr = _row_grad(g, reduction, m, denom, x.dtype)
        grad = np.zeros_like(xr)
        grad[rows, tv] = -wt * gr
        return _from_rows(grad, x.shape), None

    return record("NllLossBackward0", out, (input, target), backward)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: Any = None,
    reduce: Any = None,  # noqa: A002
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error (x - y)^2, reduced by 'mean' (over all elements), 'sum' or 'none'.

    Different shapes broadcast, with PyTorch's warning. Backward: dx = 2 (x - y) g, dy = -dx.
    """
    _check_tensor("input", input)
    _check_tensor("target", target)
    reduction = _reduction(size_average, reduce, reduction)
    if weight is not None:
        raise NotImplementedError("mse_loss: weight is not supported")
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape!r}) that is different to the input size ({input.shape!r}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=2,
        )
    with no_grad():
        d = _M.sub(input, target)._data  # broadcast and promoted as a - b
    sq = d * d
    out = sq if reduction == "none" else np.asarray(sq.mean() if reduction == "mean" else sq.sum(), dtype=d.dtype)
    n = sq.size
    sx, sy = input._data.shape, target._data.shape

    def backward(g: np.ndarray) -> tuple:
        scale = 2.0 / n if reduction == "mean" else 2.0
        gd = (g * d) * np.asarray(scale, dtype=d.dtype)
        gx = unbroadcast(gd, sx).astype(input._data.dtype, copy=False) if input.requires_grad else None
        gy = unbroadcast(-gd, sy).astype(target._data.dtype, copy=False) if target.requires_grad else None
        return gx, gy

    return record("MseLossBackward0", out, (input, target), backward)
