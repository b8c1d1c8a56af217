"""One time step of an Elman RNN: forward and hand-derived backward.

Shapes use these letters throughout the kernels:
    N  batch size          I  input features         H  hidden features

Forward (PyTorch's convention, weights act from the left on row vectors):

    a     = x W_ih^T + b_ih + h W_hh^T + b_hh        # (N, H)
    h_new = act(a)                                    # (N, H), act in {tanh, relu}

Backward, given g = dL/dh_new:

    dA     = g * act'(a)        # (N, H)   act' from the output: 1 - h_new**2 or [h_new > 0]
    dx     = dA W_ih            # (N, I)
    dh     = dA W_hh            # (N, H)
    dW_ih  = dA^T x             # (H, I)
    dW_hh  = dA^T h             # (H, H)
    db_ih  = db_hh = sum_n dA   # (H,)
"""

from __future__ import annotations

import numpy as np

from ._activation import activate_, check_nonlinearity, derivative_from_output

__all__ = ["rnn_cell_forward", "rnn_cell_backward"]


def rnn_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity):
    """One Elman step: h_new = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        x: (N, I) input at this step.
        h: (N, H) previous hidden state.
        w_ih: (H, I) input-to-hidden weights.  w_hh: (H, H) hidden-to-hidden weights.
        b_ih, b_hh: (H,) biases, or None when the cell has no bias.
        nonlinearity: 'tanh' or 'relu'.

    Returns:
        h_new: (N, H) new hidden state, in x's dtype.
        cache: opaque tuple for `rnn_cell_backward` (references x, h, the weights and h_new).
    """
    check_nonlinearity(nonlinearity)
    a = np.matmul(x, w_ih.T)  # (N, H)   x W_ih^T
    a += np.matmul(h, w_hh.T)  # (N, H)   + h W_hh^T
    if b_ih is not None:
        a += b_ih
    if b_hh is not None:
        a += b_hh
    h_new = activate_(a, nonlinearity)  # (N, H)
    cache = (x, h, w_ih, w_hh, h_new, b_ih is not None, b_hh is not None, nonlinearity)
    return h_new, cache


def rnn_cell_backward(d_h_new, cache):
    """Backward of one Elman step: dA = dL/dh_new * act'(a), then the five products above.

    Args:
        d_h_new: (N, H) gradient of the loss with respect to h_new.
        cache: the cache returned by `rnn_cell_forward`.

    Returns:
        (dx (N, I), dh (N, H), dw_ih (H, I), dw_hh (H, H), db_ih (H,) or None, db_hh (H,) or None)
    """
    x, h, w_ih, w_hh, h_new, has_b_ih, has_b_hh, nonlinearity = cache
    d_a = derivative_from_output(h_new, np.empty_like(h_new), nonlinearity)  # (N, H) act'(a)
    d_a *= d_h_new  # (N, H)  dA = g * act'(a)
    dx = np.matmul(d_a, w_ih)  # (N, I)
    dh = np.matmul(d_a, w_hh)  # (N, H)
    dw_ih = np.matmul(d_a.T, x)  # (H, I)
    dw_hh = np.matmul(d_a.T, h)  # (H, H)
    db = d_a.sum(axis=0) if (has_b_ih or has_b_hh) else None  # (H,)
    db_ih = db if has_b_ih else None
    db_hh = (db.copy() if has_b_ih else db) if has_b_hh else None
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh
