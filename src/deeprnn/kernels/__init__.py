"""deeprnn.kernels: pure NumPy functions for the recurrent networks' forward passes and their hand-derived BPTT.

No state: arrays in, arrays (and an opaque cache) out.  One shared stack (`stack.py`,
`stack_backward.py`: layers, directions, dropout masks, token ids, buffers, packed
batches, the whole-sequence weight-gradient products) runs every kind, whose step and
derivative live in one small file each: `rnn.py` (Elman), `lstm.py`, `gru.py`.
`cells.py` is one step of each kind; `batch_plan.py` the rows of padded and packed batches.
The time loops run in NumPy or, with numba installed, compiled where that is faster:
see `backend.py` (`set_backend("numpy")` forces NumPy) and `compiled/`.
"""

from .backend import get_backend, set_backend, set_thread_pool
from .cells import (
    cell_backward,
    cell_forward,
    gru_cell_backward,
    gru_cell_forward,
    lstm_cell_backward,
    lstm_cell_forward,
    rnn_cell_backward,
    rnn_cell_forward,
)
from .gru import GRU, gru_backward, gru_forward
from .lstm import LSTM, lstm_backward, lstm_forward
from .rnn import RNN_RELU, RNN_TANH, elman_kind, rnn_backward, rnn_forward
from .stack import recurrent_forward
from .stack_backward import recurrent_backward

KINDS = {"RNN_TANH": RNN_TANH, "RNN_RELU": RNN_RELU, "LSTM": LSTM, "GRU": GRU}
"""The kind of each of PyTorch's RNN modes."""

__all__ = [
    "rnn_cell_forward",
    "rnn_cell_backward",
    "rnn_forward",
    "rnn_backward",
    "lstm_cell_forward",
    "lstm_cell_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_cell_forward",
    "gru_cell_backward",
    "gru_forward",
    "gru_backward",
    "recurrent_forward",
    "recurrent_backward",
    "cell_forward",
    "cell_backward",
    "elman_kind",
    "KINDS",
    "RNN_TANH",
    "RNN_RELU",
    "LSTM",
    "GRU",
    "set_backend",
    "set_thread_pool",
    "get_backend",
]
