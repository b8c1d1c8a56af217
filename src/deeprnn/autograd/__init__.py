"""deeprnn.autograd: the Tensor, the recorded graph, ``backward()``, ``grad()`` and ``no_grad``.

``from deeprnn import autograd; autograd.grad(loss, [w, b])`` works as in PyTorch.
"""

from .autograd_api import backward as backward
from .autograd_api import grad as grad
from .function import record as record
from .function import record_many as record_many
from .grad_mode import enable_grad as enable_grad
from .grad_mode import is_grad_enabled as is_grad_enabled
from .grad_mode import no_grad as no_grad
from .grad_mode import set_grad_enabled as set_grad_enabled
from .node import Node as Node
from .tensor import Tensor as Tensor

__all__ = [
    "Tensor",
    "Node",
    "backward",
    "grad",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "record",
    "record_many",
]
