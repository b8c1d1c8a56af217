"""How a tensor prints: ``tensor([0.2531], grad_fn=<PowBackward0>)``, as PyTorch prints it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .dtypes import float32, int64

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["tensor_repr"]


def _body(a: np.ndarray) -> str:
    if a.size == 0:
        return "[]"
    if np.issubdtype(a.dtype, np.floating):
        finite = a[np.isfinite(a)]
        big = finite.size and (np.abs(finite).max() >= 1e8 or (0 < np.abs(finite[finite != 0]).min(initial=1) < 1e-4))
        if big:
            fmt = {"float_kind": lambda v: np.format_float_scientific(v, precision=4, exp_digits=2)}
            return np.array2string(a, separator=", ", prefix="tensor(", formatter=fmt, threshold=1000, edgeitems=3)
        return np.array2string(a, separator=", ", prefix="tensor(", precision=4, floatmode="maxprec_equal",
                               threshold=1000, edgeitems=3, suppress_small=True)
    return np.array2string(a, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)


def tensor_repr(t: Tensor) -> str:
    """``tensor(<values>[, size=...][, dtype=...][, grad_fn=<...> | requires_grad=True])``."""
    a = t.data
    parts = [_body(a)]
    if a.size == 0 and a.ndim != 1:
        parts.append(f"size={tuple(a.shape)}")
    if a.dtype not in (float32, int64, np.dtype(np.bool_)):
        parts.append(f"dtype={a.dtype}")
    if t.grad_fn is not None:
        parts.append(f"grad_fn=<{t.grad_fn.name}>")
    elif t.requires_grad:
        parts.append("requires_grad=True")
    return "tensor(" + ", ".join(parts) + ")"
