"""deeprnn.nn: modules (RNN, LSTM, GRU and their cells, Linear, Embedding, ...), losses, parameters, functional."""

from . import functional as functional
from . import init as init
from . import modules as modules
from . import utils as utils
from .container import ModuleDict as ModuleDict
from .container import ModuleList as ModuleList
from .container import Sequential as Sequential
from .dropout import Dropout as Dropout
from .embedding import Embedding as Embedding
from .linear import Identity as Identity
from .linear import Linear as Linear
from .loss import CrossEntropyLoss as CrossEntropyLoss
from .loss import MSELoss as MSELoss
from .loss import NLLLoss as NLLLoss
from .module import Module as Module
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
]
