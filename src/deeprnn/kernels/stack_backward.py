"""Backpropagation through time for the stack of `stack.py`, for every kind of recurrence.

For each layer, from the top down, and each direction, the kind's backward loop turns
g_t = dL/dh_t (from the layer above, or d_out, plus what flows back from the next step
in this direction's time order) into the gradients of the gates' pre-activations

    dA (R, D*G*H)     and, per direction, the carry dL/dh_prev (and dL/dc_prev for LSTM),

which is the only sequential part.  Everything else is one product over all R rows:

    dW_hh = dA_hh^T H_prev       H_prev (R, S): each row's previous state (h0 at the start)
    db_hh = sum over rows of dA_hh   (sums.py: one matrix-vector product)
    dW_ih = dA^T X               both directions at once (token ids: a scatter)
    db_ih = sum over rows of dA
    dX    = dA W_cat             (R, I_l); times the dropout mask -> g of layer l-1

dA_hh is dA except for the GRU, whose n gate sees r * (W_hn h + b_hn) on the recurrent
side and W_in x + b_in on the input side.  A packed batch hands each sequence's dL/dh_n
to the step where it ended, and takes the reverse direction's dL/dh0 from the step where
it started (batch_plan.py).
"""

from __future__ import annotations

import numpy as np

from .batch_plan import BatchPlan
from .rnn_input import scatter_weight_grad
from .stack import buffer_layout, prev_views, stacked_input_weights
from .sums import column_sums

__all__ = ["recurrent_backward"]


def _run_direction(kind, plan: BatchPlan, weights_k, views, names, exts, d_y, d_state_n, d_state0, k, d, work):
    """BPTT over one layer-direction: fills views['d_gates'] and d_state0[.][k]; returns H_prev.

    The carries dL/dh (and dL/dc) are d_state0[.][k] themselves: the rows of a sequence
    that has started (reverse) hold its dL/dh0 and are not touched again.
    """
    reverse = d == 1
    prev = [plan.prev_rows(e, reverse) for e in exts]  # (R, S_i) each row's previous state
    views.update(prev_views(kind, prev))
    kind.backward_prepare(weights_k, views, prev)
    carries = tuple([g[k] for g in d_state0])  # (N, S_i) each, contiguous
    if plan.padded:  # one segment: both directions start from dL/dh_n and end with dL/dh0
        for i, c in enumerate(carries):
            c[...] = 0 if d_state_n[i] is None else d_state_n[i][k]
        T, N = plan.T, plan.N
        seg_views = {n: views[n].reshape(T, N, views[n].shape[1]) for n in names}  # (T, N, W) each
        seg_views["d_out"] = None if d_y is None else d_y.reshape(T, N, d_y.shape[1])
        kind.backward_steps(weights_k, seg_views, carries, reverse, work)
        return prev[0]
    for i, c in enumerate(carries):  # the reverse direction starts (t = 0) from dL/dh_n of every row
        if reverse:
            c[...] = 0 if d_state_n[i] is None else d_state_n[i][k]
    for seg in plan.segment_order(reverse, backward=True):
        if not reverse:  # the sequences nxt .. b end at step t1 - 1: their dL/dh_n joins the carry there
            for i, c in enumerate(carries):
                c[seg.nxt : seg.b] = 0 if d_state_n[i] is None else d_state_n[i][k][seg.nxt : seg.b]
        seg_views = {n: plan.seq_view(views[n], seg) for n in names}  # (T_s, b, W) each
        seg_views["d_out"] = None if d_y is None else plan.seq_view(d_y, seg)
        # The reverse direction: the sequences nxt .. b started at step t1 - 1, so the carry
        # rows nxt .. b now hold their dL/dh0 and the next segments use only rows 0 .. nxt.
        kind.backward_steps(weights_k, seg_views, tuple([c[: seg.b] for c in carries]), reverse, work)
    return prev[0]


def recurrent_backward(d_out, d_state_n, cache, need_dx: bool = True):
    """Back-propagate through time through every layer and direction of `recurrent_forward`.

    Args:
        d_out: dL/dout shaped like out ((T, N, D*S) or packed (R, D*S)), or None (zeros).
        d_state_n: tuple like state_n; each entry (L*D, N, S_k) dL/d(final state) or None (zeros).
        cache: from `recurrent_forward(..., need_cache=True)`.
        need_dx: False skips dL/dx, the (R, D*G*H) by (D*G*H, I) product of layer 0 (dx is None): the
            input needs no gradient, as in most programs, whose inputs are data.

    Returns:
        dx: like x, or None when x was token ids or need_dx is False.
        d_state0: tuple like state0 of (L*D, N, S_k) gradients.
        dweights: L*D tuples like `weights` (dw_ih, dw_hh, db_ih, db_hh[, dw_hr]), None where a
            bias is None.  No two returned arrays share memory.
    """
    kind = cache["kind"]
    x, ids, plan = cache["x"], cache["ids"], cache["plan"]
    weights, layers, masks = cache["weights"], cache["layers"], cache["dropout_masks"]
    num_layers, num_dirs = cache["num_layers"], cache["num_dirs"]
    H, S = cache["sizes"]
    empty = cache["empty"]
    R, N = plan.R, plan.N
    GH = kind.num_gates * H
    dtype = weights[0][1].dtype
    widths = kind.state_widths(H, S)
    d_state_n = tuple(d_state_n)
    layout = buffer_layout(kind, H, S)
    extra_layout = kind.backward_buffers(H, S)
    prevs = prev_views(kind, [None] * len(kind.state_names))
    names = [n for n in kind.step_reads_backward if n in layout or n in extra_layout or n == "d_gates" or n in prevs]

    d_state0 = tuple([np.empty((num_layers * num_dirs, N, w), dtype=dtype) for w in widths])
    dweights = [None] * (num_layers * num_dirs)
    d_gates = empty((R, num_dirs * GH), dtype)  # dA of the current layer, all directions
    extras = {n: empty((R, num_dirs * w), dtype) for n, w in extra_layout.items()}
    # Scratch (R, D*S): holds the recomputed dropped input of a layer, then dL/d(its input).
    scratch = empty((R, num_dirs * S), dtype) if num_layers > 1 else None
    d_y = None if d_out is None else d_out.reshape(R, num_dirs * S)  # dL/d(output of this layer)
    dx = None
    work = kind.backward_work(N, H, S, dtype)

    with np.errstate(all="ignore"):  # inf and NaN propagate as in torch, without warnings
        for layer in range(num_layers - 1, -1, -1):
            bufs, rows = layers[layer]
            for d in range(num_dirs):
                k = layer * num_dirs + d
                views = {n: rows[n][:, w * d : w * (d + 1)] for n, (w, _) in layout.items()}  # (R, W) each
                views["d_gates"] = d_gates[:, GH * d : GH * (d + 1)]
                for n, w in extra_layout.items():
                    views[n] = extras[n][:, w * d : w * (d + 1)]
                d_y_d = None if d_y is None else d_y[:, S * d : S * (d + 1)]
                exts = [bufs[n][:, w * d : w * (d + 1)] for n, w in zip(kind.state_names, widths)]
                h_prev = _run_direction(
                    kind, plan, weights[k], views, names, exts, d_y_d, d_state_n, d_state0, k, d, work
                )
                # d_y's columns of this direction have been consumed.  The recurrent side, per direction:
                # dW_hh = sum_t dA_t^T h_prev(t), ONE product over all R rows.
                d_a_hh = views["d_gates"]  # (R, G*H)
                dw_hh = np.matmul(d_a_hh.T, h_prev)  # (G*H, S)
                db_hh = column_sums(d_a_hh) if (kind.recurrent_grads_differ and weights[k][3] is not None) else None
                dweights[k] = [None, dw_hh, None, db_hh, *kind.extra_weight_grads(weights[k], views)]
                if kind.recurrent_grads_differ:
                    kind.to_input_side(views)  # dA_hh -> dA (the input side) in place
            # dW_ih of every direction at once: dA (R, D*G*H) against the layer's input.
            w_cat = stacked_input_weights(weights, layer, num_dirs)  # (D*G*H, I_l)
            if layer == 0 and ids is not None:
                dw_ih_all = scatter_weight_grad(ids, d_gates, w_cat.shape[1])  # (D*G*H, V)
            else:
                if layer == 0:
                    layer_in = x.reshape(R, x.shape[-1])
                elif masks is None:
                    layer_in = layers[layer - 1][1]["h"]
                else:  # recompute the dropped input instead of having stored it
                    mask = masks[layer - 1].reshape(R, num_dirs * S)
                    layer_in = np.multiply(layers[layer - 1][1]["h"], mask, out=scratch)
                dw_ih_all = np.matmul(d_gates.T, layer_in)  # (D*G*H, I_l)   dA^T X
            has_bias = any(w[2] is not None for w in weights[layer * num_dirs : (layer + 1) * num_dirs])
            db_all = column_sums(d_gates) if has_bias else None  # (D*G*H,)  sum over rows of dA
            for d in range(num_dirs):
                k = layer * num_dirs + d
                cols = slice(GH * d, GH * (d + 1))
                grads = dweights[k]
                grads[0] = dw_ih_all[cols]
                _, _, b_ih, b_hh = weights[k][:4]
                if b_ih is not None:
                    grads[2] = db_all[cols]
                if b_hh is not None and grads[3] is None:
                    grads[3] = db_all[cols].copy()
                dweights[k] = tuple(grads)
            # dX = dA W_cat: the gradient flowing into this layer's input (none for token ids).
            if layer == 0:
                if ids is None and need_dx:
                    dx = np.matmul(d_gates, w_cat).reshape(x.shape)  # (R, I) in x's shape
            else:
                d_y = scratch
                np.matmul(d_gates, w_cat, out=d_y)  # (R, D*S) dL/d(dropped input)
                if masks is not None:
                    d_y *= masks[layer - 1].reshape(R, num_dirs * S)  # dL/d(output of layer l-1)
    return dx, d_state0, dweights
