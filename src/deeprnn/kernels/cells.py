"""One time step of each kind (PyTorch's RNNCell, LSTMCell, GRUCell): forward and backward.

A cell runs the same step code as the whole-sequence stack (the kind's forward_steps,
backward_prepare and backward_steps in rnn.py, lstm.py, gru.py) on one step, so that a cell
and a module compute every number the same way; it skips only the stack's bookkeeping of
layers, directions, segments and pooled buffers, which a single step does not need and
whose cost a user's loop over cells would pay at every step.  Shapes: x (N, I), h (N, H), c (N, H).

    RNNCell:   h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)
    LSTMCell:  i, f, g, o from x W_ih^T + b_ih + h W_hh^T + b_hh;  c' = f c + i g,  h' = o tanh(c')
    GRUCell:   r, z, n as in gru.py;  h' = (1 - z) n + z h

Each backward returns (dx, d(state)..., dw_ih, dw_hh, db_ih, db_hh) with None where a
bias is None.
"""

from __future__ import annotations

import numpy as np

from .backend import kind_for
from .gru import GRU
from .lstm import LSTM
from .rnn import elman_kind
from .stack import kind_shapes, prev_views
from .sums import column_sums

__all__ = [
    "cell_forward",
    "cell_backward",
    "rnn_cell_forward",
    "rnn_cell_backward",
    "lstm_cell_forward",
    "lstm_cell_backward",
    "gru_cell_forward",
    "gru_cell_backward",
]


def cell_forward(kind, x, states, w_ih, w_hh, b_ih, b_hh):
    """One step of `kind`: the new states (N, .) each (None states are zeros), and the cache for `cell_backward`.

    The buffers are the stack's for T = 1: a state buffer holds the initial rows (0 .. N) and
    the new ones (N .. 2N); 'gates' and the kind's extras hold the step's N rows.
    """
    weights = (w_ih, w_hh, b_ih, b_hh)
    N = x.shape[0]
    H, S = w_hh.shape[0] // kind.num_gates, w_hh.shape[1]
    dtype = w_hh.dtype
    numpy_kind = kind
    kind = kind_for(kind, N, H, dtype)  # the stack's choice of time loops (backend.py), so the numbers agree
    _, layout, states_of, reads = kind_shapes(kind, H, S)
    bufs, rows = {}, {}
    for name, (width, ext) in layout.items():
        if name == "gates" and kind.gates_in_h:
            continue
        bufs[name] = np.empty((2 * N if ext else N, width), dtype=dtype)
        rows[name] = bufs[name][N:] if ext else bufs[name]
    if kind.gates_in_h:
        rows["gates"] = rows["h"]
    with np.errstate(all="ignore"):  # inf and NaN propagate as in torch, without warnings
        gates = rows["gates"]
        np.matmul(x, w_ih.T, out=gates)  # (N, G*H)  x W_ih^T
        bias = None if kind.input_bias_in_loop else kind.input_bias(b_ih, b_hh)  # else the loop adds it
        if bias is not None:
            gates += bias
        firsts = []
        for (name, _), s in zip(states_of, states):
            first = bufs[name][:N]
            first[...] = 0 if s is None else s
            firsts.append(first)
        views = {n: rows[n][None] for n, _ in reads}  # (1, N, W): one step
        # One NumPy step does not repay a contiguous copy of W_hh^T; the compiled loops want one.
        consts = kind.forward_constants(weights, contiguous=kind is not numpy_kind)
        kind.forward_steps(consts, views, firsts, False, kind.forward_work(N, H, S, dtype))
    new = tuple(rows[name].copy() for name in kind.state_names)  # never the arrays backward reads
    return new, (kind, x, weights, bufs, rows, H, S)


def cell_backward(d_states, cache):
    """Backward of `cell_forward` (None gradients are zeros): (dx, d(state)..., dw_ih, dw_hh, db_ih, db_hh)."""
    kind, x, weights, bufs, rows, H, S = cache
    w_ih, w_hh, b_ih, b_hh = weights
    N = x.shape[0]
    dtype = w_hh.dtype
    views = dict(rows)
    views["d_gates"] = d_gates = np.empty((N, kind.num_gates * H), dtype=dtype)  # dA
    for name, width in kind.backward_buffers(H, S).items():
        views[name] = np.empty((N, width), dtype=dtype)
    prev = [bufs[name][:N] for name in kind.state_names]  # the states before the step
    views.update(prev_views(kind, prev))
    with np.errstate(all="ignore"):
        kind.backward_prepare(weights, views, prev)
        carries = tuple(
            np.zeros((N, w), dtype=dtype) if g is None else np.array(g, dtype=dtype)
            for g, w in zip(d_states, kind.state_widths(H, S))
        )
        step = {n: views[n][None] for n in kind.step_reads_backward if n in views}
        step["d_out"] = None
        kind.backward_steps(weights, step, carries, False, kind.backward_work(N, H, S, dtype))
        dw_hh = np.matmul(d_gates.T, prev[0])  # (G*H, H)   dA_hh^T h
        db_hh = column_sums(d_gates) if (b_hh is not None and kind.recurrent_grads_differ) else None
        if kind.recurrent_grads_differ:
            kind.to_input_side(views)  # dA_hh -> dA (the input side)
        dw_ih = np.matmul(d_gates.T, x)  # (G*H, I)   dA^T x
        db_ih = column_sums(d_gates) if (b_ih is not None or b_hh is not None) else None
        if b_hh is not None and db_hh is None:
            db_hh = db_ih.copy()
        if b_ih is None:
            db_ih = None
        dx = np.matmul(d_gates, w_ih)  # (N, I)
    return (dx, *carries, dw_ih, dw_hh, db_ih, db_hh)


def rnn_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity):
    """One Elman step: h_new = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        x: (N, I) input at this step.  h: (N, H) previous hidden state, or None for zeros.
        w_ih: (H, I).  w_hh: (H, H).  b_ih, b_hh: (H,) biases, or None.
        nonlinearity: 'tanh' or 'relu'.

    Returns:
        h_new: (N, H) new hidden state, in w_hh's dtype; cache for `rnn_cell_backward`.
    """
    (h_new,), cache = cell_forward(elman_kind(nonlinearity), x, (h,), w_ih, w_hh, b_ih, b_hh)
    return h_new, cache


def rnn_cell_backward(d_h_new, cache):
    """Backward of one Elman step: (dx (N, I), dh (N, H), dw_ih, dw_hh, db_ih, db_hh)."""
    return cell_backward((d_h_new,), cache)


def lstm_cell_forward(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step: returns h_new (N, H), c_new (N, H) and the cache (h, c may be None for zeros)."""
    (h_new, c_new), cache = cell_forward(LSTM, x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return h_new, c_new, cache


def lstm_cell_backward(d_h_new, d_c_new, cache):
    """Backward of one LSTM step (either gradient may be None): (dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh)."""
    return cell_backward((d_h_new, d_c_new), cache)


def gru_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step: returns h_new (N, H) and the cache (h may be None for zeros)."""
    (h_new,), cache = cell_forward(GRU, x, (h,), w_ih, w_hh, b_ih, b_hh)
    return h_new, cache


def gru_cell_backward(d_h_new, cache):
    """Backward of one GRU step: (dx (N, I), dh (N, H), dw_ih, dw_hh, db_ih, db_hh)."""
    return cell_backward((d_h_new,), cache)
