"""A deep Elman RNN fed one-hot token ids, as one autograd node, without the one-hot matrix.

char-rnn feeds the network one-hot vectors e(x_t) of size V.  Layer 0's input projection
is then a column lookup, because a one-hot vector picks one column of W_ih:

    e(x_t) W_ih^T = W_ih[:, x_t]^T                      (H,) per token

so instead of building the (T, N, V) one-hot tensor and multiplying it by W_ih^T (what
``nn.RNN`` does when handed that tensor), layer 0 gathers rows of W_ih^T:

    A0 = W_ih^T[ids] + (b_ih + b_hh)                     ids (T, N) -> A0 (T, N, H)

The numbers are the same: a product with a one-hot vector adds exact zeros.  Backward
skips the (T*N, H) x (H, V) product for dL/dx that nobody needs (the input is integer ids)
and gets dW_ih with one sparse-by-dense product:

    dW_ih = dA0^T onehot(ids)  i.e.  dW_ih[:, v] = sum of dA0[t, n] over tokens x[t, n] = v

Layers 1..L-1 are the ordinary stack kernel (``kernels.rnn_forward``), fed layer 0's output
times its dropout mask.  Letters: T steps, N batch, V vocabulary, H hidden, L layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..autograd.function import record_many
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..kernels import rnn_backward, rnn_forward
from ..kernels._activation import derivative_from_output
from ..kernels.rnn_layer import recur_backward, recur_forward

__all__ = ["onehot_rnn"]


def _bias(b_ih: np.ndarray | None, b_hh: np.ndarray | None) -> np.ndarray | None:
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def onehot_rnn(
    ids: np.ndarray,
    hx: Tensor | None,
    weights: Sequence[tuple[Tensor, Tensor, Tensor | None, Tensor | None]],
    nonlinearity: str,
    dropout_masks: list[np.ndarray] | None = None,
) -> tuple[Tensor, Tensor]:
    """Run a unidirectional L-layer Elman RNN on one-hot(ids); returns (output, h_n).

    Args:
        ids: (T, N) int token ids in [0, V), time-major.
        hx: (L, N, H) initial state, or None for zeros.
        weights: L tuples (w_ih, w_hh, b_ih, b_hh) as ``nn.RNN._weight_groups()``;
            layer 0's w_ih is (H, V).
        nonlinearity: 'tanh' or 'relu'.
        dropout_masks: None or L-1 arrays (T, N, H), already scaled by 1/(1-p).

    Returns:
        output (T, N, H), the last layer's h_t; h_n (L, N, H).
    """
    T, N = ids.shape
    L = len(weights)
    w_ih0, w_hh0, b_ih0, b_hh0 = (None if w is None else w.data for w in weights[0])
    H = w_hh0.shape[0]
    dtype = w_hh0.dtype
    h0 = np.zeros((L, N, H), dtype=dtype) if hx is None else hx.data
    flat = [w for group in weights for w in group if w is not None]
    inputs = [hx, *flat]
    need = is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs)
    flat_ids = ids.reshape(T * N)

    # Layer 0: gather, then the time loop in place.
    y0 = np.take(w_ih0.T, flat_ids, axis=0).reshape(T, N, H)  # (T, N, H) A0 without bias
    bias0 = _bias(b_ih0, b_hh0)
    if bias0 is not None:
        y0 += bias0
    recur_forward(y0, h0[0], w_hh0, nonlinearity, False, np.empty((N, H), dtype=dtype))
    h_n = np.empty((L, N, H), dtype=dtype)
    h_n[0] = y0[T - 1]
    upper_cache = None
    if L > 1:
        x1 = y0 if dropout_masks is None else y0 * dropout_masks[0]  # (T, N, H)
        upper_w = [tuple(None if w is None else w.data for w in g) for g in weights[1:]]
        out, h_up, upper_cache = rnn_forward(
            x1,
            h0[1:],
            upper_w,
            nonlinearity,
            L - 1,
            False,
            dropout_masks=None if dropout_masks is None else dropout_masks[1:],
            need_cache=need,
        )
        h_n[1:] = h_up
    else:
        out = y0

    def backward(d_out: np.ndarray | None, d_hn: np.ndarray | None) -> list[np.ndarray | None]:
        dh0 = np.empty((L, N, H), dtype=dtype)
        grads_upper: list[np.ndarray | None] = []
        if L > 1:
            dx1, dh_up, dws = rnn_backward(d_out, None if d_hn is None else d_hn[1:], upper_cache)
            dh0[1:] = dh_up
            if dropout_masks is not None:
                dx1 *= dropout_masks[0]
            d_y0 = dx1  # (T, N, H) dL/d(layer 0 output)
            for group, dgroup in zip(weights[1:], dws):
                grads_upper.extend(g for w, g in zip(group, dgroup) if w is not None)
        else:
            d_y0 = d_out
        d_a = derivative_from_output(y0, np.empty_like(y0), nonlinearity)  # (T, N, H) act'(a_t)
        recur_backward(d_a, d_y0, None if d_hn is None else d_hn[0], w_hh0, False, dh0[0])
        d_a_flat = d_a.reshape(T * N, H)
        # dW_ih (H, V): one-hot^T dA summed per token id, as a (V, T*N) x (T*N, H) product.
        V = w_ih0.shape[1]
        onehot_t = np.zeros((V, T * N), dtype=dtype)
        onehot_t[flat_ids, np.arange(T * N)] = 1
        dw_ih0 = np.matmul(onehot_t, d_a_flat).T  # (H, V)
        dw_hh0 = np.matmul(d_a[1:].reshape((T - 1) * N, H).T, y0[:-1].reshape((T - 1) * N, H))
        dw_hh0 += np.matmul(d_a[0].T, h0[0])  # (H, H)
        db = d_a_flat.sum(axis=0) if bias0 is not None else None
        g0 = [
            dw_ih0,
            dw_hh0,
            db if b_ih0 is not None else None,
            (db.copy() if b_ih0 is not None else db) if b_hh0 is not None else None,
        ]
        grads: list[np.ndarray | None] = [None if hx is None else dh0]
        grads.extend(g for w, g in zip(weights[0], g0) if w is not None)
        grads.extend(grads_upper)
        return grads

    out_t, hn_t = record_many("OneHotRnnBackward0", [out, h_n], inputs, backward)
    return out_t, hn_t
