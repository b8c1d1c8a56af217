"""The layers: nn.functional's functions and the leaf modules other than the recurrent ones.

Each ``emit_*`` adds the nodes of one layer and binds its result; ``FUNCTIONAL`` maps the
names of ``nn.functional`` to recorders taking the call's arguments by name (bound against
the function's own signature), and ``MODULES`` maps module classes to recorders taking the
module, so ``nn.Linear`` and ``F.linear`` share ``emit_linear``.  What ONNX has no exact
operator for is decomposed as torch's exporter does (GELU before opset 20, LayerNorm
before 17, SiLU, LogSigmoid, Softplus with beta).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import nn
from ..autograd.tensor import Tensor
from .errors import UnsupportedOperatorError
from .record_math import alias, cast_to, operand
from .record_shape import SHAPE_RECORDERS
from .trace import Trace

__all__ = ["FUNCTIONAL", "MODULES"]


def _x(tr: Trace, result: Tensor, x: Tensor) -> str:
    return cast_to(tr, tr.name(x), x.dtype, result.dtype)


def _act(tr: Trace, result: Tensor, x: Tensor, op_type: str, **attrs: Any) -> None:
    tr.bind(result, tr.graph.op(op_type, [_x(tr, result, x)], **attrs), tr.labels(x))


def _no_inplace(what: str, inplace: bool) -> None:
    if inplace:
        raise UnsupportedOperatorError(
            f"{what}(inplace=True) is not supported by deeprnn.onnx.export: use inplace=False"
        )


# ---- layers ------------------------------------------------------------------------------
def emit_linear(tr: Trace, result: Tensor, x: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """y = x W^T + b: Gemm for a 2-D input (as torch exports it), MatMul + Add otherwise."""
    g, dt = tr.graph, result.dtype
    xn, wn = operand(tr, x, dt), operand(tr, weight, dt)
    labels = (*tr.labels(x)[:-1], None)
    if x.ndim == 2:
        inputs = [xn, wn] + ([operand(tr, bias, dt)] if bias is not None else [])
        tr.bind(result, g.op("Gemm", inputs, transB=1), labels)
        return
    y = g.op("MatMul", [xn, g.op("Transpose", [wn], perm=[1, 0])])
    if bias is not None:
        y = g.op("Add", [y, operand(tr, bias, dt)])
    tr.bind(result, y, labels)


def emit_embedding(tr: Trace, result: Tensor, indices: Tensor, weight: Tensor) -> None:
    """out[...] = weight[indices[...]]: Gather on axis 0 (padding_idx only matters for training)."""
    name = tr.graph.op("Gather", [tr.name(weight), tr.name(indices)], axis=0)
    tr.bind(result, name, (*tr.labels(indices), None))


def emit_dropout(tr: Trace, result: Tensor, x: Tensor, p: float, training: bool, what: str = "dropout") -> None:
    """The identity in evaluation mode (or with p = 0); random masks have no faithful ONNX form."""
    if training and p > 0:
        raise UnsupportedOperatorError(
            f"{what} in training mode (p={p}) is not supported by deeprnn.onnx.export: export in eval mode "
            "(the default, training=TrainingMode.EVAL) or pass training=self.training to F.dropout"
        )
    alias(tr, result, x)


def emit_layer_norm(
    tr: Trace, result: Tensor, x: Tensor, shape: Any, weight: Tensor | None, bias: Tensor | None, eps: float
) -> None:
    """LayerNormalization (opset 17), or its decomposition (x - mean) / sqrt(var + eps) * w + b before."""
    g, dt = tr.graph, result.dtype
    k = 1 if isinstance(shape, int) else len(shape)
    xn = _x(tr, result, x)
    if g.opset >= 17:
        scale = operand(tr, weight, dt) if weight is not None else g.const(np.ones(x.shape[-k:]), dt)
        inputs = [xn, scale] + ([operand(tr, bias, dt)] if bias is not None else [])
        tr.bind(result, g.op("LayerNormalization", inputs, axis=-k, epsilon=float(eps)), tr.labels(x))
        return
    axes = list(range(x.ndim - k, x.ndim))
    mean = g.op("ReduceMean", [xn], axes=axes, keepdims=1)
    d = g.op("Sub", [xn, mean])
    var = g.op("ReduceMean", [g.op("Mul", [d, d])], axes=axes, keepdims=1)
    y = g.op("Div", [d, g.op("Sqrt", [g.op("Add", [var, g.const(eps, dt)])])])
    if weight is not None:
        y = g.op("Mul", [y, operand(tr, weight, dt)])
    if bias is not None:
        y = g.op("Add", [y, operand(tr, bias, dt)])
    tr.bind(result, y, tr.labels(x))


def emit_batch_norm(
    tr: Trace,
    result: Tensor,
    x: Tensor,
    mean: Tensor | None,
    var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    eps: float,
) -> None:
    """BatchNormalization with the running statistics (evaluation); a 2-D input is unsqueezed to (N, C, 1)."""
    if training or mean is None or var is None:
        raise UnsupportedOperatorError(
            "batch normalisation with batch statistics (training mode, or track_running_stats=False) is not "
            "supported by deeprnn.onnx.export: export in eval mode with running statistics"
        )
    g, dt = tr.graph, result.dtype
    C = x.shape[1]
    xn = _x(tr, result, x)
    if x.ndim == 2:
        xn = g.op("Unsqueeze", [xn, g.ints([2])])
    scale = operand(tr, weight, dt) if weight is not None else g.const(np.ones(C), dt)
    shift = operand(tr, bias, dt) if bias is not None else g.const(np.zeros(C), dt)
    y = g.op("BatchNormalization", [xn, scale, shift, operand(tr, mean, dt), operand(tr, var, dt)], epsilon=float(eps))
    if x.ndim == 2:
        y = g.op("Squeeze", [y, g.ints([2])])
    tr.bind(result, y, tr.labels(x))


# ---- activations -------------------------------------------------------------------------
def emit_gelu(tr: Trace, result: Tensor, x: Tensor, approximate: str) -> None:
    """Gelu (opset 20), else x/2 (1 + erf(x/sqrt 2)) or x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    g, dt = tr.graph, result.dtype
    xn = _x(tr, result, x)
    if g.opset >= 20:
        tr.bind(result, g.op("Gelu", [xn], approximate=approximate), tr.labels(x))
        return
    if approximate == "tanh":
        cube = g.op("Mul", [g.op("Mul", [xn, xn]), xn])
        inner = g.op("Add", [xn, g.op("Mul", [cube, g.const(0.044715, dt)])])
        t = g.op("Tanh", [g.op("Mul", [inner, g.const(math.sqrt(2.0 / math.pi), dt)])])
    else:
        t = g.op("Erf", [g.op("Div", [xn, g.const(math.sqrt(2.0), dt)])])
    half = g.op("Mul", [xn, g.const(0.5, dt)])
    tr.bind(result, g.op("Mul", [half, g.op("Add", [t, g.const(1.0, dt)])]), tr.labels(x))


def emit_softplus(tr: Trace, result: Tensor, x: Tensor, beta: float) -> None:
    """log(1 + e^(beta x)) / beta (the threshold's linear branch agrees to rounding, as in torch's export)."""
    g, dt = tr.graph, result.dtype
    xn = _x(tr, result, x)
    if beta == 1:
        tr.bind(result, g.op("Softplus", [xn]), tr.labels(x))
        return
    y = g.op("Softplus", [g.op("Mul", [xn, g.const(beta, dt)])])
    tr.bind(result, g.op("Div", [y, g.const(beta, dt)]), tr.labels(x))


def emit_clip(tr: Trace, result: Tensor, x: Tensor, lo: float, hi: float) -> None:
    g, dt = tr.graph, result.dtype
    tr.bind(result, g.op("Clip", [_x(tr, result, x), g.const(lo, dt), g.const(hi, dt)]), tr.labels(x))


def emit_silu(tr: Trace, result: Tensor, x: Tensor) -> None:
    xn = _x(tr, result, x)
    tr.bind(result, tr.graph.op("Mul", [xn, tr.graph.op("Sigmoid", [xn])]), tr.labels(x))


def emit_logsigmoid(tr: Trace, result: Tensor, x: Tensor) -> None:
    """log sigmoid(x) = -softplus(-x), stable for large |x|."""
    g = tr.graph
    y = g.op("Neg", [g.op("Softplus", [g.op("Neg", [_x(tr, result, x)])])])
    tr.bind(result, y, tr.labels(x))


def emit_softmax(tr: Trace, result: Tensor, x: Tensor, dim: Any, op_type: str) -> None:
    if dim is None:  # torch's legacy implicit dim (the call already warned)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    attrs = {"axis": int(dim) % x.ndim} if x.ndim else {}
    tr.bind(result, tr.graph.op(op_type, [_x(tr, result, x)], **attrs), tr.labels(x))


# ---- nn.functional (arguments by name) ---------------------------------------------------
def _f_relu(tr: Trace, r: Tensor, a: dict) -> None:
    _no_inplace("relu", a.get("inplace", False))
    _act(tr, r, a["input"], "Relu")


FUNCTIONAL: dict[str, Any] = {
    "relu": _f_relu,
    "tanh": lambda tr, r, a: _act(tr, r, a["input"], "Tanh"),
    "sigmoid": lambda tr, r, a: _act(tr, r, a["input"], "Sigmoid"),
    "softmax": lambda tr, r, a: emit_softmax(tr, r, a["input"], a["dim"], "Softmax"),
    "log_softmax": lambda tr, r, a: emit_softmax(tr, r, a["input"], a["dim"], "LogSoftmax"),
    "linear": lambda tr, r, a: emit_linear(tr, r, a["input"], a["weight"], a["bias"]),
    "embedding": lambda tr, r, a: emit_embedding(tr, r, a["input"], a["weight"]),
    "dropout": lambda tr, r, a: (
        _no_inplace("dropout", a["inplace"]),
        emit_dropout(tr, r, a["input"], a["p"], a["training"]),
    ),
    "dropout1d": lambda tr, r, a: emit_dropout(tr, r, a["input"], a["p"], a["training"], "dropout1d"),
    "dropout2d": lambda tr, r, a: emit_dropout(tr, r, a["input"], a["p"], a["training"], "dropout2d"),
    "leaky_relu": lambda tr, r, a: (
        _no_inplace("leaky_relu", a["inplace"]),
        _act(tr, r, a["input"], "LeakyRelu", alpha=float(a["negative_slope"])),
    ),
    "elu": lambda tr, r, a: (_no_inplace("elu", a["inplace"]), _act(tr, r, a["input"], "Elu", alpha=float(a["alpha"]))),
    "gelu": lambda tr, r, a: emit_gelu(tr, r, a["input"], a["approximate"]),
    "softplus": lambda tr, r, a: emit_softplus(tr, r, a["input"], a["beta"]),
    "hardtanh": lambda tr, r, a: (
        _no_inplace("hardtanh", a["inplace"]),
        emit_clip(tr, r, a["input"], a["min_val"], a["max_val"]),
    ),
    "relu6": lambda tr, r, a: (_no_inplace("relu6", a["inplace"]), emit_clip(tr, r, a["input"], 0.0, 6.0)),
    "silu": lambda tr, r, a: (_no_inplace("silu", a["inplace"]), emit_silu(tr, r, a["input"])),
    "logsigmoid": lambda tr, r, a: emit_logsigmoid(tr, r, a["input"]),
    "layer_norm": lambda tr, r, a: emit_layer_norm(
        tr, r, a["input"], a["normalized_shape"], a["weight"], a["bias"], a["eps"]
    ),
    "batch_norm": lambda tr, r, a: emit_batch_norm(
        tr, r, a["input"], a["running_mean"], a["running_var"], a["weight"], a["bias"], a["training"], a["eps"]
    ),
}


# ---- leaf modules (the module and its forward's input) -----------------------------------
def _batch_norm_module(tr: Trace, r: Tensor, m: Any, x: Tensor) -> None:
    use_batch_stats = m.training or (m.running_mean is None and m.running_var is None)
    emit_batch_norm(tr, r, x, m.running_mean, m.running_var, m.weight, m.bias, use_batch_stats, m.eps)


def _dropout_module(tr: Trace, r: Tensor, m: Any, x: Tensor) -> None:
    emit_dropout(tr, r, x, m.p, m.training, type(m).__name__)


MODULES: dict[type, Any] = {
    nn.Linear: lambda tr, r, m, x: emit_linear(tr, r, x, m.weight, m.bias),
    nn.Embedding: lambda tr, r, m, x: emit_embedding(tr, r, x, m.weight),
    nn.Identity: lambda tr, r, m, x: alias(tr, r, x),
    nn.Dropout: _dropout_module,
    nn.Dropout1d: _dropout_module,
    nn.Dropout2d: _dropout_module,
    nn.ReLU: lambda tr, r, m, x: _act(tr, r, x, "Relu"),
    nn.Tanh: lambda tr, r, m, x: _act(tr, r, x, "Tanh"),
    nn.Sigmoid: lambda tr, r, m, x: _act(tr, r, x, "Sigmoid"),
    nn.LeakyReLU: lambda tr, r, m, x: _act(tr, r, x, "LeakyRelu", alpha=float(m.negative_slope)),
    nn.ELU: lambda tr, r, m, x: _act(tr, r, x, "Elu", alpha=float(m.alpha)),
    nn.GELU: lambda tr, r, m, x: emit_gelu(tr, r, x, m.approximate),
    nn.Softplus: lambda tr, r, m, x: emit_softplus(tr, r, x, m.beta),
    nn.Hardtanh: lambda tr, r, m, x: emit_clip(tr, r, x, m.min_val, m.max_val),
    nn.ReLU6: lambda tr, r, m, x: emit_clip(tr, r, x, 0.0, 6.0),
    nn.SiLU: lambda tr, r, m, x: emit_silu(tr, r, x),
    nn.LogSigmoid: lambda tr, r, m, x: emit_logsigmoid(tr, r, x),
    nn.Softmax: lambda tr, r, m, x: emit_softmax(tr, r, x, m.dim, "Softmax"),
    nn.LogSoftmax: lambda tr, r, m, x: emit_softmax(tr, r, x, m.dim, "LogSoftmax"),
    nn.LayerNorm: lambda tr, r, m, x: emit_layer_norm(tr, r, x, m.normalized_shape, m.weight, m.bias, m.eps),
    nn.BatchNorm1d: _batch_norm_module,
    nn.BatchNorm2d: _batch_norm_module,
    nn.Flatten: lambda tr, r, m, x: SHAPE_RECORDERS["flatten"](tr, r, x, m.start_dim, m.end_dim),
    nn.Unflatten: lambda tr, r, m, x: SHAPE_RECORDERS["unflatten"](tr, r, x, m.dim, m.unflattened_size),
}
