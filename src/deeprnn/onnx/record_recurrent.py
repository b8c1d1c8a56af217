"""nn.RNN, nn.LSTM, nn.GRU and their cells as ONNX's RNN, LSTM and GRU operators, as torch exports them.

One ONNX operator per layer (both directions in one, ``direction="bidirectional"``).  ONNX's
operators are time-major, with W (D, G*H, H_in), R (D, G*H, H), B (D, 2*G*H) = [Wb, Rb] and
the gates in their own order: torch's LSTM i f g o become ONNX's i o f c, torch's GRU r z n
become ONNX's z r h, with ``linear_before_reset=1`` (torch applies r to W_hn h + b_hn).
Shapes, N batch, T sequence length, D directions, H hidden size, L layers:

    input (T, N, H_in) (batch_first: Transpose from (N, T, H_in); unbatched: Unsqueeze (T, 1, H_in))
    layer l: Y (T, D, N, H) -> torch's (T, N, D*H): Squeeze axis 1 (D = 1) or Transpose + Reshape (D = 2)
             Y_h, Y_c (D, N, H); initial_h, initial_c: rows l*D..(l+1)*D of h_0, c_0 (left out: zeros)
    h_n, c_n (L*D, N, H): the layers' Y_h, Y_c concatenated

A cell is one step of the same operator: x (N, H_in) -> X (1, N, H_in), h (N, H) -> (1, N, H).
LSTM with proj_size > 0 is refused: ONNX's LSTM has no projection (neither does torch's export).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..autograd.tensor import Tensor
from ..nn.utils.rnn import PackedSequence
from .errors import UnsupportedOperatorError
from .trace import Trace

__all__ = ["RECURRENT_MODULES"]

_ONNX_OP = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}  # torch's gate blocks, in ONNX's order


def _reorder(w: np.ndarray | None, mode: str) -> np.ndarray | None:
    """The gate blocks of a (G*H, .) weight or (G*H,) bias in ONNX's order."""
    order = _GATE_ORDER.get(mode)
    if w is None or order is None:
        return w
    blocks = np.split(w, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _attrs(mode: str, hidden: int, D: int) -> dict:
    attrs: dict[str, Any] = {"hidden_size": hidden}
    if D == 2:
        attrs["direction"] = "bidirectional"
    if mode.startswith("RNN"):
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * D
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    return attrs


def _weights(tr: Trace, prefix: str, mode: str, groups: list[tuple]) -> list[str]:
    """W, R and B (or "" without bias) of one layer: the directions' (w_ih, w_hh, b_ih, b_hh) stacked."""
    g = tr.graph
    W = np.stack([_reorder(grp[0]._data, mode) for grp in groups])  # (D, G*H, H_in)
    R = np.stack([_reorder(grp[1]._data, mode) for grp in groups])  # (D, G*H, H)
    names = [g.initializer(W, f"{prefix}W"), g.initializer(R, f"{prefix}R")]
    if groups[0][2] is None:
        return names + [""]
    B = np.stack([np.concatenate([_reorder(grp[2]._data, mode), _reorder(grp[3]._data, mode)]) for grp in groups])
    return names + [g.initializer(B, f"{prefix}B")]  # (D, 2*G*H)


def _states(hx: Any, mode: str) -> list[Tensor | None]:
    if hx is None:
        return [None, None] if mode == "LSTM" else [None]
    return [hx[0], hx[1]] if mode == "LSTM" else [hx]


def _run_layers(
    tr: Trace,
    prefix: str,
    mode: str,
    X: str,
    states: list[str],
    groups: list[tuple],
    L: int,
    D: int,
    H: int,
    output: bool = True,
) -> tuple[str, list[str]]:
    """The L stacked operators over time-major X (T, N, F); returns torch's (T, N, D*H) output (unless not
    ``output``: a cell) and the final states."""
    g, op_type, finals = tr.graph, _ONNX_OP[mode], [[] for _ in states]
    for layer in range(L):
        inputs = [X, *_weights(tr, f"{prefix}l{layer}.", mode, groups[layer * D : (layer + 1) * D]), ""]
        for s in states:
            if not s:
                inputs.append("")
            elif L == 1:
                inputs.append(s)
            else:
                inputs.append(g.op("Slice", [s, g.ints([layer * D]), g.ints([(layer + 1) * D]), g.ints([0])]))
        while inputs[-1] == "":
            inputs.pop()
        Y, *finals_l = g.op(op_type, inputs, outputs=1 + len(states), **_attrs(mode, H, D))  # (T, D, N, H)
        if not output:
            X = ""
        elif D == 1:
            X = g.op("Squeeze", [Y, g.ints([1])])
        else:
            X = g.op("Reshape", [g.op("Transpose", [Y], perm=[0, 2, 1, 3]), g.ints([0, 0, -1])])
        for acc, f in zip(finals, finals_l):
            acc.append(f)
    return X, [f[0] if L == 1 else g.op("Concat", f, axis=0) for f in finals]


def _check(m: Any, input: Any) -> None:  # noqa: A002
    if isinstance(input, PackedSequence):
        raise UnsupportedOperatorError(
            f"{type(m).__name__} with a PackedSequence input is not supported by deeprnn.onnx.export: "
            "export the padded batch (ONNX's sequence_lens is not used)"
        )


def emit_rnn(tr: Trace, result: tuple, m: Any, input: Any, hx: Any = None) -> None:  # noqa: A002
    """nn.RNN / nn.LSTM / nn.GRU (see the module docstring for the layout)."""
    _check(m, input)
    if getattr(m, "proj_size", 0) > 0:
        raise UnsupportedOperatorError(
            "LSTM with proj_size > 0 is not supported by deeprnn.onnx.export: ONNX's LSTM has no projection"
        )
    if m.training and m.dropout > 0 and m.num_layers > 1:
        raise UnsupportedOperatorError(
            f"{type(m).__name__} with dropout={m.dropout} between layers in training mode is not supported by "
            "deeprnn.onnx.export: export in eval mode (the default)"
        )
    g, mode, D, batched = tr.graph, m.mode, m.num_directions, input.ndim == 3
    labels = tr.labels(input)
    if not batched:
        t_lab, n_lab = labels[0], None
    elif m.batch_first:
        n_lab, t_lab = labels[0], labels[1]
    else:
        t_lab, n_lab = labels[0], labels[1]
    X = tr.name(input)
    if not batched:
        X = g.op("Unsqueeze", [X, g.ints([1])])
    elif m.batch_first:
        X = g.op("Transpose", [X], perm=[1, 0, 2])
    states = []
    for s in _states(hx, mode):
        name = "" if s is None else tr.name(s)
        if s is not None and not batched:
            name = g.op("Unsqueeze", [name, g.ints([1])])
        if s is not None and batched and n_lab is None:
            n_lab = tr.labels(s)[1]  # the batch size may come from h_0 alone
        states.append(name)
    prefix = tr.module_prefix(m)
    out, finals = _run_layers(tr, prefix, mode, X, states, m._weight_groups(), m.num_layers, D, m.hidden_size)
    if not batched:
        out = g.op("Squeeze", [out, g.ints([1])])
        finals = [g.op("Squeeze", [f, g.ints([1])]) for f in finals]
    elif m.batch_first:
        out = g.op("Transpose", [out], perm=[1, 0, 2])
    output, state_n = result
    state_tensors = list(state_n) if mode == "LSTM" else [state_n]
    if not batched:
        tr.bind(output, out, (t_lab, None))
    else:
        tr.bind(output, out, (n_lab, t_lab, None) if m.batch_first else (t_lab, n_lab, None))
    for t, f in zip(state_tensors, finals):
        tr.bind(t, f, (None, n_lab, None) if batched else (None, None))


def emit_cell(tr: Trace, result: Any, m: Any, input: Any, hx: Any = None) -> None:  # noqa: A002
    """nn.RNNCell / nn.LSTMCell / nn.GRUCell: one step of the layer's operator."""
    _check(m, input)
    if isinstance(m, nn.LSTMCell):
        mode = "LSTM"
    elif isinstance(m, nn.GRUCell):
        mode = "GRU"
    else:
        mode = "RNN_TANH" if m.nonlinearity == "tanh" else "RNN_RELU"
    g, batched = tr.graph, input.ndim == 2
    axes = g.ints([0] if batched else [0, 1])
    n_lab = tr.labels(input)[0] if batched else None
    X = g.op("Unsqueeze", [tr.name(input), axes])  # (1, N, H_in)
    states = ["" if s is None else g.op("Unsqueeze", [tr.name(s), axes]) for s in _states(hx, mode)]
    groups = [(m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh)]
    _, finals = _run_layers(tr, tr.module_prefix(m), mode, X, states, groups, 1, 1, m.hidden_size, output=False)
    outs = list(result) if mode == "LSTM" else [result]
    for t, f in zip(outs, finals):
        tr.bind(t, g.op("Squeeze", [f, axes]), (n_lab, None) if batched else (None,))


RECURRENT_MODULES: dict[type, Any] = {
    nn.RNN: emit_rnn,
    nn.LSTM: emit_rnn,
    nn.GRU: emit_rnn,
    nn.RNNCell: emit_cell,
    nn.LSTMCell: emit_cell,
    nn.GRUCell: emit_cell,
}
