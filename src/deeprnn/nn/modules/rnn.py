"""``torch.nn.modules.rnn``: the recurrent modules (see deeprnn.nn.rnn and deeprnn.nn.rnn_cell).

LSTM and GRU join this list when they exist.
"""

from ..rnn import RNN as RNN
from ..rnn import RNNBase as RNNBase
from ..rnn_cell import RNNCell as RNNCell

__all__ = ["RNNBase", "RNN", "RNNCell"]
