"""``torch.nn.modules.activation``: the activation modules (see deeprnn.nn.activation)."""

from ..activation import ELU as ELU
from ..activation import GELU as GELU
from ..activation import Hardtanh as Hardtanh
from ..activation import LeakyReLU as LeakyReLU
from ..activation import LogSigmoid as LogSigmoid
from ..activation import LogSoftmax as LogSoftmax
from ..activation import ReLU as ReLU
from ..activation import ReLU6 as ReLU6
from ..activation import Sigmoid as Sigmoid
from ..activation import SiLU as SiLU
from ..activation import Softmax as Softmax
from ..activation import Softplus as Softplus
from ..activation import Tanh as Tanh

__all__ = [
    "ELU",
    "GELU",
    "Hardtanh",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "ReLU",
    "ReLU6",
    "Sigmoid",
    "SiLU",
    "Softmax",
    "Softplus",
    "Tanh",
]
