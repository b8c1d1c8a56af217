"""The time loops of one layer-direction: the only code in the kernels that walks over t.

Everything that can be done for all time steps at once (the input projection, the
activation derivative, every weight gradient) lives in `rnn_stack.py`; these two
loops do only what is truly sequential, with no allocation inside the loop: each
step is one small matrix product plus two in-place element-wise ufuncs.

Letters: T steps, N batch, H hidden features.  `seq` is a (T, N, H) view whose
row t is the time step t of this direction (for a bidirectional layer it is one
half of the (T, N, 2H) layer buffer, a strided view: BLAS and ufuncs handle it
without copying).
"""

from __future__ import annotations

import numpy as np


def recur_forward(seq, h0, w_hh, nonlinearity, reverse, scratch):
    """Run h_t = act(seq[t] + h_prev W_hh^T) in place over seq.

    On entry seq[t] holds the input projection x_t W_ih^T + b_ih + b_hh; on exit it
    holds h_t.  The forward direction visits t = 0..T-1 with h_prev = h_{t-1}; the
    reverse direction visits t = T-1..0 with h_prev = h_{t+1}.  Both start from h0.

    Args:
        seq: (T, N, H) view, overwritten.  h0: (N, H).  w_hh: (H, H).
        scratch: (N, H) contiguous buffer for the recurrent product.
    """
    matmul = np.matmul
    add = np.add
    # (H, H) W_hh^T as its own C-contiguous copy, made once per call: OpenBLAS runs the
    # small-M product h_prev @ W_hh^T up to 2x faster with a plain than a transposed operand.
    whh_t = np.ascontiguousarray(w_hh.T)
    steps = seq[::-1] if reverse else seq
    prev = h0
    if nonlinearity == "tanh":
        tanh = np.tanh
        for cur in steps:  # cur: (N, H) view of seq[t]
            matmul(prev, whh_t, out=scratch)  # h_prev W_hh^T
            add(cur, scratch, out=cur)  # a_t = x_t W_ih^T + b + h_prev W_hh^T
            tanh(cur, out=cur)  # h_t = tanh(a_t)
            prev = cur
    else:
        maximum = np.maximum
        zero = seq.dtype.type(0)
        for cur in steps:
            matmul(prev, whh_t, out=scratch)
            add(cur, scratch, out=cur)
            maximum(cur, zero, out=cur)  # h_t = relu(a_t)
            prev = cur


def recur_backward(d_a, d_seq, d_h_last, w_hh, reverse, carry):
    """Back-propagate through time for one layer-direction, in place over d_a.

    With g_t = dL/dh_t (total: from the output above and from step t+1),

        g_t    = d_seq[t] + dh_t        dh_t = the carry from the step after t
        dA_t   = g_t * act'(a_t)        (T, N, H) kept: every weight gradient is built from it
        dh_t'  = dA_t W_hh              carry to the step before t (t' = t-1, or t+1 if reversed)

    On entry d_a[t] holds act'(a_t); on exit it holds dA_t.  The carry starts as
    dL/dh_n and ends as dL/dh0.

    Args:
        d_a: (T, N, H) view, overwritten.  d_seq: (T, N, H) view of dL/dh_t from
            above, or None for zeros.  d_h_last: (N, H) dL/dh_n, or None for zeros.
        w_hh: (H, H).  carry: (N, H) contiguous buffer; on return it holds dL/dh0.
    """
    matmul = np.matmul
    multiply = np.multiply
    add = np.add
    # Backward visits the steps in the opposite order to the forward direction.
    steps = d_a if reverse else d_a[::-1]
    if d_h_last is None:
        carry[...] = 0
    else:
        carry[...] = d_h_last
    if d_seq is None:
        for da_t in steps:  # da_t: (N, H) view of d_a[t]
            multiply(carry, da_t, out=da_t)  # dA_t = dh_t * act'(a_t)
            matmul(da_t, w_hh, out=carry)  # dh_{t-1} = dA_t W_hh
    else:
        d_steps = d_seq if reverse else d_seq[::-1]
        for da_t, dy_t in zip(steps, d_steps):
            add(dy_t, carry, out=carry)  # g_t = dL/dy_t + dh_t
            multiply(carry, da_t, out=da_t)  # dA_t = g_t * act'(a_t)
            matmul(da_t, w_hh, out=carry)  # dh_{t-1} = dA_t W_hh
    return carry
