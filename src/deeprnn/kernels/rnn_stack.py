"""A deep, optionally bidirectional Elman RNN over a whole sequence: forward and BPTT.

Letters, defined once for all the kernels:
    T  time steps       N  batch size        I  input features of layer 0
    H  hidden features  L  layers            D  directions (2 if bidirectional else 1)
    I_l  input features of layer l: I for l = 0, D*H above.

Forward, for layer l and direction d (PyTorch's nn.RNN recurrence):

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)        t = 0..T-1 (d = 0)
    h_t = act(x_t W_ih^T + b_ih + h_{t+1} W_hh^T + b_hh)        t = T-1..0 (d = 1, reverse)

The layer's output at t is [h_t(d=0), h_t(d=1)] (T, N, D*H); multiplied by the
dropout mask of layer l, it is the input x of layer l+1.  The part that does not
depend on h is done for all T at once as ONE matrix product per layer (both
directions' W_ih stacked), with both biases folded in:

    A = X W_cat^T + (b_ih + b_hh)         X (T*N, I_l), W_cat (D*H, I_l), A (T*N, D*H)

and only  h_t = act(A_t + h_prev W_hh^T)  is left to the time loop (rnn_layer.py, or its
compiled twin kernels/compiled/rnn.py where kernels/backend.py says so).

Backward (BPTT).  With g_t = dL/dh_t gathering the gradient from the layer above
(or d_out) and from the next step in this direction's time order:

    dA_t    = g_t * act'(a_t)                     (T, N, H)  act' = 1 - h_t**2 | [h_t > 0]
    g_prev += dA_t W_hh                           the only sequential part
    dW_ih   = dA^T X                              one product over all T*N rows
    dW_hh   = dA^T H_prev                         H_prev = [h0, h_0 .. h_T-2] (reverse: [h_1 .. h_T-1, h0])
    db_ih   = db_hh = sum over t, n of dA
    dX      = dA W_cat                            (T, N, I_l); times the mask -> g of layer l-1

The two directions of a bidirectional layer run one after the other.  Running them
in two Python threads (BLAS and ufuncs release the GIL) was measured and lost: with
BLAS itself on 2 threads, concurrent small products oversubscribe the 2 cores
(e.g. N=32, H=256: 7 ms sequential vs 23 ms threaded per layer); it only wins with
single-threaded BLAS, which a stateless kernel cannot impose.

Layer 0 may take integer token ids instead of features: its input projection is then a
lookup and dW_ih a scatter (rnn_input.py), with no one-hot matrix.

Memory: the cache keeps each layer's buffer (T + D, N, D*H): its outputs, i.e. T*N*H per
layer-direction, with the initial states in the D extra rows so that H_prev above is a
slice, not a copy; plus references to x, the weights and the masks.  The dropped inputs
of upper layers are recomputed in backward instead of being stored.
"""

from __future__ import annotations

import numpy as np

from . import rnn_layer
from ._activation import check_nonlinearity, derivative_from_output
from .backend import compiled_module, use_compiled
from .rnn_input import gather_projection, is_token_ids, scatter_weight_grad

__all__ = ["rnn_forward", "rnn_backward"]


def _stacked_input_weights(weights, layer, num_dirs):
    """W_cat (D*H, I_l): the W_ih of both directions stacked, so one product serves both."""
    if num_dirs == 1:
        return weights[layer][0]
    return np.concatenate([weights[layer * num_dirs + d][0] for d in range(num_dirs)], axis=0)


def _stacked_bias(weights, layer, num_dirs):
    """(D*H,) b_ih + b_hh for every direction of a layer, or None when the layer has no bias."""
    parts = []
    for d in range(num_dirs):
        _, _, b_ih, b_hh = weights[layer * num_dirs + d]
        if b_ih is None and b_hh is None:
            return None
        if b_ih is None:
            parts.append(b_hh)
        elif b_hh is None:
            parts.append(b_ih)
        else:
            parts.append(b_ih + b_hh)
    return parts[0] if num_dirs == 1 else np.concatenate(parts)


def _layer_buffer(T, N, DH, num_dirs, dtype, empty):
    """(T + D, N, D*H): row 0 holds the forward h0, rows 1..T the layer's h_t, row T+1 the reverse h0.

    With the initial states inside the buffer, the states h_prev(t) that multiply W_hh are a
    plain slice (rows 0..T-1 forward, rows 2..T+1 reverse), so dW_hh is one product over
    all T*N rows with no separate term for h0.
    """
    return empty((T + num_dirs, N, DH), dtype)


def _prev_states(buf, T, d, cols):
    """(T, N, H) view of h_prev(t) for direction d: h_{t-1} forward, h_{t+1} reverse (h0 at the ends)."""
    return buf[0:T, :, cols] if d == 0 else buf[2 : T + 2, :, cols]


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
):
    """Run a deep (bi)directional Elman RNN over a sequence: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Args:
        x: (T, N, I) input, time-major, float32 or float64; or (T, N) integer token ids,
            which stand for one-hot vectors of size I = layer 0's w_ih.shape[1] (rnn_input.py).
        h0: (L*D, N, H) initial states, layer-major, forward before reverse; None for zeros.
        weights: L*D tuples (w_ih, w_hh, b_ih, b_hh) in PyTorch's order l0, l0_reverse, l1, ...;
            w_ih (H, I_l), w_hh (H, H), biases (H,) or None.  Everything runs in w_hh's dtype.
        nonlinearity: 'tanh' or 'relu'.
        num_layers: L.  bidirectional: D = 2 if True else 1.
        dropout_masks: None or L-1 arrays (T, N, D*H); mask k multiplies layer k's output
            before it feeds layer k+1 (already scaled by 1/(1-p)).
        need_cache: False takes the lean inference path: no activations are saved.
        empty: ``empty(shape, dtype)`` allocates the whole-sequence buffers (forward and
            backward); np.empty by default, or a caller's pool that reuses them.

    Returns:
        out: (T, N, D*H) the last layer's h_t, directions concatenated on the last axis.
        h_n: (L*D, N, H) final state of every layer-direction (reverse: the state after t = 0).
        cache: for `rnn_backward`, or None when need_cache is False.  It references `out`
            and the inputs: do not modify them in place before calling `rnn_backward`.
    """
    check_nonlinearity(nonlinearity)
    num_dirs = 2 if bidirectional else 1
    ids = x.reshape(-1) if is_token_ids(x) else None  # (T*N,) token ids, or None for features
    T, N = x.shape[:2]
    H = weights[0][1].shape[0]
    DH = num_dirs * H
    dtype = weights[0][1].dtype
    assert T >= 1 and len(weights) == num_layers * num_dirs
    assert h0 is None or h0.shape == (num_layers * num_dirs, N, H)

    # The time loops: NumPy's (rnn_layer) or the compiled ones, as kernels/backend.py decides.
    loops = compiled_module("rnn") if use_compiled("rnn", N, H, dtype) else rnn_layer
    h_n = np.empty((num_layers * num_dirs, N, H), dtype=dtype)
    scratch = np.empty((num_dirs, N, H), dtype=dtype)  # one (N, H) product buffer per direction
    buffers = []  # each layer's (T + D, N, D*H) buffer, kept for backward
    spare = None  # lean path: the buffer not in use, reused by the next layer
    prev_buf = None  # the buffer holding the current layer's input (None for x itself)
    dropped = None  # the masked input of the next layer (T, N, D*H), reused across layers
    layer_in = x  # (T, N, I_l), or the token ids
    for layer in range(num_layers):
        buf = _layer_buffer(T, N, DH, num_dirs, dtype, empty) if need_cache or spare is None else spare
        y = buf[1 : T + 1]  # (T, N, D*H) this layer's h_t, contiguous
        y_flat = y.reshape(T * N, DH)
        # A = X W_cat^T + b for every t at once; y holds A (T, N, D*H) before the loop.
        w_cat = _stacked_input_weights(weights, layer, num_dirs)  # (D*H, I_l)
        if layer == 0 and ids is not None:
            gather_projection(ids, w_cat, y_flat)
        else:
            np.matmul(layer_in.reshape(T * N, layer_in.shape[2]), w_cat.T, out=y_flat)
        bias = _stacked_bias(weights, layer, num_dirs)  # (D*H,) or None
        if bias is not None:
            y += bias
        for d in range(num_dirs):
            k = layer * num_dirs + d
            cols = slice(d * H, (d + 1) * H)
            first = buf[0, :, cols] if d == 0 else buf[T + 1, :, cols]  # (N, H) h0 of this direction
            if h0 is None:
                first[...] = 0
            else:
                first[...] = h0[k]
            loops.recur_forward(y[:, :, cols], first, weights[k][1], nonlinearity, d == 1, scratch[d])
            h_n[k] = y[0, :, cols] if d == 1 else y[T - 1, :, cols]
        if need_cache:
            buffers.append(buf)
        if layer == num_layers - 1:
            break
        # The input of layer l+1: this layer's output times its dropout mask.
        if dropout_masks is None:
            nxt = y
        elif need_cache:  # y must survive for backward: mask into a reusable buffer
            if dropped is None:
                dropped = empty((T, N, DH), dtype)
            nxt = np.multiply(y, dropout_masks[layer], out=dropped)
        else:  # y is no longer needed (h_n already copied out): mask it in place
            nxt = np.multiply(y, dropout_masks[layer], out=y)
        if not need_cache:
            spare = prev_buf  # held this layer's input, consumed by the projection above
        prev_buf = buf
        layer_in = nxt
    out = y
    if not need_cache:
        return out, h_n, None
    cache = {
        "x": x,
        "ids": ids,
        "weights": weights,
        "buffers": buffers,
        "dropout_masks": dropout_masks,
        "nonlinearity": nonlinearity,
        "num_layers": num_layers,
        "num_dirs": num_dirs,
        "empty": empty,
        "loops": loops,
    }
    return out, h_n, cache


def rnn_backward(d_out, d_h_n, cache):
    """Back-propagate through time: dA_t = (dL/dh_t + dA_{t+1} W_hh) * act'(a_t), then dW = dA^T X, ...

    Args:
        d_out: (T, N, D*H) dL/dout, or None (zeros).
        d_h_n: (L*D, N, H) dL/dh_n, or None (zeros).
        cache: from `rnn_forward(..., need_cache=True)`.

    Returns:
        dx: (T, N, I), or None when x was token ids.  dh0: (L*D, N, H).
        dweights: L*D tuples (dw_ih (H, I_l), dw_hh (H, H), db_ih (H,), db_hh (H,)) in the order
            of `weights`, with None where the bias is None.
    """
    x = cache["x"]
    ids = cache["ids"]
    weights = cache["weights"]
    buffers = cache["buffers"]
    masks = cache["dropout_masks"]
    nonlinearity = cache["nonlinearity"]
    num_layers = cache["num_layers"]
    num_dirs = cache["num_dirs"]
    T, N = x.shape[:2]
    H = weights[0][1].shape[0]
    DH = num_dirs * H
    TN = T * N
    dtype = weights[0][1].dtype

    dh0 = np.empty((num_layers * num_dirs, N, H), dtype=dtype)
    dweights = [None] * (num_layers * num_dirs)
    empty = cache["empty"]
    d_a = empty((T, N, DH), dtype)  # dA of the current layer, all directions
    d_a_flat = d_a.reshape(TN, DH)
    # Scratch (T, N, D*H): holds the recomputed dropped input of a layer, then dL/d(its input).
    scratch = empty((T, N, DH), dtype) if num_layers > 1 else None
    d_y = d_out  # dL/d(output of the current layer) (T, N, D*H), or None for zeros
    dx = None

    for layer in range(num_layers - 1, -1, -1):
        buf = buffers[layer]
        y = buf[1 : T + 1]  # (T, N, D*H) this layer's h_t
        derivative_from_output(y, d_a, nonlinearity)  # (T, N, D*H) act'(a_t) for all t at once
        for d in range(num_dirs):
            k = layer * num_dirs + d
            cols = slice(d * H, (d + 1) * H)
            cache["loops"].recur_backward(
                d_a[:, :, cols],
                None if d_y is None else d_y[:, :, cols],
                None if d_h_n is None else d_h_n[k],
                weights[k][1],
                d == 1,
                dh0[k],  # the carry ends as dL/dh0 of this layer-direction
            )
        # d_y has been consumed.  dW_ih of every direction at once: dA (T*N, D*H) against the input.
        w_cat = _stacked_input_weights(weights, layer, num_dirs)  # (D*H, I_l)
        if layer == 0 and ids is not None:
            dw_ih_all = scatter_weight_grad(ids, d_a_flat, w_cat.shape[1])  # (D*H, V)
        else:
            if layer == 0:
                layer_in = x.reshape(TN, x.shape[2])
            elif masks is None:
                layer_in = buffers[layer - 1][1 : T + 1].reshape(TN, DH)
            else:  # recompute the dropped input instead of having stored it
                layer_in = np.multiply(buffers[layer - 1][1 : T + 1], masks[layer - 1], out=scratch).reshape(TN, DH)
            dw_ih_all = np.matmul(d_a_flat.T, layer_in)  # (D*H, I_l)   dA^T X
        has_bias = any(w[2] is not None or w[3] is not None for w in weights[layer * num_dirs : (layer + 1) * num_dirs])
        db_all = d_a_flat.sum(axis=0) if has_bias else None  # (D*H,)  sum over t and n of dA
        for d in range(num_dirs):
            k = layer * num_dirs + d
            cols = slice(d * H, (d + 1) * H)
            _, _, b_ih, b_hh = weights[k]
            # dW_hh = sum_t dA_t^T h_prev(t), ONE product: h0 sits in the buffer beside the h_t.
            d_a_d = d_a_flat if num_dirs == 1 else d_a_flat[:, cols]  # (T*N, H)
            dw_hh = np.matmul(d_a_d.T, _prev_states(buf, T, d, cols).reshape(TN, H))  # (H, H)
            if b_ih is None and b_hh is None:
                db_ih = db_hh = None
            else:
                db = db_all[cols]  # (H,)
                db_ih = db if b_ih is not None else None
                db_hh = (db.copy() if b_ih is not None else db) if b_hh is not None else None
            dweights[k] = (dw_ih_all[cols], dw_hh, db_ih, db_hh)
        # dX = dA W_cat: the gradient flowing into this layer's input (none for token ids).
        if layer == 0:
            if ids is None:
                dx = np.matmul(d_a_flat, w_cat).reshape(T, N, x.shape[2])  # (T, N, I)
        else:
            d_y = scratch
            np.matmul(d_a_flat, w_cat, out=d_y.reshape(TN, DH))  # (T, N, D*H) dL/d(dropped input)
            if masks is not None:
                d_y *= masks[layer - 1]  # (T, N, D*H) dL/d(output of layer l-1)
    return dx, dh0, dweights
