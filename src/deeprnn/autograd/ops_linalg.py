"""Matrix products. For C = A B: dA = dC B^T and dB = A^T dC (batched and broadcast as matmul)."""

from __future__ import annotations

import numpy as np

from .dtypes import torch_type_name
from .function import record, unbroadcast
from .tensor import Tensor

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "einsum", "tril", "triu"]

_C_NAMES = {"Float": "float", "Double": "double", "Long": "long int", "Int": "int", "Half": "c10::Half"}


def _dtype_check(a: np.ndarray, b: np.ndarray) -> None:
    if a.dtype != b.dtype:
        na, nb = (_C_NAMES.get(torch_type_name(d), str(d)) for d in (a.dtype, b.dtype))
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {na} != {nb}")


def _name(x: np.ndarray, y: np.ndarray) -> str:
    """torch's node for matmul of these ranks."""
    if x.ndim == 2 and y.ndim == 2:
        return "MmBackward0"
    if x.ndim == 1 and y.ndim == 1:
        return "DotBackward0"
    if x.ndim == 2 and y.ndim == 1:
        return "MvBackward0"
    if x.ndim == 1 and y.ndim == 2:
        return "SqueezeBackward4"
    return "UnsafeViewBackward0"  # batched: torch folds the batch into one product and views the result


def matmul(a: Tensor, b: Tensor, name: str | None = None) -> Tensor:
    """``a @ b`` with NumPy's matmul rules: (…, n, k) @ (…, k, m) -> (…, n, m); 1-D operands are vectors."""
    x, y = a._data, b._data
    _dtype_check(x, y)
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {x.ndim}D and {y.ndim}D")
    try:
        out = np.matmul(x, y)
    except ValueError as err:
        if x.ndim == 1 and y.ndim == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{x.size}] and src [{y.size}] to have the same "
                "number of elements, "
                f"but got {x.size} and {y.size} elements respectively"
            ) from err
        xs = "x".join(map(str, x.shape))
        ys = "x".join(map(str, y.shape))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({xs} and {ys})") from err
    out = np.asarray(out)
    ra, rb = a.requires_grad, b.requires_grad

    def backward(g: np.ndarray) -> tuple:
        if x.ndim == 1 and y.ndim == 1:  # dot product: d(x.y)/dx = y
            return (g * y if ra else None), (g * x if rb else None)
        x2 = x[None, :] if x.ndim == 1 else x  # (…, n, k)
        y2 = y[:, None] if y.ndim == 1 else y  # (…, k, m)
        g2 = g
        if x.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if y.ndim == 1:
            g2 = np.expand_dims(g2, -1)  # (…, n, m)
        gx = gy = None
        if ra:
            gx = unbroadcast(np.matmul(g2, np.swapaxes(y2, -1, -2)), x2.shape).reshape(x.shape)
        if rb:
            gy = unbroadcast(np.matmul(np.swapaxes(x2, -1, -2), g2), y2.shape).reshape(y.shape)
        return gx, gy

    return record(name or _name(x, y), out, (a, b), backward, saved=(b if ra else None, a if rb else None))


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors: (n, k) @ (k, m) -> (n, m)."""
    if a._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix, got {a._data.ndim}-D tensor")
    if b._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b._data.ndim}-D tensor")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product: (B, n, k) @ (B, k, m) -> (B, n, m)."""
    if a._data.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, got {a._data.ndim}D")
    if b._data.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor, got {b._data.ndim}D")
    if a._data.shape[0] != b._data.shape[0]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a._data.shape[0]}, "
            f"{a._data.shape[2]}] but got: [{b._data.shape[0]}, {b._data.shape[1]}]."
        )
    return matmul(a, b, "BmmBackward0")


def mv(a: Tensor, v: Tensor) -> Tensor:
    """Matrix-vector product: (n, k) @ (k,) -> (n,)."""
    if a._data.ndim != 2 or v._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a._data.ndim}, {v._data.ndim}")
    return matmul(a, v)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{torch_type_name(a._data.dtype)} and {torch_type_name(b._data.dtype)}"
        )
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: (n,), (m,) -> (n, m)."""
    from .ops_math import mul
    from .ops_shape import unsqueeze

    return mul(unsqueeze(a, 1), b)


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; operands may also come as one list.

    The gradient of operand i is the einsum of the output gradient with the other operands onto
    i's subscripts (broadcast along indices that only i has). Repeated indices within one operand
    (diagonals) and ``...`` are not supported.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise NotImplementedError("einsum with '...' is not supported by deeprnn")
    lhs, _, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(operands):
        raise RuntimeError(f"einsum(): {len(subs)} operands were specified but {len(operands)} were given")
    if not _:
        letters = "".join(subs)
        rhs = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for s in subs:
        if len(set(s)) != len(s):
            raise NotImplementedError("einsum with a repeated index within one operand is not supported by deeprnn")
    arrays = [t._data for t in operands]
    out = np.asarray(np.einsum(f"{lhs}->{rhs}", *arrays))
    sizes = {c: n for s, a in zip(subs, arrays) for c, n in zip(s, a.shape)}

    def backward(g: np.ndarray) -> tuple:
        grads = []
        for i, (s, t) in enumerate(zip(subs, operands)):
            if not t.requires_grad:
                grads.append(None)
                continue
            others = [(subs[j], arrays[j]) for j in range(len(operands)) if j != i]
            known = set(rhs).union(*(set(o) for o, _ in others))
            target = "".join(c for c in s if c in known)
            spec = ",".join([rhs, *(o for o, _ in others)]) + "->" + target
            gi = np.einsum(spec, g, *(a for _, a in others))
            if target != s:  # indices only this operand has were summed: broadcast them back
                gi = np.expand_dims(gi, [k for k, c in enumerate(s) if c not in known])
                gi = np.broadcast_to(gi, tuple(sizes[c] for c in s))
            grads.append(np.ascontiguousarray(gi).astype(t._data.dtype, copy=False))
        return tuple(grads)

    return record("EinsumBackward0", out, operands, backward, saved=operands)


def _triangle(a: Tensor, diagonal: int, upper: bool) -> Tensor:
    x = a._data
    if x.ndim < 2:
        raise RuntimeError(f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions")
    n, m = x.shape[-2:]
    keep = np.triu(np.ones((n, m), dtype=bool), diagonal) if upper else np.tril(np.ones((n, m), dtype=bool), diagonal)
    out = np.where(keep, x, np.zeros((), dtype=x.dtype))
    name = "TriuBackward0" if upper else "TrilBackward0"
    return record(name, out, (a,), lambda g: (np.where(keep, g, np.zeros((), dtype=g.dtype)),), saved=())


def tril(a: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (entries above ``diagonal`` set to 0)."""
    return _triangle(a, diagonal, upper=False)


def triu(a: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (entries below ``diagonal`` set to 0)."""
    return _triangle(a, diagonal, upper=True)
