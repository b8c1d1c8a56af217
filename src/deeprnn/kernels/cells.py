"""One time step of each kind (PyTorch's RNNCell, LSTMCell, GRUCell): forward and backward.

A cell is the stack of `stack.py` with one layer, one direction and T = 1, so that a cell
and a whole-sequence module compute every number the same way, with the same step code
(rnn.py, lstm.py, gru.py).  Shapes: x (N, I), h (N, H), c (N, H).

    RNNCell:   h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)
    LSTMCell:  i, f, g, o from x W_ih^T + b_ih + h W_hh^T + b_hh;  c' = f c + i g,  h' = o tanh(c')
    GRUCell:   r, z, n as in gru.py;  h' = (1 - z) n + z h

Each backward returns (dx, d(state)..., dw_ih, dw_hh, db_ih, db_hh) with None where a
bias is None.
"""

from __future__ import annotations

from .gru import GRU
from .lstm import LSTM
from .rnn import elman_kind
from .stack import recurrent_forward
from .stack_backward import recurrent_backward

__all__ = [
    "rnn_cell_forward",
    "rnn_cell_backward",
    "lstm_cell_forward",
    "lstm_cell_backward",
    "gru_cell_forward",
    "gru_cell_backward",
]


def _step(kind, x, states, w_ih, w_hh, b_ih, b_hh):
    """Run one step of `kind`: the new states (N, .) and the cache."""
    state0 = tuple(None if s is None else s[None] for s in states)  # (1, N, .)
    _, state_n, cache = recurrent_forward(
        kind, x[None], state0, [(w_ih, w_hh, b_ih, b_hh)], 1, False, copy_output=False
    )
    return tuple(s[0] for s in state_n), cache


def _step_backward(d_states, cache):
    d_n = tuple(None if g is None else g[None] for g in d_states)
    dx, d_state0, ((dw_ih, dw_hh, db_ih, db_hh),) = recurrent_backward(None, d_n, cache)
    return (dx[0], *(g[0] for g in d_state0), dw_ih, dw_hh, db_ih, db_hh)


def rnn_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity):
    """One Elman step: h_new = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        x: (N, I) input at this step.  h: (N, H) previous hidden state, or None for zeros.
        w_ih: (H, I).  w_hh: (H, H).  b_ih, b_hh: (H,) biases, or None.
        nonlinearity: 'tanh' or 'relu'.

    Returns:
        h_new: (N, H) new hidden state, in w_hh's dtype; cache for `rnn_cell_backward`.
    """
    (h_new,), cache = _step(elman_kind(nonlinearity), x, (h,), w_ih, w_hh, b_ih, b_hh)
    return h_new, cache


def rnn_cell_backward(d_h_new, cache):
    """Backward of one Elman step: (dx (N, I), dh (N, H), dw_ih, dw_hh, db_ih, db_hh)."""
    return _step_backward((d_h_new,), cache)


def lstm_cell_forward(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step: returns h_new (N, H), c_new (N, H) and the cache (h, c may be None for zeros)."""
    (h_new, c_new), cache = _step(LSTM, x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return h_new, c_new, cache


def lstm_cell_backward(d_h_new, d_c_new, cache):
    """Backward of one LSTM step (either gradient may be None): (dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh)."""
    return _step_backward((d_h_new, d_c_new), cache)


def gru_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step: returns h_new (N, H) and the cache (h may be None for zeros)."""
    (h_new,), cache = _step(GRU, x, (h,), w_ih, w_hh, b_ih, b_hh)
    return h_new, cache


def gru_cell_backward(d_h_new, cache):
    """Backward of one GRU step: (dx (N, I), dh (N, H), dw_ih, dw_hh, db_ih, db_hh)."""
    return _step_backward((d_h_new,), cache)
