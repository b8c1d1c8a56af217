"""``deeprnn.nn.functional``: stateless layers and losses, as ``torch.nn.functional``.

Every operation that a language model runs on large tensors (``linear``, ``embedding``,
``softmax``/``log_softmax``, ``cross_entropy``, ``nll_loss``, ``dropout``) is ONE recorded
op with a hand-derived backward, rather than a chain of small ops: fewer temporaries and
one graph node per call.

Shapes for the classification losses, with C = number of classes:
    input   (N, C), (C,) or (N, C, d1, ..., dk): the class dimension is dim 1 (dim 0 if 1-D)
    target  (N,), () or (N, d1, ..., dk): class indices in [0, C) or ``ignore_index``;
            for ``cross_entropy`` also class probabilities shaped like ``input``
    output  a scalar ('mean', 'sum') or the target's shape ('none')
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from ..autograd import ops_math as _M
from ..autograd.dtypes import as_dtype, is_floating
from ..autograd.function import record, unbroadcast
from ..autograd.grad_mode import no_grad
from ..autograd.random import Generator, resolve
from ..autograd.tensor import Tensor

__all__ = [
    "linear",
    "embedding",
    "dropout",
    "relu",
    "tanh",
    "sigmoid",
    "softmax",
    "log_softmax",
    "one_hot",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
]

_TORCH_NAMES = {
    "float32": "Float",
    "float64": "Double",
    "float16": "Half",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}


def _type_name(dtype: np.dtype) -> str:
    """PyTorch's short name of a dtype ('Float', 'Long', ...) for error messages."""
    return _TORCH_NAMES.get(np.dtype(dtype).name, str(dtype))


def _check_tensor(name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a deeprnn.Tensor, got {type(value).__name__}")


# ---- activations -------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0) element-wise (``inplace`` is accepted and ignored: the result is a new tensor)."""
    return _M.relu(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """tanh(x) element-wise."""
    return _M.tanh(input)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + exp(-x)) element-wise."""
    return _M.sigmoid(input)


def _softmax_dim(name: str, ndim: int, dim: int | None) -> int:
    """PyTorch's legacy implicit dim (with its deprecation warning) and range check."""
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. "
            "Change the call to include dim=X as an argument.",
            UserWarning,
            stacklevel=3,
        )
        dim = 0 if ndim in (0, 1, 3) else 1
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _float_input(name: str, input: Tensor, dtype: Any) -> np.ndarray:  # noqa: A002
    _check_tensor("input", input)
    x = input.data if dtype is None else input.data.astype(as_dtype(dtype))
    if not is_floating(x.dtype):
        raise NotImplementedError(f"\"{name}_lastdim_kernel_impl\" not implemented for '{_type_name(x.dtype)}'")
    return x


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """log softmax(x) = (x - max) - log(sum(exp(x - max))), stable for large |x|."""
    if x.ndim == 0:
        return np.zeros_like(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``dim``.

    Backward: dx = s * (g - sum(g * s, dim)).
    """
    x = _float_input("softmax", input, dtype)
    axis = _softmax_dim("softmax", x.ndim, dim)
    if x.ndim == 0:
        s = np.ones_like(x)
    else:
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        s = e / e.sum(axis=axis, keepdims=True)
    old = input.data.dtype

    def backward(g: np.ndarray) -> tuple:
        gs = g * s
        gx = gs - s * gs.sum(axis=axis, keepdims=True) if s.ndim else np.zeros_like(gs)
        return (gx.astype(old, copy=False),)

    return record("SoftmaxBackward0", s, (input,), backward)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:  # noqa: A002
    """log(softmax(x)) along ``dim``, computed stably.

    Backward: dx = g - exp(out) * sum(g, dim).
    """
    x = _float_input("log_softmax", input, dtype)
    axis = _softmax_dim("log_softmax", x.ndim, dim)
    out = _log_softmax(x, axis)
    old = input.data.dtype

    def backward(g: np.ndarray) -> tuple:
        gx = g - np.exp(out) * g.sum(axis=axis, keepdims=True) if out.ndim else np.zeros_like(g)
        return (gx.astype(old, copy=False),)

    return record("LogSoftmaxBackward0", out, (input,), backward)


# ---- layers ------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x W^T + b.  x (*, H_in), W (H_out, H_in), b (H_out,) -> y (*, H_out).

    Backward: dx = dy W, dW = dy^T x (summed over *), db = sum of dy over *.
    """
    _check_tensor("input", input)
    _check_tensor("weight", weight)
    x, w = input.data, weight.data
    if w.ndim != 2:
        raise RuntimeError(f"linear(): weight must be 2-D (out_features, in_features), got {w.ndim}-D")
    rows = int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        cols = x.shape[-1] if x.ndim else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and {w.shape[1]}x{w.shape[0]})")
    if x.dtype != w.dtype:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {_type_name(x.dtype)} and {_type_name(w.dtype)}"
        )
    b = None
    if bias is not None:
        _check_tensor("bias", bias)
        b = bias.data
        if b.shape not in ((w.shape[0],), ()):
            raise RuntimeError(
                f"The expanded size of the tensor ({w.shape[0]}) must match the existing size ({b.shape[-1]}) "
                f"at non-singleton dimension {max(x.ndim - 1, 0)}.  Target sizes: {[*x.shape[:-1], w.shape[0]]}.  "
                f"Tensor sizes: {list(b.shape)}"
            )
    out = x @ w.T  # (*, H_out)
    if b is not None:
        out += b

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(rows, w.shape[0])  # (R, H_out)
        gx = (g @ w) if input.requires_grad else None  # (*, H_in)
        gw = (g2.T @ x.reshape(rows, w.shape[1])) if weight.requires_grad else None  # (H_out, H_in)
        gb = None
        if bias is not None and bias.requires_grad:
            gb = g2.sum(axis=0).reshape(b.shape)  # (H_out,)
        return gx, gw, gb

    return record("AddmmBackward0" if b is not None else "MmBackward0", out, (input, weight, bias), backward)


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,  # noqa: A002
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of ``weight``: out[...] = weight[input[...]].  input (*) int, weight (V, D) -> (*, D).

    Backward: the output gradient is scatter-added into the looked-up rows; the
    ``padding_idx`` row gets no gradient.
    """
    _check_tensor("input", input)
    _check_tensor("weight", weight)
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not supported")
    idx = input.data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got deeprnn.{_type_name(idx.dtype)}Tensor instead (while checking arguments for embedding)"
        )
    w = weight.data
    num = w.shape[0]
    if idx.size:
        bad = (idx < 0) | (idx >= num)
        if bad.any():
            raise IndexError(
                f"index out of range in self: got index {int(idx[bad].flat[0])}, "
                f"expected indices in [0, {num - 1}] (num_embeddings={num})"
            )
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    out = w[idx]  # (*, D)

    def backward(g: np.ndarray) -> tuple:
        gw = np.zeros_like(w)  # (V, D)
        np.add.at(gw, idx.reshape(-1), g.reshape(-1, w.shape[1]))
        if padding_idx is not None:
            gw[padding_idx] = 0
        return None, gw

    return record("EmbeddingBackward0", out, (input, weight), backward)


def _check_p(p: Any) -> float:
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,  # noqa: A002
    generator: Generator | None = None,
) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only).

    The mask is drawn from ``generator`` (the default generator when None); ``inplace``
    is accepted and ignored. In evaluation (``training=False``) the input is returned.
    """
    p = _check_p(p)
    _check_tensor("input", input)
    if not training or p == 0.0:
        return input
    x = input.data
    keep = resolve(generator).random(x.shape) >= p
    # PyTorch: noise = bernoulli(1 - p) / (1 - p); out = input * noise
    noise = np.zeros(x.shape, dtype=x.dtype) if p == 1.0 else keep.astype(x.dtype) / (1.0 - p)
    return record("MulBackward0", x * noise, (input,), lambda g: (g * noise,))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(*) int64 class indices -> (*, num_classes) int64 with a 1 at each index."""
    _check_tensor("tensor", tensor)
    t = tensor.data
    if t.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(t.max()) + 1
    if t.size:
        if t.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if t.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros((*t.shape, num_classes), dtype=np.int64)
    np.put_along_axis(out, t[..., None], 1, axis=-1)
    return Tensor._wrap(out)


# ---- losses ------------------------------------------------------------------------------
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
    t = target.data
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
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_type_name(t.dtype)}")
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
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
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
    x = input.data
    if not is_floating(x.dtype):
        raise NotImplementedError(f"\"log_softmax_lastdim_kernel_impl\" not implemented for '{_type_name(x.dtype)}'")
    if x.ndim >= 1 and target.data.shape == x.shape:
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
        grad = p * coef[:, None]
        grad[rows, tv] -= coef
        if eps > 0:
            s = ((eps / C) * gr * valid)[:, None]  # (M, 1)
            grad += s * (p * C - 1) if w is None else s * (p * w.sum() - w)
        return _from_rows(grad.astype(x.dtype, copy=False), x.shape), None

    return record("NllLossBackward0", out, (input, target), backward)


def _cross_entropy_probs(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None,
    reduction: str,  # noqa: A002
    eps: float,
) -> Tensor:
    """Cross-entropy against class probabilities y (same shape as input): l_i = -sum_c w_c y_ic log p_ic."""
    x, y = input.data, target.data
    if not is_floating(y.dtype):
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {_type_name(y.dtype)}"
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
    x = input.data
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
        d = _M.sub(input, target).data  # broadcast and promoted as a - b
    sq = d * d
    out = sq if reduction == "none" else np.asarray(sq.mean() if reduction == "mean" else sq.sum(), dtype=d.dtype)
    n = sq.size
    sx, sy = input.data.shape, target.data.shape

    def backward(g: np.ndarray) -> tuple:
        scale = 2.0 / n if reduction == "mean" else 2.0
        gd = (g * d) * np.asarray(scale, dtype=d.dtype)
        gx = unbroadcast(gd, sx).astype(input.data.dtype, copy=False) if input.requires_grad else None
        gy = unbroadcast(-gd, sy).astype(target.data.dtype, copy=False) if target.requires_grad else None
        return gx, gy

    return record("MseLossBackward0", out, (input, target), backward)
