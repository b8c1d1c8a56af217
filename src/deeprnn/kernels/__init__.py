"""deeprnn.kernels: pure NumPy functions for the Elman RNN forward pass and its hand-derived BPTT.

No state, no classes: arrays in, arrays (and an opaque cache) out.  See `rnn.py`.  The time loops
run in NumPy or, with numba installed, compiled where that is faster: see `backend.py`
(`set_backend("numpy")` forces NumPy).
"""

from .backend import get_backend, set_backend
from .rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

__all__ = ["rnn_cell_forward", "rnn_cell_backward", "rnn_forward", "rnn_backward", "set_backend", "get_backend"]
