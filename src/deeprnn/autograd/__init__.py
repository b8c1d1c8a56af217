"""deeprnn.autograd: the Tensor, the recorded graph, ``backward()``, ``grad()`` and ``no_grad``.

``from deeprnn import autograd; autograd.grad(loss, [w, b])`` works as in PyTorch.
"""

from .anomaly_mode import detect_anomaly as detect_anomaly
from .anomaly_mode import set_detect_anomaly as set_detect_anomaly
from .autograd_api import backward as backward
from .autograd_api import grad as grad
from .function import record as record
from .function import record_many as record_many
from .grad_mode import enable_grad as enable_grad
from .grad_mode import inference_mode as inference_mode
from .grad_mode import is_grad_enabled as is_grad_enabled
from .grad_mode import no_grad as no_grad
from .grad_mode import set_grad_enabled as set_grad_enabled
from .legacy import Variable as Variable
from .node import Node as Node
from .tensor import Tensor as Tensor
from .tensor_methods import attach as _attach  # the operators and op methods of Tensor

_attach()

__all__ = [
    "Tensor",
    "Variable",
    "Node",
    "backward",
    "grad",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "record",
    "record_many",
    "set_detect_anomaly",
    "detect_anomaly",
]
