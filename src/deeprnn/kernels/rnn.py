"""The Elman RNN (PyTorch's nn.RNN): its step, the step's derivative, and its entry points.

For each layer, direction and time step (PyTorch's documented recurrence)::

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)        act = tanh or relu

The stack (stack.py) computes A = x W_ih^T + b_ih + b_hh for all steps in one product and
writes it where h_t will go; the time loop below only adds h_prev W_hh^T and applies act,
in place: one small product and two ufuncs per step, no allocation.

Backward, with g_t = dL/dh_t gathering the gradient from above and from the next step:

    dA_t    = g_t * act'(a_t)          (T, N, H)  act' = 1 - h_t**2 | [h_t > 0], from the output
    g_prev += dA_t W_hh                the only sequential part
    dW_ih = dA^T X,  dW_hh = dA^T H_prev,  db_ih = db_hh = sum of dA      (stack_backward.py)
"""

from __future__ import annotations

import numpy as np

from ._activation import check_nonlinearity, derivative_from_output
from .stack import recurrent_forward
from .stack_backward import recurrent_backward
from .transposed import transposed

__all__ = ["ElmanKind", "RNN_TANH", "RNN_RELU", "rnn_forward", "rnn_backward"]


class ElmanKind:
    """h_t = act(A_t + h_prev W_hh^T): one gate, one state, computed in place over A."""

    num_gates = 1
    state_names = ("h",)
    step_reads = ("h",)  # the buffers the time loop reads or writes
    step_reads_backward = ("d_gates",)
    gates_in_h = True  # A_t is written where h_t goes and turned into h_t in place
    input_bias_in_loop = False  # the stack adds input_bias to A
    recurrent_grads_differ = False  # dA is the same on the input and the recurrent side

    def __init__(self, nonlinearity: str) -> None:
        check_nonlinearity(nonlinearity)
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def __repr__(self) -> str:
        return self.mode

    @staticmethod
    def state_widths(H: int, S: int) -> tuple[int, ...]:
        return (H,)

    @staticmethod
    def forward_buffers(H: int, S: int) -> dict:
        return {}

    @staticmethod
    def backward_buffers(H: int, S: int) -> dict:
        return {}

    @staticmethod
    def input_bias(b_ih, b_hh):
        """b_ih + b_hh: both fold into the input projection."""
        if b_ih is None or b_hh is None:
            return b_hh if b_ih is None else b_ih
        return b_ih + b_hh

    @staticmethod
    def forward_constants(weights, contiguous=True):
        # (H, H) W_hh^T as its own C-contiguous copy, made once per call: OpenBLAS runs the
        # small-M product h_prev @ W_hh^T up to 2x faster with a plain than a transposed operand
        # (a single step, a cell, does not repay the copy).  transposed() keeps the copy while W_hh is unchanged.
        return transposed(weights[1]) if contiguous else weights[1].T

    @staticmethod
    def forward_work(N, H, S, dtype):
        return np.empty((N, H), dtype=dtype)  # the recurrent product of one step

    def forward_steps(self, whh_t, v, prev, reverse, scratch):
        """Run h_t = act(seq[t] + h_prev W_hh^T) in place over seq = v['h'] (T_s, b, H).

        On entry seq[t] holds A_t = x_t W_ih^T + b_ih + b_hh; on exit it holds h_t.  The
        forward direction visits t in order, the reverse one backwards; both start from prev.
        """
        seq = v["h"]
        scratch = scratch[: seq.shape[1]]  # (b, H)
        matmul = np.matmul
        add = np.add
        steps = seq[::-1] if reverse else seq
        (h_prev,) = prev
        if self.nonlinearity == "tanh":
            tanh = np.tanh
            for h in steps:  # h: (b, H) view of seq[t]
                matmul(h_prev, whh_t, out=scratch)  # h_prev W_hh^T
                add(h, scratch, out=h)  # a_t = x_t W_ih^T + b + h_prev W_hh^T
                tanh(h, out=h)  # h_t = tanh(a_t)
                h_prev = h
        else:
            maximum = np.maximum
            zero = seq.dtype.type(0)
            for h in steps:
                matmul(h_prev, whh_t, out=scratch)
                add(h, scratch, out=h)
                maximum(h, zero, out=h)  # h_t = relu(a_t)
                h_prev = h

    @staticmethod
    def backward_work(N, H, S, dtype):
        return {}

    def backward_prepare(self, weights, v, prev):
        """d_gates <- act'(a_t) for every step at once, from the outputs h_t."""
        derivative_from_output(v["h"], v["d_gates"], self.nonlinearity)

    @staticmethod
    def backward_steps(weights, v, carries, reverse, work):
        """dA_t = (dL/dh_t from above + carry) * act'(a_t); carry <- dA_t W_hh, in place over v['d_gates'].

        On entry v['d_gates'][t] holds act'(a_t) and the carry dL/dh at the first step
        visited; on exit d_gates[t] holds dA_t and the carry dL/d(state before the run).
        """
        w_hh = weights[1]
        d_a, d_seq = v["d_gates"], v["d_out"]
        (carry,) = carries
        matmul = np.matmul
        multiply = np.multiply
        add = np.add
        # Backward visits the steps in the opposite order to the direction's own.
        steps = d_a if reverse else d_a[::-1]
        if d_seq is None:
            for da_t in steps:  # da_t: (b, H) view of d_a[t]
                multiply(carry, da_t, out=da_t)  # dA_t = dh_t * act'(a_t)
                matmul(da_t, w_hh, out=carry)  # dh_{t-1} = dA_t W_hh
        else:
            d_steps = d_seq if reverse else d_seq[::-1]
            for da_t, dy_t in zip(steps, d_steps):
                add(dy_t, carry, out=carry)  # g_t = dL/dy_t + dh_t
                multiply(carry, da_t, out=da_t)  # dA_t = g_t * act'(a_t)
                matmul(da_t, w_hh, out=carry)  # dh_{t-1} = dA_t W_hh

    @staticmethod
    def extra_weight_grads(weights, v) -> tuple:
        return ()


RNN_TANH = ElmanKind("tanh")
RNN_RELU = ElmanKind("relu")


def elman_kind(nonlinearity: str) -> ElmanKind:
    """The kind for 'tanh' or 'relu' (ValueError otherwise)."""
    check_nonlinearity(nonlinearity)
    return RNN_TANH if nonlinearity == "tanh" else RNN_RELU


def rnn_forward(
    x,
    h0,
    weights,
    nonlinearity,
    num_layers,
    bidirectional,
    dropout_masks=None,
    need_cache=True,
    empty=np.empty,
    batch_sizes=None,
):
    """Run a deep (bi)directional Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Args:
        x: (T, N, I) input, time-major; or (T, N) integer token ids (one-hot input of size
            I = w_ih.shape[1]); with batch_sizes, packed rows (R, I) or (R,) ids.
        h0: (L*D, N, H) initial states, layer-major, forward before reverse; None for zeros.
        weights: L*D tuples (w_ih (H, I_l), w_hh (H, H), b_ih (H,) or None, b_hh (H,) or None).
        nonlinearity: 'tanh' or 'relu'.  num_layers: L.  bidirectional: D = 2 if True else 1.
        dropout_masks, need_cache, empty, batch_sizes: as `recurrent_forward` (stack.py).

    Returns:
        out (T, N, D*H) (packed: (R, D*H)), h_n (L*D, N, H), cache for `rnn_backward` (or None).
    """
    out, (h_n,), cache = recurrent_forward(
        elman_kind(nonlinearity),
        x,
        (h0,),
        weights,
        num_layers,
        bidirectional,
        dropout_masks=dropout_masks,
        need_cache=need_cache,
        empty=empty,
        batch_sizes=batch_sizes,
    )
    return out, h_n, cache


def rnn_backward(d_out, d_h_n, cache):
    """BPTT of `rnn_forward`: returns dx (None for token ids), dh0 (L*D, N, H) and the L*D weight-gradient tuples."""
    dx, (dh0,), dweights = recurrent_backward(d_out, (d_h_n,), cache)
    return dx, dh0, dweights
