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

__all__ = ["tensor_repr", "set_options"]

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
_PROFILES = {
    "default": _DEFAULTS,
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80, "sci_mode": None},
    "full": {"precision": 4, "threshold": 2**63 - 1, "edgeitems": 3, "linewidth": 80, "sci_mode": None},
}
_options = dict(_DEFAULTS)


def set_options(
    precision: int | None,
    threshold: int | None,
    edgeitems: int | None,
    linewidth: int | None,
    profile: str | None,
    sci_mode: bool | None,
) -> None:
    """``torch.set_printoptions``: a profile ('default', 'short', 'full') first, then each option given."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        _options.update(_PROFILES[profile])
    for k, v in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if v is not None:
            _options[k] = int(v)
    _options["sci_mode"] = sci_mode


def _float_formatter(a: np.ndarray):  # noqa: ANN202
    finite = a[np.isfinite(a)]
    nz = np.abs(finite[finite != 0])
    integral = finite.size == 0 or bool(np.all(finite == np.ceil(finite)))
    p = _options["precision"]
    if integral:
        sci = nz.size > 0 and nz.max() > 1e8
    else:
        sci = nz.size > 0 and (nz.max() / nz.min() > 1000 or nz.max() > 1e8 or nz.min() < 1e-4)
    if _options["sci_mode"] is not None:
        sci = _options["sci_mode"]
    if sci:
        fmt = lambda v: f"{v:.{p}e}"  # noqa: E731
    elif integral:
        fmt = lambda v: f"{v:.0f}."  # noqa: E731
    else:
        fmt = lambda v: f"{v:.{p}f}"  # noqa: E731

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
    opts = {
        "separator": ", ",
        "prefix": "tensor(",
        "threshold": _options["threshold"],
        "edgeitems": _options["edgeitems"],
        "max_line_width": _options["linewidth"],
    }
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
        parts.append(f"dtype=torch.{a.dtype}")
    if t.grad_fn is not None:
        parts.append(f"grad_fn=<{t.grad_fn._name}>")
    elif t.requires_grad:
        parts.append("requires_grad=True")
    return "tensor(" + ", ".join(parts) + ")"
