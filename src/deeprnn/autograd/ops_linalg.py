"""Matrix products. For C = A B: dA = dC B^T and dB = A^T dC (batched and broadcast as matmul)."""

from __future__ import annotations

import numpy as np

from .function import record, unbroadcast
from .tensor import Tensor

__all__ = ["matmul", "mm"]


def _dtype_check(a: np.ndarray, b: np.ndarray) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with NumPy's matmul rules: (…, n, k) @ (…, k, m) -> (…, n, m); 1-D operands are vectors."""
    x, y = a._data, b._data
    _dtype_check(x, y)
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {x.ndim}D and {y.ndim}D")
    try:
        out = np.matmul(x, y)
    except ValueError as err:
        xs = "x".join(map(str, x.shape))
        ys = "x".join(map(str, y.shape))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({xs} and {ys})") from err
    out = np.asarray(out)

    def backward(g: np.ndarray) -> tuple:
        if x.ndim == 1 and y.ndim == 1:  # dot product: d(x.y)/dx = y
            return (g * y if a.requires_grad else None), (g * x if b.requires_grad else None)
        x2 = x[None, :] if x.ndim == 1 else x  # (…, n, k)
        y2 = y[:, None] if y.ndim == 1 else y  # (…, k, m)
        g2 = g
        if x.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if y.ndim == 1:
            g2 = np.expand_dims(g2, -1)  # (…, n, m)
        gx = gy = None
        if a.requires_grad:
            gx = unbroadcast(np.matmul(g2, np.swapaxes(y2, -1, -2)), x2.shape).reshape(x.shape)
        if b.requires_grad:
            gy = unbroadcast(np.matmul(np.swapaxes(x2, -1, -2), g2), y2.shape).reshape(y.shape)
        return gx, gy

    return record("MmBackward0" if x.ndim == 2 and y.ndim == 2 else "MatmulBackward0", out, (a, b), backward)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors: (n, k) @ (k, m) -> (n, m)."""
    if a._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix, got {a._data.ndim}-D tensor")
    if b._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b._data.ndim}-D tensor")
    return matmul(a, b)
