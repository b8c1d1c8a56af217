"""Backpropagation through time for the LSTM and the GRU, gate by gate, keeping every number.

The loss and its seed G = dL/d(output) are bptt.py's ('sum' or 'last'); layers are walked
from the top down and each direction opposite to its forward order, as there.  At one step,
with dh = dL/dh_t = (from above) + (from the next step):

    LSTM  (h = o * tanh(c),  c = f * c_prev + i * g)
        dc      = (dL/dc from the next step) + dh * o * (1 - tanh(c)^2)
        do = dh * tanh(c)   di = dc * g   dg = dc * i   df = dc * c_prev
        da_i = di * i(1-i)  da_f = df * f(1-f)  da_g = dg * (1-g^2)  da_o = do * o(1-o)
        dA = [da_i, da_f, da_g, da_o]  (N, 4H)
        dW_ih += dA^T x   dW_hh += dA^T h_prev   db_ih, db_hh += sum over samples of dA
        to the step before:  dh_prev = dA W_hh      dc_prev = dc * f
        to the layer below:  dx = dA W_ih

    GRU   (h = (1 - z) * n + z * h_prev,  n = tanh(a_n),  a_n = W_in x + b_in + r * (W_hn h_prev + b_hn))
        dn = dh * (1 - z)   dz = dh * (h_prev - n)   da_n = dn * (1 - n^2)
        dr = da_n * (W_hn h_prev + b_hn)             (the r * (W_hn h + b_hn) term)
        da_r = dr * r(1-r)   da_z = dz * z(1-z)
        input side  dA_x = [da_r, da_z, da_n]          dW_ih += dA_x^T x    db_ih += sum dA_x
        hidden side dA_h = [da_r, da_z, r * da_n]      dW_hh += dA_h^T h_prev   db_hh += sum dA_h
        to the step before:  dh_prev = dh * z + dA_h W_hh
        to the layer below:  dx = dA_x W_ih

The carry left after the last step is dL/dh0 (and the LSTM's dL/dc0).  The walk over layers,
directions and steps is bptt.py's (walk_backward); only the step differs per kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bptt import BackwardTrace, loss_seed, walk_backward
from .trace_gates import GATE_NAMES, GateStep, GateTrace

__all__ = ["GateBackwardStep", "GateBackwardTrace", "trace_backward_gates"]


@dataclass
class GateBackwardStep:
    """One BPTT step of an LSTM or GRU layer-direction: the gradients at h_t (and c_t), all (N, H).

    ``d_gates[name]`` is dL/d(gate value) (di, df, dg, do / dr, dz, dn), ``d_pre[name]`` dL/d(its
    pre-activation) (da_i ... / da_r, da_z, da_n).
    """

    layer: int
    direction: int
    t: int  # 1..T
    from_above: np.ndarray
    from_next: np.ndarray  # dL/dh carried from the step processed before
    grad_h: np.ndarray  # dL/dh_t
    d_gates: dict[str, np.ndarray]
    d_pre: dict[str, np.ndarray]
    dw_ih_norm: float
    dw_hh_norm: float
    c_from_next: np.ndarray | None = None  # LSTM: dL/dc carried from the step processed before
    grad_c: np.ndarray | None = None  # LSTM: dL/dc_t, both paths
    c_to_prev: np.ndarray | None = None  # LSTM: dc * f, carried to the step before
    d_hn: np.ndarray | None = None  # GRU: r * da_n, the gradient of W_hn h_prev + b_hn
    direct: np.ndarray | None = None  # GRU: dh * z, the part of dh_prev that skips the weights

    @property
    def grad_norm(self) -> float:
        """||dL/dh_t|| over the whole batch (Frobenius)."""
        return float(np.linalg.norm(self.grad_h))


@dataclass
class GateBackwardTrace(BackwardTrace):
    """A BackwardTrace of GateBackwardSteps, with the LSTM's dL/dc0 (L*D, N, H)."""

    dc0: np.ndarray | None = None


def _lstm_back(s: GateStep, dh: np.ndarray, dc_next: np.ndarray):
    """One LSTM step backward: (d_gates, d_pre, dc, dA (N, 4H))."""
    i, f, g, o = (s.gates[n] for n in GATE_NAMES["lstm"])
    dc = dc_next + dh * o * (1.0 - s.tanh_c * s.tanh_c)
    d_gates = {"i": dc * g, "f": dc * s.c_prev, "g": dc * i, "o": dh * s.tanh_c}
    d_pre = {
        "i": d_gates["i"] * i * (1.0 - i),
        "f": d_gates["f"] * f * (1.0 - f),
        "g": d_gates["g"] * (1.0 - g * g),
        "o": d_gates["o"] * o * (1.0 - o),
    }
    dA = np.concatenate([d_pre[n] for n in GATE_NAMES["lstm"]], axis=1)
    return d_gates, d_pre, dc, dA


def _gru_back(s: GateStep, dh: np.ndarray):
    """One GRU step backward: (d_gates, d_pre, r * da_n, dA_x (N, 3H), dA_h (N, 3H))."""
    r, z, n = (s.gates[k] for k in GATE_NAMES["gru"])
    dn = dh * (1.0 - z)
    dz = dh * (s.h_prev - n)
    da_n = dn * (1.0 - n * n)
    dr = da_n * s.hn
    d_gates = {"r": dr, "z": dz, "n": dn}
    d_pre = {"r": dr * r * (1.0 - r), "z": dz * z * (1.0 - z), "n": da_n}
    d_hn = r * da_n
    dA_x = np.concatenate([d_pre["r"], d_pre["z"], da_n], axis=1)
    dA_h = np.concatenate([d_pre["r"], d_pre["z"], d_hn], axis=1)
    return d_gates, d_pre, d_hn, dA_x, dA_h


def trace_backward_gates(fwd: GateTrace, weights, loss: str = "sum") -> GateBackwardTrace:
    """BPTT over an LSTM or GRU GateTrace for the named loss; see the module docstring.

    `weights` as for trace_forward_gates; returns per layer-direction (dW_ih, dW_hh, db_ih, db_hh),
    dL/dinput (T, N, I), dL/dh0 and (LSTM) dL/dc0 (L*D, N, H).
    """
    out = fwd.output
    T, N, DH = out.shape
    D, L = fwd.num_dirs, fwd.num_layers
    H = DH // D
    lstm = fwd.kind == "lstm"
    bt = GateBackwardTrace(loss, loss_seed(loss, T, N, DH))
    bt.grads = [None] * (L * D)
    bt.dh0 = np.zeros((L * D, N, H))
    bt.dc0 = np.zeros((L * D, N, H)) if lstm else None

    def begin(k: int):
        w_ih, w_hh = weights[k][:2]
        acc = [np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros(w_ih.shape[0]), np.zeros(w_hh.shape[0])]
        return (np.zeros((N, H)), np.zeros((N, H))), acc  # (dL/dh, dL/dc) carried; h_n, c_n not in the loss

    def step(k: int, s: GateStep, above: np.ndarray, carry, acc: list):
        w_ih, w_hh = weights[k][:2]
        h_carry, c_carry = carry
        dh = above + h_carry
        if lstm:
            d_gates, d_pre, dc, dA = _lstm_back(s, dh, c_carry)
            dA_x = dA_h = dA
        else:
            d_gates, d_pre, d_hn, dA_x, dA_h = _gru_back(s, dh)
        acc[0] += dA_x.T @ s.x  # (G*H, N) x (N, I_l) -> (G*H, I_l)
        acc[1] += dA_h.T @ s.h_prev  # (G*H, N) x (N, H) -> (G*H, H)
        acc[2] += dA_x.sum(axis=0)
        acc[3] += dA_h.sum(axis=0)
        norms = float(np.linalg.norm(acc[0])), float(np.linalg.norm(acc[1]))
        b = GateBackwardStep(s.layer, s.direction, s.t, above.copy(), h_carry, dh, d_gates, d_pre, *norms)
        if lstm:
            b.c_from_next, b.grad_c, b.c_to_prev = c_carry, dc, dc * s.gates["f"]  # dc_prev = dc * f
            carry = (dA_h @ w_hh, b.c_to_prev)  # (N, 4H) x (4H, H) -> (N, H)
        else:
            b.d_hn, b.direct = d_hn, dh * s.gates["z"]
            carry = (b.direct + dA_h @ w_hh, c_carry)
        bt.steps.append(b)
        return carry, dA_x @ w_ih  # (N, G*H) x (G*H, I_l) -> (N, I_l)

    def end(k: int, carry, acc: list):
        b_ih, b_hh = weights[k][2:4]
        bt.dh0[k] = carry[0]
        if lstm:
            bt.dc0[k] = carry[1]
        bt.grads[k] = (acc[0], acc[1], None if b_ih is None else acc[2], None if b_hh is None else acc[3])

    bt.dx = walk_backward(fwd, bt.seed, begin, step, end)
    return bt
