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
from typing import Any

import numpy as np

from ..autograd import ops_math as _M
from ..autograd.dtypes import torch_type_name
from ..autograd.function import record
from ..autograd.ops_softmax import log_softmax, softmax
from ..autograd.random import Generator, resolve
from ..autograd.tensor import Tensor
from ..kernels.sums import column_sums
from .functional_checks import _check_tensor

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


# ---- activations -------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0) element-wise; ``inplace=True`` overwrites x (relu_), as torch."""
    return input.relu_() if inplace else _M.relu(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """tanh(x) element-wise."""
    return _M.tanh(input)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + exp(-x)) element-wise."""
    return _M.sigmoid(input)


# ---- layers ------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x W^T + b.  x (*, H_in), W (H_out, H_in), b (H_out,) -> y (*, H_out).

    Backward: dx = dy W, dW = dy^T x (summed over *), db = sum of dy over *.
    """
    _check_tensor("input", input)
    _check_tensor("weight", weight)
    x, w = input._data, weight._data
    if w.ndim != 2:
        raise RuntimeError(f"linear(): weight must be 2-D (out_features, in_features), got {w.ndim}-D")
    rows = int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        cols = x.shape[-1] if x.ndim else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and {w.shape[1]}x{w.shape[0]})")
    if x.dtype != w.dtype:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {torch_type_name(x.dtype)} and {torch_type_name(w.dtype)}"
        )
    b = None
    if bias is not None:
        _check_tensor("bias", bias)
        b = bias._data
        if b.shape not in ((w.shape[0],), ()):
            raise RuntimeError(
                f"The expanded size of the tensor ({w.shape[0]}) must match the existing size ({b.shape[-1]}) "
                f"at non-singleton dimension {max(x.ndim - 1, 0)}.  Target sizes: {[*x.shape[:-1], w.shape[0]]}.  "
                f"Tensor sizes: {list(b.shape)}"
            )
    # One (R, H_in) x (H_in, H_out) product: a 3-D x would make matmul loop over the leading
    # axis with many small products (measured 5x slower for (64, 32, 256) x (256, 65)).
    x2 = x.reshape(rows, w.shape[1])  # (R, H_in)
    out = (x2 @ w.T).reshape(*x.shape[:-1], w.shape[0])  # (*, H_out)
    if b is not None:
        out += b

    def backward(g: np.ndarray) -> tuple:
        g2 = g.reshape(rows, w.shape[0])  # (R, H_out)
        gx = (g2 @ w).reshape(x.shape) if input.requires_grad else None  # (*, H_in)
        gw = (g2.T @ x2) if weight.requires_grad else None  # (H_out, H_in)
        gb = None
        if bias is not None and bias.requires_grad:
            gb = column_sums(g2).reshape(b.shape)  # (H_out,), one matrix-vector product (kernels/sums.py)
        return gx, gw, gb

    saved = (weight if input.requires_grad else None, input if weight.requires_grad else None)  # as torch's addmm
    name = "AddmmBackward0" if b is not None else "MmBackward0"
    return record(name, out, (input, weight, bias), backward, saved=saved)


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
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got deeprnn.{torch_type_name(idx.dtype)}Tensor instead (while checking arguments for embedding)"
        )
    w = weight._data
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

    return record("EmbeddingBackward0", out, (input, weight), backward, saved=(input,))  # the indices, as torch


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
    x = input._data
    keep = resolve(generator).random(x.shape) >= p
    # PyTorch: noise = bernoulli(1 - p) / (1 - p); out = input * noise
    noise = np.zeros(x.shape, dtype=x.dtype) if p == 1.0 else keep.astype(x.dtype) / (1.0 - p)
    return record("MulBackward0", x * noise, (input,), lambda g: (g * noise,), saved=())


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """(*) int64 class indices -> (*, num_classes) int64 with a 1 at each index."""
    _check_tensor("tensor", tensor)
    t = tensor._data
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


# The losses live in loss_functions.py; they are part of this module's API.
# issue 12: more activations, normalisation, channel dropout and element-wise losses, one file each
from .functional_activations import (  # noqa: E402
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    logsigmoid,
    relu6,
    silu,
    softplus,
)
from .functional_dropout import dropout1d, dropout2d  # noqa: E402
from .functional_norm import batch_norm, layer_norm  # noqa: E402
from .loss_functions import cross_entropy, mse_loss, nll_loss  # noqa: E402
from .loss_pointwise import (  # noqa: E402
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    l1_loss,
    smooth_l1_loss,
)

__all__ += [
    "leaky_relu",
    "elu",
    "gelu",
    "softplus",
    "hardtanh",
    "relu6",
    "silu",
    "logsigmoid",
    "dropout1d",
    "dropout2d",
    "batch_norm",
    "layer_norm",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]
