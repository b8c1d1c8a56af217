"""How a tensor prints: ``tensor([0.2531], grad_fn=<PowBackward0>)``, following PyTorch's rules.

Floats print with 4 decimals, in scientific notation when the magnitudes span more than
1000x or leave [1e-4, 1e8], and as ``1.`` when every value is integral.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .dtypes import float32, int64

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["tensor_repr"]


def _float_formatter(a: np.ndarray):  # noqa: ANN202
    finite = a[np.isfinite(a)]
    nz = np.abs(finite[finite != 0])
    integral = finite.size == 0 or bool(np.all(finite == np.ceil(finite)))
    if integral:
        sci = nz.size > 0 and nz.max() > 1e8
        fmt = (lambda v: f"{v:.4e}") if sci else (lambda v: f"{v:.0f}.")
    else:
        sci = nz.size > 0 and (nz.max() / nz.min() > 1000 or nz.max() > 1e8 or nz.min() < 1e-4)
        fmt = (lambda v: f"{v:.4e}") if sci else (lambda v: f"{v:.4f}")

    def one(v: float) -> str:
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return fmt(float(v))

    width = max((len(one(v)) for v in a.reshape(-1)[:2000]), default=0)
    return lambda v: one(v).rjust(width)


def _body(a: np.ndarray) -> str:
    if a.size == 0:
        return "[]"
    opts = {"separator": ", ", "prefix": "tensor(", "threshold": 1000, "edgeitems": 3, "max_line_width": 80}
    if np.issubdtype(a.dtype, np.floating):
        return np.array2string(a, formatter={"float_kind": _float_formatter(a)}, **opts)
    return np.array2string(a, **opts)


def tensor_repr(t: Tensor) -> str:
    """``tensor(<values>[, size=...][, dtype=...][, grad_fn=<...> | requires_grad=True])``."""
    a = t._data
    parts = [_body(a)]
    if a.size == 0 and a.ndim != 1:
        parts.append(f"size={tuple(a.shape)}")
    if a.dtype not in (float32, int64, np.dtype(np.bool_)):
        parts.append(f"dtype=deeprnn.{a.dtype}")
    if t.grad_fn is not None:
        parts.append(f"grad_fn=<{t.grad_fn.name}>")
    elif t.requires_grad:
        parts.append("requires_grad=True")
    return "tensor(" + ", ".join(parts) + ")"
