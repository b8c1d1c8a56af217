"""The RNN as one autograd operation: the forward and backward kernels behind a single node.

The module validates and normalises; this layer only moves between the module's layout
(batch_first, unbatched) and the kernels' time-major layout, and records one node whose
backward calls the hand-derived BPTT kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..autograd.function import record_many
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor
from ..kernels import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward
from ..kernels.rnn_input import is_token_ids
from .buffer_pool import rnn_buffers

__all__ = ["rnn", "rnn_cell"]


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
    """Run a (deep, possibly bidirectional) Elman RNN as one graph node.

    input (L, N, H_in), (N, L, H_in) with batch_first, or (L, H_in) unbatched; or, batched and
    time-major only, (L, N) integer token ids standing for one-hot vectors of size H_in (the
    kernel gathers columns of W_ih instead of multiplying; no gradient flows to the ids);
    hx (D*num_layers, N, H_out) or (D*num_layers, H_out), or None for zeros;
    returns output (L, N, D*H_out) in the input's layout and h_n shaped like hx.
    """
    ids = batched and is_token_ids(input._data)
    x = input._data if ids else _to_kernel(input._data, batch_first, batched)
    if hx is None:
        h0 = None  # the kernel starts from zeros
    else:
        h0 = hx._data[:, None, :] if not batched else hx._data
    warrs = [tuple(None if w is None else w._data for w in group) for group in weights]
    flat = [w for group in weights for w in group if w is not None]
    inputs = [input, hx, *flat]
    need = is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs)
    out, h_n, cache = rnn_forward(
        x,
        h0,
        warrs,
        nonlinearity,
        num_layers,
        bidirectional,
        dropout_masks=dropout_masks,
        need_cache=need,
        empty=rnn_buffers.empty,
    )
    out_user = _from_kernel(out, batch_first, batched)
    hn_user = h_n if batched else h_n[:, 0, :]

    def backward(d_out: np.ndarray | None, d_hn: np.ndarray | None) -> list[np.ndarray | None]:
        g_out = None if d_out is None else _to_kernel(d_out, batch_first, batched)
        g_hn = None if d_hn is None else (d_hn if batched else d_hn[:, None, :])
        dx, dh0, dws = rnn_backward(g_out, g_hn, cache)
        grads: list[np.ndarray | None] = [
            None if dx is None else _from_kernel(dx, batch_first, batched),
            None if hx is None else (dh0 if batched else dh0[:, 0, :]),
        ]
        for group, dgroup in zip(weights, dws):
            grads.extend(g for w, g in zip(group, dgroup) if w is not None)
        return grads

    # backward reads the input, h0 and the weights, not the biases (layer 0's W_ih only for the
    # input's own gradient): their versions are checked, as torch checks what it saves
    first = 2 if bidirectional else 1
    saved = [
        input,
        hx,
        *(w for k, g in enumerate(weights) for w in (g[:2] if k >= first or input.requires_grad else g[1:2])),
    ]
    out_t, hn_t = record_many("RnnBackward0", [out_user, hn_user], inputs, backward, saved=saved)
    return out_t, hn_t


def rnn_cell(
    input: Tensor,  # noqa: A002
    hx: Tensor | None,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
    nonlinearity: str,
) -> Tensor:
    """One step h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh) as one graph node.

    input (N, H_in) or (H_in,); hx (N, H_out) or (H_out,), or None for zeros; returns h' shaped like hx.
    """
    batched = input._data.ndim == 2
    x = input._data if batched else input._data[None, :]
    H = w_hh._data.shape[0]
    if hx is None:
        h = np.zeros((x.shape[0], H), dtype=x.dtype)
    else:
        h = hx._data if batched else hx._data[None, :]
    h_new, cache = rnn_cell_forward(
        x,
        h,
        w_ih._data,
        w_hh._data,
        None if b_ih is None else b_ih._data,
        None if b_hh is None else b_hh._data,
        nonlinearity,
    )
    params = [p for p in (w_ih, w_hh, b_ih, b_hh) if p is not None]

    def backward(d_h: np.ndarray) -> list[np.ndarray | None]:
        g = d_h if batched else d_h[None, :]
        dx, dh, dw_ih, dw_hh, db_ih, db_hh = rnn_cell_backward(g, cache)
        grads: list[np.ndarray | None] = [dx if batched else dx[0], None if hx is None else (dh if batched else dh[0])]
        grads.extend(g for p, g in zip((w_ih, w_hh, b_ih, b_hh), (dw_ih, dw_hh, db_ih, db_hh)) if p is not None)
        return grads

    saved = [input, hx, w_ih, w_hh]  # backward reads these and h' itself (not the biases), as torch's cell
    outs = [h_new if batched else h_new[0]]
    (out,) = record_many("RnnCellBackward0", outs, [input, hx, *params], backward, saved=saved, save_outputs=[0])
    return out
