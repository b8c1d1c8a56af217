"""Gradient clipping, as ``torch.nn.utils``: by total norm and by value, in place on ``p.grad``.

``clip_grad_norm_`` computes the norm of each gradient, then the norm of those norms
(= the norm of all gradients concatenated), and multiplies every gradient by
``min(1, max_norm / (total_norm + 1e-6))``, in the gradients' dtype, exactly as PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...autograd.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(x: np.ndarray, p: float) -> np.ndarray:
    """||x||_p of all elements, in x's dtype: max |x| for inf, count of non-zeros for 0."""
    a = np.abs(x)
    if p == math.inf:
        return a.max() if a.size else np.zeros((), dtype=x.dtype)
    if p == -math.inf:
        return a.min() if a.size else np.asarray(np.inf, dtype=x.dtype)
    if p == 0:
        return np.asarray(np.count_nonzero(a), dtype=x.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return np.sqrt(np.dot(a.ravel(), a.ravel()))
    return (a**p).sum() ** (1.0 / p)


def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The p-norm of the norms of ``tensors`` (as if they were concatenated into one vector)."""
    arrs = [t._data for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if not arrs:
        return Tensor._wrap(np.asarray(0.0, dtype=np.float32))
    norms = np.stack([np.asarray(_vector_norm(a, norm_type), dtype=a.dtype) for a in arrs])
    total = np.asarray(_vector_norm(norms, norm_type), dtype=norms.dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return Tensor._wrap(total)


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: Tensor,
    foreach: bool | None = None,
) -> None:
    """Multiply each gradient by clamp(max_norm / (total_norm + 1e-6), max=1)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    tn = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = np.minimum(float(max_norm) / (tn + 1e-6), 1.0)  # the total norm's dtype
    with np.errstate(invalid="ignore"):  # inf * 0 = nan, as in PyTorch
        for g in grads:
            g._data *= coef.astype(g._data.dtype)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale gradients in place so that their total ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm before clipping, as a 0-d tensor (tensor(0.) with no gradients).
    Parameters whose ``grad`` is None are skipped. Raises RuntimeError for a non-finite norm
    when ``error_if_nonfinite``.
    """
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
