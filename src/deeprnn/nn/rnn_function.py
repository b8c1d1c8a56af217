"""The recurrent networks as one autograd operation each: the kernels behind a single node.

The modules validate and normalise; this layer only moves between the module's layout
(batch_first, unbatched, a packed batch's sorted order) and the kernels' time-major
layout, and records one node whose backward calls the hand-derived BPTT kernel.

What the node's backward reads: the kernels' own saved activations (never an array handed
to the caller, so writing into an output cannot change a gradient), the input and the
weights by reference.  The tensors whose versions backward checks (`saved`) are those of
torch's generic recurrent path: the input, the initial states, every W_hh (and W_hr), and
every W_ih but layer 0's when the input needs no gradient; not the biases, which backward
does not read (torch's oneDNN LSTM also refuses changed biases and outputs, an artifact of
its workspace).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..autograd.function import record_many
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..kernels import KINDS, cell_backward, cell_forward, elman_kind, recurrent_backward, recurrent_forward
from ..kernels.rnn_input import is_token_ids
from .buffer_pool import rnn_buffers

__all__ = ["recurrent", "rnn", "recurrent_cell", "rnn_cell", "weight_arrays"]


def _to_kernel(a: np.ndarray, batch_first: bool, batched: bool) -> np.ndarray:
    """(N, L, F) / (L, N, F) / (L, F) -> (L, N, F)."""
    if not batched:
        return a[:, None, :]
    return a.transpose(1, 0, 2) if batch_first else a


def _from_kernel(a: np.ndarray, batch_first: bool, batched: bool) -> np.ndarray:
    """(L, N, F) -> the caller's layout."""
    if not batched:
        return a[:, 0, :]
    return a.transpose(1, 0, 2) if batch_first else a


def weight_arrays(groups: Sequence[tuple]) -> list[tuple]:
    """The kernels' weights of RNNBase._weight_groups()' tensors: per layer and direction the tuple of their
    arrays, None for no bias.  Plain loops, not generators: each generator is a Python frame, and this runs
    in every recurrent call with the interpreter's caches cold after the time loops."""
    out = []
    for group in groups:
        arrays = []
        for w in group:
            arrays.append(None if w is None else w._data)
        out.append(tuple(arrays))
    return out


def recurrent(
    mode: str,
    input: Tensor,  # noqa: A002 - PyTorch's name
    hx: Sequence[Tensor | None],
    weights: Sequence[tuple],
    num_layers: int,
    bidirectional: bool,
    batch_first: bool = False,
    batched: bool = True,
    dropout_masks: list[np.ndarray] | None = None,
    batch_sizes: np.ndarray | None = None,
    sorted_indices: np.ndarray | None = None,
    unsorted_indices: np.ndarray | None = None,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run a deep, possibly bidirectional recurrence ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU') as one node.

    input: (L, N, H_in), (N, L, H_in) with batch_first, or (L, H_in) unbatched; or, batched and
    time-major only, (L, N) integer token ids standing for one-hot vectors of size H_in (the
    kernel gathers columns of W_ih; no gradient flows to the ids); or, with batch_sizes, a
    packed batch's data (R, H_in) whose sequences are in sorted order.
    hx: one entry per state, (h_0,) or (h_0, c_0): each (D*num_layers, N, H_k) or
    (D*num_layers, H_k) unbatched, or None for zeros; for a packed batch in the caller's
    order, which sorted_indices maps to the packed order (and unsorted_indices back).
    weights: per layer and direction (w_ih, w_hh, b_ih, b_hh[, w_hr]) tensors, biases may be None.
    Returns output ((L, N, D*H_out) in the input's layout, or packed (R, D*H_out)) and the
    final states shaped like hx.
    """
    kind = KINDS[mode]
    packed = batch_sizes is not None
    x = input._data
    if not packed and not (batched and is_token_ids(x)):
        x = _to_kernel(x, batch_first, batched)
    state0 = []
    for h in hx:
        if h is None:
            state0.append(None)  # the kernel starts from zeros
        elif not batched:
            state0.append(h._data[:, None, :])
        elif sorted_indices is not None:
            state0.append(h._data[:, sorted_indices])  # (L*D, N, H) in the packed order
        else:
            state0.append(h._data)
    warrs = weight_arrays(weights)
    need = False
    if is_grad_enabled():  # else neither list is needed (inference with the caches cold: every call counts)
        flat = [w for group in weights for w in group if w is not None]  # every weight tensor
        inputs = [input, *hx, *flat]
        for t in inputs:
            if t is not None and (t._requires_grad if t._base is None else t.requires_grad):  # a view syncs first
                need = True
                break
    out, state_n, cache = recurrent_forward(
        kind,
        x,
        tuple(state0),
        warrs,
        num_layers,
        bidirectional,
        dropout_masks=dropout_masks,
        need_cache=need,
        empty=rnn_buffers.empty,
        batch_sizes=batch_sizes,
    )
    out_user = out if packed else _from_kernel(out, batch_first, batched)
    if not batched:
        states_user = [s[:, 0, :] for s in state_n]
    elif unsorted_indices is not None:
        states_user = [s[:, unsorted_indices] for s in state_n]  # back to the caller's order
    else:
        states_user = list(state_n)
    if not need:  # no graph to record (no_grad, or nothing requires grad): record_many would only wrap them
        return Tensor._wrap(out_user), tuple(map(Tensor._wrap, states_user))

    need_dx = input.requires_grad  # as recorded now: data needs no dL/dx, and layer 0's product is skipped

    def backward(d_out: np.ndarray | None, *d_states: np.ndarray | None) -> list[np.ndarray | None]:
        g_out = d_out if (d_out is None or packed) else _to_kernel(d_out, batch_first, batched)
        g_n = []
        for g in d_states:
            if g is None or batched and unsorted_indices is None:
                g_n.append(g)
            elif not batched:
                g_n.append(g[:, None, :])
            else:
                g_n.append(g[:, sorted_indices])  # the caller's order -> the packed order
        dx, d_state0, dws = recurrent_backward(g_out, tuple(g_n), cache, need_dx=need_dx)
        grads: list[np.ndarray | None] = [
            None if dx is None else (dx if packed else _from_kernel(dx, batch_first, batched))
        ]
        for h, g in zip(hx, d_state0):
            if h is None:
                grads.append(None)
            elif not batched:
                grads.append(g[:, 0, :])
            elif sorted_indices is not None:
                grads.append(g[:, unsorted_indices])
            else:
                grads.append(g)
        for group, dgroup in zip(weights, dws):
            grads.extend(g for w, g in zip(group, dgroup) if w is not None)
        return grads

    first = 2 if bidirectional else 1  # the weight groups of layer 0
    saved = [input, *hx]
    for k, group in enumerate(weights):
        w_ih, w_hh, *rest = group
        saved += [w_ih] if (k >= first or input.requires_grad) else []
        saved += [w_hh, *rest[2:]]  # W_hh and, with projections, W_hr (not the biases)
    name = f"{kind.mode.split('_')[0].capitalize()}Backward0"
    outs = record_many(name, [out_user, *states_user], inputs, backward, saved=saved)
    return outs[0], tuple(outs[1:])


def rnn(
    input: Tensor,  # noqa: A002 - PyTorch's name
    hx: Tensor | None,
    weights: Sequence[tuple[Tensor, Tensor, Tensor | None, Tensor | None]],
    nonlinearity: str,
    num_layers: int,
    bidirectional: bool,
    batch_first: bool,
    batched: bool,
    dropout_masks: list[np.ndarray] | None = None,
) -> tuple[Tensor, Tensor]:
    """The Elman RNN through `recurrent`: returns (output, h_n); see `recurrent` for the shapes."""
    out, (h_n,) = recurrent(
        elman_kind(nonlinearity).mode,
        input,
        (hx,),
        weights,
        num_layers,
        bidirectional,
        batch_first,
        batched,
        dropout_masks,
    )
    return out, h_n


def recurrent_cell(
    mode: str,
    input: Tensor,  # noqa: A002
    hx: Sequence[Tensor | None],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
) -> tuple[Tensor, ...]:
    """One step of a kind as one graph node: the new states, shaped like hx.

    input (N, H_in) or (H_in,); hx: (h,) or (h, c), each (N, H) or (H,), or None for zeros.
    """
    batched = input._data.ndim == 2
    x = input._data if batched else input._data[None, :]
    state0 = tuple(None if h is None else (h._data if batched else h._data[None, :]) for h in hx)
    params = [p for p in (w_ih, w_hh, b_ih, b_hh) if p is not None]
    inputs = [input, *hx, *params]
    weights = tuple(None if p is None else p._data for p in (w_ih, w_hh, b_ih, b_hh))
    state_n, cache = cell_forward(KINDS[mode], x, state0, *weights)
    new = [s if batched else s[0] for s in state_n]

    def backward(*d_states: np.ndarray | None) -> list[np.ndarray | None]:
        g_n = tuple(None if g is None else (g if batched else g[None]) for g in d_states)
        dx, *rest = cell_backward(g_n, cache)
        d_state0, (dw_ih, dw_hh, db_ih, db_hh) = rest[: len(hx)], rest[len(hx) :]
        grads: list[np.ndarray | None] = [dx if batched else dx[0]]
        grads.extend(None if h is None else (g if batched else g[0]) for h, g in zip(hx, d_state0))
        grads.extend(g for p, g in zip((w_ih, w_hh, b_ih, b_hh), (dw_ih, dw_hh, db_ih, db_hh)) if p is not None)
        return grads

    name = {"LSTM": "LstmCellBackward0", "GRU": "GruCellBackward0"}.get(mode, "RnnCellBackward0")
    # As torch's cells: backward reads the input, the states and both weights (not the biases),
    # and the Elman cell its output too (act' is computed from h').
    saved = [input, *hx, w_ih, w_hh]
    elman = mode.startswith("RNN")
    return tuple(record_many(name, new, inputs, backward, saved=saved, save_outputs=[0] if elman else []))


def rnn_cell(
    input: Tensor,  # noqa: A002
    hx: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    nonlinearity: str,
) -> Tensor:
    """One Elman step h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh) as one graph node, shaped like hx."""
    (h_new,) = recurrent_cell(elman_kind(nonlinearity).mode, input, (hx,), w_ih, w_hh, b_ih, b_hh)
    return h_new
