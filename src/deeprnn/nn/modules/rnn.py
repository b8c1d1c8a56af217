"""``torch.nn.modules.rnn``: the recurrent modules under PyTorch's namespace path (re-exports only)."""

from ..rnn import GRU as GRU
from ..rnn import LSTM as LSTM
from ..rnn import RNN as RNN
from ..rnn_base import RNNBase as RNNBase
from ..rnn_cell import GRUCell as GRUCell
from ..rnn_cell import LSTMCell as LSTMCell
from ..rnn_cell import RNNCell as RNNCell
from ..rnn_cell import RNNCellBase as RNNCellBase
from ..utils.rnn import PackedSequence as PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "PackedSequence"]
