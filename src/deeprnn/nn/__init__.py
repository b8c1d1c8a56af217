"""deeprnn.nn: modules (RNN, RNNCell, ...), parameters and functional operations."""

from .module import Module as Module
from .parameter import Parameter as Parameter
from .rnn import RNN as RNN
from .rnn import RNNBase as RNNBase
from .rnn_cell import RNNCell as RNNCell

__all__ = ["Module", "Parameter", "RNN", "RNNBase", "RNNCell"]
