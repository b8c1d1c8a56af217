"""deeprnn: deep recurrent networks from scratch in NumPy, with PyTorch's API.

``import deeprnn as torch`` runs ordinary PyTorch RNN code: tensors with autograd,
``nn.RNN``/``nn.RNNCell`` with hand-derived backpropagation through time, layers,
losses and optimisers.
"""

from __future__ import annotations

from . import autograd as autograd
from . import explain as explain  # noqa: E402  (a callable module: deeprnn.explain(...))
from . import nn as nn  # noqa: E402  (after the tensor API it builds on)
from . import optim as optim  # noqa: E402
from . import serialization as serialization  # noqa: E402  (issue 12: torch's .pt format)
from . import utils as utils  # noqa: E402  (issue 12: utils.data is torch.utils.data)
from .autograd.creation import (
    arange,
    as_tensor,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .autograd.dtypes import (
    bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.ops_linalg import matmul, mm
from .autograd.ops_math import (
    abs,
    add,
    clamp,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from .autograd.ops_reduce import amax, max, mean, min, norm, sum
from .autograd.ops_shape import (
    cat,
    clone,
    expand,
    flatten,
    permute,
    reshape,
    select,
    squeeze,
    stack,
    transpose,
    unbind,
    unsqueeze,
)
from .autograd.random import Generator, default_generator, manual_seed
from .autograd.size import Size
from .autograd.tensor import Tensor
from .nn.functional import log_softmax, softmax  # noqa: E402
from .serialization import load, save  # noqa: E402  (issue 12)

__version__ = "0.1.0"

clip = clamp
concat = concatenate = cat


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the largest value (over ``dim`` when given)."""
    return input.argmax(dim, keepdim)


def numel(input: Tensor) -> int:  # noqa: A002
    """Number of elements."""
    return input.numel()


def is_tensor(obj: object) -> bool:
    """True if obj is a deeprnn.Tensor (torch.is_tensor)."""
    return isinstance(obj, Tensor)


__all__ = [
    "Tensor",
    "Size",
    "Generator",
    "autograd",
    "nn",
    "explain",
    "optim",
    "softmax",
    "log_softmax",
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "full",
    "empty",
    "randn",
    "rand",
    "randint",
    "arange",
    "linspace",
    "eye",
    "zeros_like",
    "ones_like",
    "full_like",
    "randn_like",
    "rand_like",
    "manual_seed",
    "default_generator",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "float32",
    "float64",
    "float16",
    "float",
    "double",
    "half",
    "int64",
    "int32",
    "int8",
    "uint8",
    "int",
    "long",
    "bool",
    "get_default_dtype",
    "set_default_dtype",
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "neg",
    "abs",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "relu",
    "sigmoid",
    "clamp",
    "clip",
    "maximum",
    "minimum",
    "where",
    "sum",
    "mean",
    "max",
    "min",
    "amax",
    "norm",
    "mm",
    "matmul",
    "cat",
    "concat",
    "concatenate",
    "stack",
    "unbind",
    "reshape",
    "transpose",
    "permute",
    "squeeze",
    "unsqueeze",
    "flatten",
    "expand",
    "select",
    "clone",
    "argmax",
    "numel",
    "is_tensor",
    # issue 12: torch.utils.data, torch's file format
    "utils",
    "serialization",
    "save",
    "load",
]
