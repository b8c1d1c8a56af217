"""deeprnn.kernels: pure NumPy functions for the Elman RNN forward pass and its hand-derived BPTT.

No state, no classes: arrays in, arrays (and an opaque cache) out.  See `rnn.py`.
"""

from .rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

__all__ = ["rnn_cell_forward", "rnn_cell_backward", "rnn_forward", "rnn_backward"]
