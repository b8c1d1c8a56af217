"""A deep, optionally bidirectional recurrent network over a whole sequence: the forward pass.

This file and `stack_backward.py` are written once for every kind of recurrence: the
Elman RNN (`rnn.py`), the LSTM (`lstm.py`) and the GRU (`gru.py`).  What differs per
kind, its step and the step's derivative, lives in the kind's own small file; layers,
directions, dropout masks, token-id input, buffers, the lean inference path, packed
batches and the whole-sequence weight-gradient products live here.

Letters, defined once for all the kernels:
    T  time steps       N  batch size         I  input features of layer 0
    H  hidden features  L  layers             D  directions (2 if bidirectional else 1)
    G  gates per kind   (1 Elman, 4 LSTM, 3 GRU)
    S  state features   (H, or the LSTM's proj_size P: h_t has S features, c_t has H)
    R  rows: T*N for a padded batch, sum_t batch_sizes[t] for a packed one (batch_plan.py)
    I_l  input features of layer l: I for l = 0, D*S above.

For layer l and direction d, the part of every step that does not depend on the state
is done for all steps at once, as ONE matrix product per layer (both directions' W_ih
stacked), with the biases that can be folded in:

    A = X W_cat^T + b          X (R, I_l), W_cat (D*G*H, I_l), A (R, D*G*H)

and only the recurrent product h_prev W_hh^T and the gate arithmetic are left to the
time loops of the kind: its NumPy loops, or their compiled twins (kernels/compiled/) where
kernels/backend.py says so.  The layer's output at t is [h_t(d=0), h_t(d=1)] (R, D*S);
multiplied by the dropout mask of layer l, it is the input X of layer l+1.  The reverse
direction visits t = T-1 .. 0, starting every sequence at its own last step.

The two directions of a bidirectional layer run one after the other.  Running them in
two Python threads (BLAS and ufuncs release the GIL) was measured and lost: with BLAS
itself on 2 threads, concurrent small products oversubscribe the 2 cores (e.g. N=32,
H=256: 7 ms sequential vs 23 ms threaded per layer).

What a kind provides (ElmanKind, LSTMKind, GRUKind; a compiled twin overrides the two loops):
    num_gates, state_names (('h',) or ('h', 'c')), state_widths(H, S)
    forward_buffers / backward_buffers   its extra whole-sequence buffers, by name and width
    step_reads / step_reads_backward     which buffers its time loops read or write (backward may also
                                         read prev_<state>: each row's state before its step)
    gates_in_h        the Elman RNN writes A where h_t goes and turns it into h_t in place
    input_bias_in_loop  the kind's time loops add input_bias to A themselves (the compiled LSTM's)
    input_bias        the part of the biases that folds into A (all of it but the GRU's b_hn)
    forward_constants, forward_steps     the forward loop over one segment of steps
    backward_prepare, backward_steps     the factors of dA computable for all steps at once, then the loop
    recurrent_grads_differ, to_input_side, extra_weight_grads   the GRU's two sides of dA_n; the LSTM's dW_hr

Memory: the cache keeps, per layer, the state buffers (R + D*N rows: the initial states
sit beside the sequence rows, so that h_prev is a slice and dW_hh one product), the
activated gates and whatever else the kind's derivative reads; plus references to x,
the weights and the masks.  The dropped inputs of upper layers are recomputed in
backward instead of being stored.  The output handed back is a copy, never a saved
buffer, so that writing into it cannot change the gradients.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import numpy as np

from .backend import kind_for
from .batch_plan import BatchPlan
from .rnn_input import gather_projection, is_token_ids

__all__ = [
    "recurrent_forward", "stacked_input_weights", "direction_cols", "buffer_layout", "prev_views", "clear_kept_buffers",
]  # fmt: skip


def stacked_input_weights(weights, layer, num_dirs):
    """W_cat (D*G*H, I_l): the W_ih of both directions stacked, so one product serves both."""
    if num_dirs == 1:
        return weights[layer][0]
    return np.concatenate([weights[layer * num_dirs + d][0] for d in range(num_dirs)], axis=0)


def _project_compiled(kind, layer_in, weights, layer, num_dirs, gates) -> bool:
    """gates (R, D*G*H) = layer_in (R, I_l) W_cat^T by the kind's own product where it has one (a compiled
    twin's project_input: compiled/_projection.py) and can take these arrays: True when done."""
    project = getattr(kind, "project_input", None)
    if project is None:
        return False
    return project(layer_in, [weights[layer * num_dirs + d][0] for d in range(num_dirs)], gates)


def _stacked_bias(kind, weights, layer, num_dirs):
    """(D*G*H,) the bias folded into the projection of every direction of a layer, or None."""
    parts = [
        kind.input_bias(weights[layer * num_dirs + d][2], weights[layer * num_dirs + d][3]) for d in range(num_dirs)
    ]
    if parts[0] is None:
        return None
    return parts[0] if num_dirs == 1 else np.concatenate(parts)


def direction_cols(width: int, d: int) -> slice:
    """Columns of direction d in a (rows, D*width) buffer."""
    return slice(d * width, (d + 1) * width)


def buffer_layout(kind, H: int, S: int) -> dict:
    """name -> (width per direction, is a state buffer) of every whole-sequence buffer of a layer."""
    return {"h": (S, True), "gates": (kind.num_gates * H, False), **kind.forward_buffers(H, S)}


def prev_views(kind, prev) -> dict:
    """{'prev_h': .., 'prev_c': ..}: each state before every row's step (R, S_i), by the kind's state names,
    for the backward loops that read them (a kind's step_reads_backward)."""
    return {f"prev_{name}": p for name, p in zip(kind.state_names, prev)}


@lru_cache(maxsize=256)
def kind_shapes(kind, H: int, S: int):
    """(state widths, buffer layout, (name, width) of the states, of what the time loops read), once per shape."""
    widths = kind.state_widths(H, S)
    layout = buffer_layout(kind, H, S)
    states = tuple(zip(kind.state_names, widths))
    reads = tuple((n, layout[n][0]) for n in kind.step_reads if n in layout)
    return widths, layout, states, reads


def _layer_buffers(kind, layout, plan, num_dirs, dtype, empty, spare):
    """The buffers of one layer: 'h' (the state buffer), 'gates' and the kind's extras.

    `spare` (lean path) maps names to dead arrays of earlier layers that may be reused.
    Returns (buffers, rows): the arrays, and their (R, D*W) sequence rows (a state
    buffer without its initial-state rows).
    """
    bufs, rows = {}, {}
    N, R = plan.N, plan.R
    for name, (width, ext) in layout.items():
        if name == "gates" and kind.gates_in_h:
            continue
        if spare is not None and name in spare:
            buf = spare[name]
        else:
            buf = empty((R + num_dirs * N if ext else R, num_dirs * width), dtype)
        bufs[name] = buf
        rows[name] = buf[N : N + R] if ext else buf  # the sequence rows (batch_plan.py)
    if kind.gates_in_h:  # the Elman RNN turns A into h_t in place: the gates are the h rows
        bufs["gates"] = rows["gates"] = rows["h"]
    return bufs, rows


def _direction_views(bufs, rows, states, reads, plan, d):
    """Direction d's (exts, firsts, views) in one layer's buffers: each state's (R + D*N, S_i) columns and
    their (N, S_i) initial rows, and the columns of what the time loops read, (T, N, W) for a padded
    batch, else (R, W)."""
    N, R = plan.N, plan.R
    init = N + R if d == 1 else 0  # the first row of this direction's initial states
    exts, firsts = [], []
    for name, w in states:
        ext = bufs[name][:, w * d : w * (d + 1)]
        exts.append(ext)
        firsts.append(ext[init : init + N])
    views = {}
    for name, w in reads:
        cols = rows[name][:, w * d : w * (d + 1)]
        views[name] = cols.reshape(plan.T, N, w) if plan.padded else cols
    return exts, firsts, views


# The lean path keeps the buffers of a call, with their views, for the next call of the same shape, up to
# KEPT_MAX_BYTES a shape and for the last 8 shapes.  Making them again at every call (the buffers, the
# strided views of each direction, the scratch) ran about 40 Python-level calls per layer, with the
# interpreter's caches cold after the time loops.
KEPT_MAX_BYTES = 2 * 2**20


class _KeptBuffers:
    """Every buffer of a padded lean call of one shape: per layer (bufs, rows, per direction
    _direction_views), and the kind's forward_work.  `lock` is held by the call that uses
    them: a second thread meanwhile takes buffers of its own.  The work is per layer and direction, so that a
    kind may remember in it what it derives from the views (compiled/_rows.py, loop_rows)."""

    def __init__(self, layers: list, work: list) -> None:
        self.layers = layers
        self.work = work
        self.lock = threading.Lock()


def clear_kept_buffers() -> None:
    """Give back the memory of the lean path's kept buffers (at most 8 shapes of KEPT_MAX_BYTES each); the next
    inference call of each shape makes them again."""
    _kept_buffers.cache_clear()


@lru_cache(maxsize=8)
def _kept_buffers(kind, T: int, N: int, H: int, S: int, dtype: np.dtype, num_layers: int, num_dirs: int):
    """The _KeptBuffers of a padded lean call of this shape, or None where they would take more than
    KEPT_MAX_BYTES."""
    _, layout, states, reads = kind_shapes(kind, H, S)
    plan = BatchPlan.padded_plan(T, N)
    layers = []
    for _ in range(num_layers):
        bufs, rows = _layer_buffers(kind, layout, plan, num_dirs, dtype, np.empty, None)
        if not layers:  # np.empty has touched no memory yet: the bound, from the first layer's own arrays
            per_layer = sum(b.nbytes for b in bufs.values() if b.base is None)  # not the RNN's gates, a view of h
            if per_layer * num_layers > KEPT_MAX_BYTES:
                return None
        layers.append((bufs, rows, [_direction_views(bufs, rows, states, reads, plan, d) for d in range(num_dirs)]))
    work = [[kind.forward_work(N, H, S, dtype) for _ in range(num_dirs)] for _ in range(num_layers)]
    return _KeptBuffers(layers, work)


def recurrent_forward(
    kind: Any,
    x: np.ndarray,
    state0: tuple,
    weights: list,
    num_layers: int,
    bidirectional: bool,
    dropout_masks: list | None = None,
    need_cache: bool = True,
    empty: Any = np.empty,
    batch_sizes: np.ndarray | None = None,
    copy_output: bool = True,
):
    """Run a deep (bi)directional recurrence of `kind` over a (padded or packed) batch.

    Args:
        kind: RNN_TANH, RNN_RELU (rnn.py), LSTM (lstm.py) or GRU (gru.py).
        x: (T, N, I) input, time-major, float32 or float64; or (T, N) integer token ids,
            which stand for one-hot vectors of size I = layer 0's w_ih.shape[1] (rnn_input.py).
            With batch_sizes: the packed rows (R, I), or (R,) token ids.
        state0: one entry per state of the kind, (h0,) or (h0, c0): each (L*D, N, S_k),
            layer-major, forward before reverse; None for zeros.
        weights: L*D tuples (w_ih, w_hh, b_ih, b_hh), plus w_hr for an LSTM with projections,
            in PyTorch's order l0, l0_reverse, l1, ...; w_ih (G*H, I_l), w_hh (G*H, S),
            biases (G*H,) or None, w_hr (P, H).  Everything runs in w_hh's dtype.
        num_layers: L.  bidirectional: D = 2 if True else 1.
        dropout_masks: None or L-1 arrays shaped like a layer's output, (T, N, D*S) or (R, D*S);
            mask k multiplies layer k's output before it feeds layer k+1 (already scaled by 1/(1-p)).
        need_cache: False takes the lean inference path: no activations are saved.
        empty: ``empty(shape, dtype)`` allocates the whole-sequence buffers (forward and
            backward); np.empty by default, or a caller's pool that reuses them.
        batch_sizes: None for a padded batch, or (T,) non-increasing active rows per step.
        copy_output: False returns no output (None), for callers that only need the states.

    Returns:
        out: (T, N, D*S) (packed: (R, D*S)) the last layer's h_t, directions concatenated.
            With need_cache it is a fresh array that the cache does not use.
        state_n: tuple like state0, each (L*D, N, S_k): every sequence's final state
            (the reverse direction's is its state after t = 0).
        cache: for `recurrent_backward`, or None when need_cache is False.  It references x,
            the weights, the masks and state0's arrays' values (copied): do not modify x or
            the weights in place before calling `recurrent_backward`.
    """
    num_dirs = 2 if bidirectional else 1
    if batch_sizes is None:
        T, N = x.shape[:2]
        ids = x.reshape(-1) if is_token_ids(x) else None  # (T*N,) token ids, or None for features
    else:
        T, N = len(batch_sizes), int(batch_sizes[0])
        ids = x if (x.ndim == 1 and np.issubdtype(x.dtype, np.integer)) else None
    plan = BatchPlan(T, N, batch_sizes) if batch_sizes is not None else BatchPlan.padded_plan(T, N)
    R = plan.R
    w_hh0 = weights[0][1]
    dtype = w_hh0.dtype
    H = w_hh0.shape[0] // kind.num_gates
    S = w_hh0.shape[1]
    kind = kind_for(kind, N, H, dtype)  # NumPy's time loops, or their compiled twin (backend.py)
    widths, layout, states, reads = kind_shapes(kind, H, S)
    assert T >= 1 and len(weights) == num_layers * num_dirs and len(state0) == len(widths)

    state_n = tuple([np.empty((num_layers * num_dirs, N, w), dtype=dtype) for w in widths])
    kept = None  # lean path, padded: the buffers of the last call of this shape
    if not need_cache and plan.padded:
        kept = _kept_buffers(kind, T, N, H, S, dtype, num_layers, num_dirs)
        if kept is not None and not kept.lock.acquire(blocking=False):
            kept = None  # another thread's call is in them
    try:
        h_rows, layers = _forward_layers(
            kind,
            x,
            ids,
            state0,
            weights,
            (H, S, dtype),
            num_dirs,
            dropout_masks,
            need_cache,
            empty,
            plan,
            state_n,
            kept,
        )
        if not copy_output:
            out = None
        elif need_cache or kept is not None:  # kept: copied before another call may take the buffers
            out = empty((R, num_dirs * S), dtype) if need_cache else np.empty((R, num_dirs * S), dtype)
            out[...] = h_rows  # a C-level copy (np.copyto's dispatcher is Python)
        else:
            out = h_rows
    finally:
        if kept is not None:
            kept.lock.release()
    if out is not None and batch_sizes is None:
        out = out.reshape(T, N, num_dirs * S)
    if not need_cache:
        return out, state_n, None
    cache = {
        "kind": kind,
        "x": x,
        "ids": ids,
        "plan": plan,
        "weights": weights,
        "layers": layers,
        "dropout_masks": dropout_masks,
        "num_layers": num_layers,
        "num_dirs": num_dirs,
        "sizes": (H, S),
        "empty": empty,
    }
    return out, state_n, cache


def _forward_layers(
    kind, x, ids, state0, weights, sizes, num_dirs, dropout_masks, need_cache, empty, plan, state_n, kept
):
    """recurrent_forward's layers, with its arguments and sizes (H, S, dtype): fills state_n and returns (the
    last layer's h rows (R, D*S), each layer's (bufs, rows) when need_cache); kept: the lean path's
    _KeptBuffers, or None for buffers made here."""
    H, S, dtype = sizes
    N, R = plan.N, plan.R
    num_layers = len(weights) // num_dirs
    widths, layout, states, reads = kind_shapes(kind, H, S)
    work = None if kept is not None else [kind.forward_work(N, H, S, dtype) for _ in range(num_dirs)]
    assemble = [np.empty((N, w), dtype=dtype) for w in widths] if not plan.padded else [None] * len(widths)
    layers = []  # each layer's buffers, kept for backward
    spare = None  # lean path: arrays of earlier layers that nothing reads any more
    last_h = None  # lean path: the previous layer's state buffer
    dropped = None  # the masked input of the next layer (R, D*S), reused across layers
    layer_in = None if ids is not None else x.reshape(R, x.shape[-1])  # (R, I_l)
    with np.errstate(all="ignore"):  # inf and NaN propagate as in torch, without warnings
        for layer in range(num_layers):
            if kept is None:
                bufs, rows = _layer_buffers(kind, layout, plan, num_dirs, dtype, empty, spare)
                directions = [_direction_views(bufs, rows, states, reads, plan, d) for d in range(num_dirs)]
            else:
                bufs, rows, directions = kept.layers[layer]
                work = kept.work[layer]
            gates = rows["gates"]  # (R, D*G*H)
            # A = X W_cat^T + b for every step at once.
            if layer == 0 and ids is not None:
                gather_projection(ids, stacked_input_weights(weights, layer, num_dirs), gates)
            elif not _project_compiled(kind, layer_in, weights, layer, num_dirs, gates):
                w_cat = stacked_input_weights(weights, layer, num_dirs)  # (D*G*H, I_l)
                np.matmul(layer_in, w_cat.T, out=gates)
            if not kind.input_bias_in_loop:  # else the kind's time loop adds it to each step's rows
                bias = _stacked_bias(kind, weights, layer, num_dirs)  # (D*G*H,) or None
                if bias is not None:
                    gates += bias
            consts = []
            for d in range(num_dirs):
                consts.append(kind.forward_constants(weights[layer * num_dirs + d]))
                firsts = directions[d][1]
                for i in range(len(firsts)):
                    firsts[i][...] = 0 if state0[i] is None else state0[i][layer * num_dirs + d]
            # A padded bidirectional layer: both directions' loops at once where the kind can (forward_steps_pair).
            pair = getattr(kind, "forward_steps_pair", None) if plan.padded and num_dirs == 2 else None
            paired = False
            if pair is not None:
                paired = pair(consts, [v for _, _, v in directions], [f for _, f, _ in directions], work)
            for d in range(num_dirs):
                k = layer * num_dirs + d
                reverse = d == 1
                exts, firsts, views = directions[d]
                if plan.padded:  # one segment: the whole (T, N) batch, started from the initial states
                    if not paired:
                        kind.forward_steps(consts[d], views, firsts, reverse, work[d])
                    last = N if reverse else R  # the final states: step 0 reverse, step T-1 forward
                    for i, ext in enumerate(exts):
                        state_n[i][k] = ext[last : last + N]
                    continue
                for seg in plan.segment_order(reverse):
                    prev = [plan.prev_for_segment(e, seg, reverse, a) for e, a in zip(exts, assemble)]
                    seg_views = {n: plan.seq_view(r, seg) for n, r in views.items()}  # (T_s, b, W) each
                    kind.forward_steps(consts[d], seg_views, prev, reverse, work[d])
                for i, ext in enumerate(exts):
                    plan.final_states(ext, reverse, state_n[i][k])
            if need_cache:
                layers.append((bufs, rows))
            h_rows = rows["h"]  # (R, D*S) this layer's output
            if layer == num_layers - 1:
                break
            # The input of layer l+1: this layer's output times its dropout mask.
            if dropout_masks is None:
                layer_in = h_rows
            else:
                mask = dropout_masks[layer].reshape(R, num_dirs * S)
                if need_cache:  # h must survive for backward: mask into a reusable buffer
                    if dropped is None:
                        dropped = empty((R, num_dirs * S), dtype)
                    layer_in = np.multiply(h_rows, mask, out=dropped)
                else:  # h is no longer needed (the final states are copied out): mask it in place
                    layer_in = np.multiply(h_rows, mask, out=h_rows)
            if not need_cache and kept is None:
                # Lean path: once the next projection has read this layer's output, every
                # buffer of this layer but 'h' (the output itself) is dead, and so is the
                # 'h' of the layer before, which held this layer's input.
                free = {n: a for n, a in bufs.items() if n != "h" and not (n == "gates" and kind.gates_in_h)}
                if last_h is not None:
                    free["h"] = last_h
                last_h, spare = bufs["h"], free
    return h_rows, layers
