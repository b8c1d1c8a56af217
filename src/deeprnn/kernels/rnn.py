"""Public entry points of the Elman RNN kernels (one step, and a deep bidirectional stack).

The implementation is split in small files: `rnn_cell.py` (one step),
`rnn_layer.py` (the sequential time loops) and `rnn_stack.py` (whole sequences,
layers and directions).  Shapes and equations are documented in each.
"""

from .rnn_cell import rnn_cell_backward, rnn_cell_forward
from .rnn_stack import rnn_backward, rnn_forward

__all__ = ["rnn_cell_forward", "rnn_cell_backward", "rnn_forward", "rnn_backward"]
