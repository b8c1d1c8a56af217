"""The LSTM's and the GRU's forward pass recomputed step by step, gate by gate, in plain NumPy.

Independent of the fused kernels (no stacked input projection, no in-place buffers): each
gate has its own block of hidden_size rows of the stacked weights, multiplied on its own.
PyTorch's gate order and equations (torch.nn.LSTM, torch.nn.GRU), for the whole batch as rows:

    LSTM  weight_ih = [W_ii; W_if; W_ig; W_io]  (4H, I),  weight_hh = [W_hi; W_hf; W_hg; W_ho]  (4H, H)
        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)       input gate
        f = sigmoid(W_if x + b_if + W_hf h + b_hf)       forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)          candidate
        o = sigmoid(W_io x + b_io + W_ho h + b_ho)       output gate
        c' = f * c + i * g        h' = o * tanh(c')

    GRU   weight_ih = [W_ir; W_iz; W_in]  (3H, I),  weight_hh = [W_hr; W_hz; W_hn]  (3H, H)
        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)       reset gate
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)       update gate
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))    candidate
        h' = (1 - z) * n + z * h

Layers, directions and the order of the steps are trace.py's (walk_forward).  Time steps are t = 1..T.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .trace import ForwardTrace, walk_forward

__all__ = ["GATE_NAMES", "GateStep", "GateTrace", "trace_forward_gates", "sigmoid", "gate_block"]

GATE_NAMES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)), computed without overflow for large negative a."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def gate_block(a: np.ndarray | None, k: int, H: int) -> np.ndarray | None:
    """Rows k*H:(k+1)*H of a stacked weight (G*H, F) or bias (G*H,): gate k's own block."""
    return None if a is None else a[k * H : (k + 1) * H]


@dataclass
class GateStep:
    """One time step of one layer-direction of an LSTM or GRU, every gate kept (N rows = samples).

    ``wx[name]`` is W_i<name> x (N, H), ``wh[name]`` W_h<name> h_prev (N, H), ``pre[name]`` the
    gate's pre-activation with the biases (for the GRU's n: W_in x + b_in + r * (W_hn h + b_hn)),
    ``gates[name]`` its value after sigmoid / tanh.
    """

    layer: int
    direction: int  # 0 forward, 1 reverse
    t: int  # 1..T
    x: np.ndarray  # (N, I_l)
    h_prev: np.ndarray  # (N, H)
    wx: dict[str, np.ndarray]
    wh: dict[str, np.ndarray]
    pre: dict[str, np.ndarray]
    gates: dict[str, np.ndarray]
    h: np.ndarray  # (N, H)
    c_prev: np.ndarray | None = None  # LSTM (N, H)
    c: np.ndarray | None = None  # LSTM (N, H) c_t
    tanh_c: np.ndarray | None = None  # LSTM (N, H) tanh(c_t)
    hn: np.ndarray | None = None  # GRU (N, H) W_hn h_prev + b_hn, the part that r scales


@dataclass
class GateTrace(ForwardTrace):
    """A ForwardTrace of GateSteps; ``kind`` is 'lstm' or 'gru', ``c_n`` the LSTM's final cell states."""

    kind: str = "lstm"
    c_n: np.ndarray | None = None  # (L*D, N, H), LSTM
    cell_outputs: list[np.ndarray] = field(default_factory=list)  # LSTM: each layer's c_t, (T, N, D*H)


def _lstm_step(x_t, h, c, w, H):
    """One LSTM step on rows: returns wx, wh, pre, gates, c', tanh(c'), h'."""
    w_ih, w_hh, b_ih, b_hh = w
    wx, wh, pre, gates = {}, {}, {}, {}
    for k, name in enumerate(GATE_NAMES["lstm"]):
        wx[name] = x_t @ gate_block(w_ih, k, H).T  # (N, I) x (I, H) -> (N, H)
        wh[name] = h @ gate_block(w_hh, k, H).T  # (N, H) x (H, H) -> (N, H)
        a = wx[name] + wh[name]
        if b_ih is not None:
            a = a + gate_block(b_ih, k, H) + gate_block(b_hh, k, H)
        pre[name] = a
        gates[name] = np.tanh(a) if name == "g" else sigmoid(a)
    c_new = gates["f"] * c + gates["i"] * gates["g"]
    tanh_c = np.tanh(c_new)
    return wx, wh, pre, gates, c_new, tanh_c, gates["o"] * tanh_c


def _gru_step(x_t, h, w, H):
    """One GRU step on rows: returns wx, wh, pre, gates, W_hn h + b_hn, h'."""
    w_ih, w_hh, b_ih, b_hh = w
    wx, wh, pre, gates = {}, {}, {}, {}
    for k, name in enumerate(GATE_NAMES["gru"]):
        wx[name] = x_t @ gate_block(w_ih, k, H).T
        wh[name] = h @ gate_block(w_hh, k, H).T
    bi = {n: (0.0 if b_ih is None else gate_block(b_ih, k, H)) for k, n in enumerate(GATE_NAMES["gru"])}
    bh = {n: (0.0 if b_hh is None else gate_block(b_hh, k, H)) for k, n in enumerate(GATE_NAMES["gru"])}
    for name in ("r", "z"):
        pre[name] = wx[name] + bi[name] + wh[name] + bh[name]
        gates[name] = sigmoid(pre[name])
    hn = wh["n"] + bh["n"]  # (N, H) W_hn h + b_hn
    pre["n"] = wx["n"] + bi["n"] + gates["r"] * hn
    gates["n"] = np.tanh(pre["n"])
    h_new = (1.0 - gates["z"]) * gates["n"] + gates["z"] * h
    return wx, wh, pre, gates, hn, h_new


def trace_forward_gates(
    kind: str, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, weights, num_layers: int, num_dirs: int
) -> GateTrace:
    """Recompute an LSTM ('lstm') or GRU ('gru') on x (T, N, I) from h0 (and c0) (L*D, N, H).

    `weights` holds L*D tuples (w_ih (G*H, I_l), w_hh (G*H, H), b_ih (G*H,) or None, b_hh or None).
    """
    if kind not in GATE_NAMES:
        raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
    T, N, _ = x.shape
    H = weights[0][1].shape[1]
    lstm = kind == "lstm"
    LD = num_layers * num_dirs
    trace = GateTrace("tanh", num_layers, num_dirs, h_n=np.zeros((LD, N, H)), kind=kind)

    def step(layer: int, d: int, t: int, x_t: np.ndarray, state, k: int):
        if lstm:
            h, c = state
            wx, wh, pre, gates, c_new, tanh_c, h_new = _lstm_step(x_t, h, c, weights[k], H)
            trace.steps.append(GateStep(layer, d, t, x_t, h, wx, wh, pre, gates, h_new, c, c_new, tanh_c))
            return h_new, (h_new, c_new)
        wx, wh, pre, gates, hn, h_new = _gru_step(x_t, state, weights[k], H)
        trace.steps.append(GateStep(layer, d, t, x_t, state, wx, wh, pre, gates, h_new, hn=hn))
        return h_new, h_new

    finals = walk_forward(x, trace, H, (lambda k: (h0[k], c0[k])) if lstm else (lambda k: h0[k]), step)
    if not lstm:
        trace.h_n[:] = finals
        return trace
    trace.c_n = np.zeros((LD, N, H))
    for k, (h, c) in enumerate(finals):
        trace.h_n[k], trace.c_n[k] = h, c
    for layer in range(num_layers):  # each layer's c_t, laid out as its output (T, N, D*H)
        cy = np.zeros((T, N, num_dirs * H))
        for s in trace.steps:
            if s.layer == layer:
                cy[s.t - 1, :, s.direction * H : (s.direction + 1) * H] = s.c
        trace.cell_outputs.append(cy)
    return trace
