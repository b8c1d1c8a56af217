"""Statistics and norms: var, std, norm. ``dim`` may be an int, a tuple or None (everything).

var = sum((x - mean)^2) / (N - correction), correction 1 (Bessel's) unless told otherwise;
d var / dx = 2 (x - mean) / (N - correction); d std = d var / (2 std).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .aliases import dim_aliases
from .dtypes import is_floating
from .function import record
from .ops_reduce import _axes, _keep
from .tensor import Tensor

__all__ = ["var", "std", "norm"]


def _correction(dim: Any, unbiased: Any, correction: Any) -> tuple[Any, float]:
    if isinstance(dim, bool):  # x.std(False): the legacy positional ``unbiased``
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, float(correction)


def _moments(a: Tensor, dim: Any, correction: float) -> tuple[np.ndarray, tuple | None, np.ndarray, float, np.ndarray]:
    x = a._data
    if not is_floating(x.dtype):
        raise RuntimeError(f"std and var only support floating point and complex dtypes, got {x.dtype}")
    axes = _axes(dim, x.ndim)
    n = x.size if axes is None else int(np.prod([x.shape[d] for d in axes]))
    dev = x - np.mean(x, axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.sum(dev * dev, axis=axes, keepdims=True) / np.asarray(max(n - correction, 0), dtype=x.dtype)
    return x, axes, dev, max(n - correction, 0), v


@dim_aliases
def var(a: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    """Variance over ``dim`` with ``correction`` (1 by default; ``unbiased=False`` means 0)."""
    dim, c = _correction(dim, unbiased, correction)
    x, axes, dev, denom, v = _moments(a, dim, c)
    out = v if keepdim else v.reshape(np.sum(v, axis=axes).shape if axes is not None else ())

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            return ((_keep(g, axes, x.ndim, keepdim) * 2 * dev / np.asarray(denom, x.dtype)).astype(x.dtype),)

    return record("VarBackward0", np.asarray(out), (a,), backward, saved=(a,))


@dim_aliases
def std(a: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    """Standard deviation over ``dim`` with ``correction`` (1 by default; ``unbiased=False`` means 0)."""
    dim, c = _correction(dim, unbiased, correction)
    x, axes, dev, denom, v = _moments(a, dim, c)
    s = np.sqrt(v)
    out = s if keepdim else s.reshape(np.sum(s, axis=axes).shape if axes is not None else ())

    def backward(g: np.ndarray) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            gx = _keep(g, axes, x.ndim, keepdim) * dev / (np.asarray(denom, x.dtype) * s)
        return (gx.astype(x.dtype),)

    return record("StdBackward0", np.asarray(out), (a,), backward, saved=(a,), save_output=True)


@dim_aliases
def norm(a: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """The vector p-norm over ``dim`` (all elements when None): p = 2 ('fro'), 1, inf, -inf, 0 or any number.

    Backward (p = 2): x / ||x||, and 0 where the norm is 0, as torch.
    """
    x = a._data
    if not is_floating(x.dtype):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype}")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported p={p!r} (only 'fro' and numbers)")
    p = float(p)
    axes = _axes(dim, x.ndim)
    ax = np.abs(x)
    if p == np.inf:
        n = np.max(ax, axis=axes, keepdims=True)
    elif p == -np.inf:
        n = np.min(ax, axis=axes, keepdims=True)
    elif p == 0:
        n = np.sum(x != 0, axis=axes, keepdims=True).astype(x.dtype)
    elif p == 1:
        n = np.sum(ax, axis=axes, keepdims=True)
    elif p == 2:
        n = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
    else:
        n = np.sum(ax**p, axis=axes, keepdims=True) ** (1 / p)
    out = n if keepdim else n.reshape(np.sum(n, axis=axes).shape if axes is not None else ())

    def backward(g: np.ndarray) -> tuple:
        gk = _keep(g, axes, x.ndim, keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p in (np.inf, -np.inf):
                mask = ax == n
                gx = gk * np.sign(x) * mask / mask.sum(axis=axes, keepdims=True)
            elif p == 0:
                gx = np.zeros_like(x)
            elif p == 1:
                gx = gk * np.sign(x)
            elif p == 2:
                gx = np.where(n == 0, 0, gk * x / n)
            else:
                gx = np.where(n == 0, 0, gk * np.sign(x) * ax ** (p - 1) / n ** (p - 1))
        return (gx.astype(x.dtype),)

    return record("LinalgVectorNormBackward0", np.asarray(out), (a,), backward, saved=(a,), save_output=True)
