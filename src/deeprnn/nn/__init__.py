"""deeprnn.nn: modules (RNN, LSTM, GRU and their cells, Linear, Embedding, ...), losses, parameters, functional."""

from . import functional as functional
from . import init as init
from . import modules as modules
from . import utils as utils

# issue 12: activations, normalisation, flatten, channel dropout, more losses (torch's nn.modules paths: modules/)
from .activation import ELU as ELU
from .activation import GELU as GELU
from .activation import Hardtanh as Hardtanh
from .activation import LeakyReLU as LeakyReLU
from .activation import LogSigmoid as LogSigmoid
from .activation import LogSoftmax as LogSoftmax
from .activation import ReLU as ReLU
from .activation import ReLU6 as ReLU6
from .activation import Sigmoid as Sigmoid
from .activation import SiLU as SiLU
from .activation import Softmax as Softmax
from .activation import Softplus as Softplus
from .activation import Tanh as Tanh
from .container import ModuleDict as ModuleDict
from .container import ModuleList as ModuleList
from .container import Sequential as Sequential
from .dropout import Dropout as Dropout
from .dropout import Dropout1d as Dropout1d
from .dropout import Dropout2d as Dropout2d
from .embedding import Embedding as Embedding
from .flatten import Flatten as Flatten
from .flatten import Unflatten as Unflatten
from .linear import Identity as Identity
from .linear import Linear as Linear
from .loss import BCELoss as BCELoss
from .loss import BCEWithLogitsLoss as BCEWithLogitsLoss
from .loss import CrossEntropyLoss as CrossEntropyLoss
from .loss import HuberLoss as HuberLoss
from .loss import L1Loss as L1Loss
from .loss import MSELoss as MSELoss
from .loss import NLLLoss as NLLLoss
from .loss import SmoothL1Loss as SmoothL1Loss
from .module import Module as Module
from .normalization import BatchNorm1d as BatchNorm1d
from .normalization import BatchNorm2d as BatchNorm2d
from .normalization import LayerNorm as LayerNorm
from .parameter import Parameter as Parameter
from .rnn import GRU as GRU
from .rnn import LSTM as LSTM
from .rnn import RNN as RNN
from .rnn_base import RNNBase as RNNBase
from .rnn_cell import GRUCell as GRUCell
from .rnn_cell import LSTMCell as LSTMCell
from .rnn_cell import RNNCell as RNNCell
from .rnn_cell import RNNCellBase as RNNCellBase

__all__ = [
    "Module",
    "Parameter",
    "RNN",
    "LSTM",
    "GRU",
    "RNNBase",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "RNNCellBase",
    "Linear",
    "Identity",
    "Embedding",
    "Dropout",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "functional",
    "init",
    "modules",
    "utils",
    # issue 12
    "ReLU",
    "Tanh",
    "Sigmoid",
    "LeakyReLU",
    "ELU",
    "GELU",
    "Softplus",
    "Hardtanh",
    "ReLU6",
    "SiLU",
    "LogSigmoid",
    "Softmax",
    "LogSoftmax",
    "Flatten",
    "Unflatten",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "Dropout1d",
    "Dropout2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
]
