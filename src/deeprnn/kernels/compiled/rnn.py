"""The Elman RNN's time loops, compiled: the same contract as kernels/rnn_layer.py, step for step.

    forward   h_t  = act(A_t + h_prev W_hh^T)              A_t = x_t W_ih^T + b_ih + b_hh, given
    backward  dA_t = (dL/dh_t + dh_t) * act'(a_t)           dh_t carried from the step after t
              dh_prev = dA_t W_hh

One call runs every step of one layer-direction in machine code: the recurrent product (a
hand-written loop, _math.add_product), the addition and the activation, with no Python and no
library call per step.  Everything that is done for all steps at once (the input projection,
act', the weight-gradient products) stays in NumPy, as in the NumPy path.

Letters: T steps, N batch, H hidden features.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from ._math import add_product, tanh_

__all__ = ["recur_forward", "recur_backward"]


@jit
def _forward(seq, h0, whh_t, relu, reverse):
    T, N, H = seq.shape
    prev = np.empty((N, H), seq.dtype)  # h_prev, contiguous
    acc = np.empty((N, H), seq.dtype)  # a_t
    for n in range(N):
        for j in range(H):
            prev[n, j] = h0[n, j]
    zero = seq.dtype.type(0)
    for s in range(T):
        t = T - 1 - s if reverse else s
        for n in range(N):
            for j in range(H):
                acc[n, j] = seq[t, n, j]
        add_product(acc, prev, whh_t)  # a_t = A_t + h_prev W_hh^T
        for n in range(N):
            for j in range(H):
                v = max(acc[n, j], zero) if relu else tanh_(acc[n, j])
                prev[n, j] = v
                seq[t, n, j] = v


@jit
def _backward(d_a, d_seq, has_d_seq, w_hh, reverse, carry):
    T, N, H = d_a.shape
    g = np.empty((N, H), d_a.dtype)  # dA_t, contiguous
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        for n in range(N):
            for j in range(H):
                gj = carry[n, j] + d_seq[t, n, j] if has_d_seq else carry[n, j]
                v = gj * d_a[t, n, j]  # dA_t = g_t * act'(a_t)
                g[n, j] = v
                d_a[t, n, j] = v
                carry[n, j] = 0
        add_product(carry, g, w_hh)  # dh_prev = dA_t W_hh


def recur_forward(seq, h0, w_hh, nonlinearity, reverse, scratch):
    """Run h_t = act(seq[t] + h_prev W_hh^T) in place over seq, as rnn_layer.recur_forward.

    Args:
        seq: (T, N, H) view, A_t on entry and h_t on exit.  h0: (N, H).  w_hh: (H, H).
        scratch: unused (the compiled loop keeps its own (N, H) rows); kept for the same signature.
    """
    whh_t = np.ascontiguousarray(w_hh.T)  # (H, H) W_hh^T: the inner loop runs along its rows
    _forward(seq, h0, whh_t, nonlinearity == "relu", reverse)


def recur_backward(d_a, d_seq, d_h_last, w_hh, reverse, carry):
    """Back-propagate through time in place over d_a, as rnn_layer.recur_backward.

    Args:
        d_a: (T, N, H) view, act'(a_t) on entry and dA_t on exit.  d_seq: (T, N, H) dL/dh_t from
            above, or None.  d_h_last: (N, H) dL/dh_n, or None.  w_hh: (H, H).
        carry: (N, H) contiguous; on return it holds dL/dh0.
    """
    if d_h_last is None:
        carry[...] = 0
    else:
        carry[...] = d_h_last
    _backward(d_a, d_a if d_seq is None else d_seq, d_seq is not None, np.ascontiguousarray(w_hh), reverse, carry)
    return carry
