"""deeprnn.nn: modules (RNN, RNNCell, Linear, Embedding, ...), losses, parameters and functional operations."""

from . import functional as functional
from . import init as init
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
from .rnn import RNN as RNN
from .rnn import RNNBase as RNNBase
from .rnn_cell import RNNCell as RNNCell

__all__ = [
    "Module",
    "Parameter",
    "RNN",
    "RNNBase",
    "RNNCell",
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
    "utils",
]
