"""``deeprnn.nn.modules``: torch's ``torch.nn.modules`` paths (``torch.nn.modules.rnn.RNN``, ``.loss``, ...).

Thin re-exports of the classes in ``deeprnn.nn``, so that programs importing from these
paths run: ``from deeprnn.nn.modules.loss import _Loss``.
"""

from . import activation as activation
from . import batchnorm as batchnorm
from . import container as container
from . import dropout as dropout
from . import flatten as flatten
from . import linear as linear
from . import loss as loss
from . import module as module
from . import normalization as normalization
from . import rnn as rnn
from . import sparse as sparse
from .activation import (
    ELU,
    GELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout, Dropout1d, Dropout2d
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from .module import Module
from .normalization import LayerNorm
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, PackedSequence, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding

__all__ = [
    "activation", "batchnorm", "container", "dropout", "flatten", "linear", "loss", "module", "normalization",
    "rnn", "sparse",
    "Module", "Sequential", "ModuleList", "ModuleDict", "Linear", "Identity", "Embedding",
    "Dropout", "Dropout1d", "Dropout2d", "Flatten", "Unflatten", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "ELU", "GELU", "Hardtanh", "LeakyReLU", "LogSigmoid", "LogSoftmax", "ReLU", "ReLU6", "Sigmoid", "SiLU",
    "Softmax", "Softplus", "Tanh",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss", "NLLLoss", "SmoothL1Loss",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "PackedSequence",
]  # fmt: skip
