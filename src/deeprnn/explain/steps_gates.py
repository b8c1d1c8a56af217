"""The step-by-step sections of an LSTM or GRU: every gate of every forward step with its
equation, shape and numbers, and BPTT through the gates."""

from __future__ import annotations

import numpy as np

from .arrays_text import fmt_matrix, fmt_num, fmt_shape, fmt_vec
from .blocks import Block, Heading, Para, Pre, Table
from .bptt_gates import GateBackwardStep, GateBackwardTrace
from .sections import Context
from .steps import _layer_dir_intro, _rows, forward_walk, steps_block
from .trace_gates import GATE_NAMES, GateStep, gate_block

__all__ = ["forward_gates_section", "backward_gates_section"]

_ACT = {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid", "r": "sigmoid", "z": "sigmoid"}
SUB = 26  # width of the label column under a gate's equation


def _bias(label: str, b: np.ndarray | None, c: Context) -> list[str]:
    """'+ b_ii  [vector]' under a gate's equation (nothing without biases)."""
    return [] if b is None else [f"    {label:<{SUB}}{fmt_vec(b, c.max_cols)}"]


def _sub(label: str, a: np.ndarray, c: Context) -> list[str]:
    """Like steps._rows, indented under a gate's equation: 'label  [row 0]', the other rows under it."""
    lines = fmt_matrix(a, max_rows=c.max_rows, max_cols=c.max_cols)
    return [f"    {label:<{SUB}}{lines[0]}"] + [" " * (SUB + 4) + ln for ln in lines[1:]]


def _gate_lines(c: Context, s: GateStep, g: str, k: int, w, t: int, tp: int) -> list[str]:
    """One sigmoid / tanh gate (LSTM i, f, g, o; GRU r, z): equation, shape, terms, value."""
    m = c.msg
    H = s.h.shape[1]
    b_ih, b_hh = gate_block(w[2], k, H), gate_block(w[3], k, H)
    bias = f" + b_i{g}" if b_ih is not None else ""
    hb = f" + b_h{g}" if b_hh is not None else ""
    lines = [
        f"  {g}_{t} = {_ACT[g]}(W_i{g} x_{t}{bias} + W_h{g} h_{tp}{hb})    "
        f"{m('gate_' + g)}, {fmt_shape(s.h.shape)} = (N, H)"
    ]
    lines += _sub(f"W_i{g} x_{t}", s.wx[g], c)
    lines += _bias(f"+ b_i{g}", b_ih, c)
    lines += _sub(f"+ W_h{g} h_{tp}", s.wh[g], c)
    lines += _bias(f"+ b_h{g}", b_hh, c)
    lines += _sub(f"= a_{g}", s.pre[g], c)
    lines += _sub(f"{g}_{t} = {_ACT[g]}(a_{g})", s.gates[g], c)
    return lines


def _lstm_lines(c: Context, s: GateStep, w, t: int, tp: int) -> list[str]:
    m = c.msg
    lines: list[str] = []
    for k, g in enumerate(GATE_NAMES["lstm"]):
        lines += _gate_lines(c, s, g, k, w, t, tp)
    lines.append(f"  c_{t} = f_{t} ⊙ c_{tp} + i_{t} ⊙ g_{t}    {m('cell_state')}, {fmt_shape(s.c.shape)}")
    lines += _sub(f"f_{t} ⊙ c_{tp}", s.gates["f"] * s.c_prev, c)
    lines += _sub(f"+ i_{t} ⊙ g_{t}", s.gates["i"] * s.gates["g"], c)
    lines += _sub(f"= c_{t}", s.c, c)
    lines.append(f"  h_{t} = o_{t} ⊙ tanh(c_{t})    {m('hidden_state')}, {fmt_shape(s.h.shape)}")
    lines += _sub(f"tanh(c_{t})", s.tanh_c, c)
    lines += _sub(f"= h_{t}", s.h, c)
    return lines


def _gru_lines(c: Context, s: GateStep, w, t: int, tp: int) -> list[str]:
    m = c.msg
    H = s.h.shape[1]
    lines: list[str] = []
    for k, g in enumerate(("r", "z")):
        lines += _gate_lines(c, s, g, k, w, t, tp)
    b_in, b_hn = gate_block(w[2], 2, H), gate_block(w[3], 2, H)
    bi = " + b_in" if b_in is not None else ""
    bh = " + b_hn" if b_hn is not None else ""
    lines.append(f"  n_{t} = tanh(W_in x_{t}{bi} + r_{t} ⊙ (W_hn h_{tp}{bh}))    {m('gate_n')}, {fmt_shape(s.h.shape)}")
    lines += _sub(f"W_in x_{t}", s.wx["n"], c)
    lines += _bias("+ b_in", b_in, c)
    lines += _sub(f"W_hn h_{tp}{bh}", s.hn, c)
    lines += _sub(f"r_{t} ⊙ (W_hn h_{tp}{bh})", s.gates["r"] * s.hn, c)
    lines += _sub("= a_n", s.pre["n"], c)
    lines += _sub(f"n_{t} = tanh(a_n)", s.gates["n"], c)
    lines.append(f"  h_{t} = (1 − z_{t}) ⊙ n_{t} + z_{t} ⊙ h_{tp}    {m('hidden_state')}, {fmt_shape(s.h.shape)}")
    lines += _sub(f"(1 − z_{t}) ⊙ n_{t}", (1.0 - s.gates["z"]) * s.gates["n"], c)
    lines += _sub(f"+ z_{t} ⊙ h_{tp}", s.gates["z"] * s.h_prev, c)
    lines += _sub(f"= h_{t}", s.h, c)
    return lines


def forward_gates_section(c: Context) -> list[Block]:
    """Every layer, direction and time step of an LSTM's or GRU's forward pass, gate by gate."""
    weights = c.problem.weights()

    def render(s: GateStep, k: int, t: int, tp: int, first: bool) -> list[str]:
        lines = _rows(f"x_{t}", s.x, c)
        lines += _rows(f"h_{tp}" + (f" = h0[{k}]" if first else ""), s.h_prev, c)
        if c.kind == "lstm":
            lines += _rows(f"c_{tp}" + (f" = c0[{k}]" if first else ""), s.c_prev, c)
            return lines + _lstm_lines(c, s, weights[k], t, tp)
        return lines + _gru_lines(c, s, weights[k], t, tp)

    return forward_walk(c, [Para(c.msg(f"fwd_gates_{c.kind}"))], render)


def _norm(a: np.ndarray | None) -> str:
    return fmt_num(np.linalg.norm(a)) if a is not None else "—"


def _table_row(c: Context, s: GateBackwardStep) -> list[str]:
    row = [str(s.t), _norm(s.from_above), _norm(s.from_next), fmt_num(s.grad_norm)]
    if c.kind == "lstm":
        row.append(_norm(s.grad_c))
    row += [_norm(s.d_pre[g]) for g in GATE_NAMES[c.kind]]
    if c.kind == "gru":
        row.append(_norm(s.direct))
    return row + [fmt_num(s.dw_ih_norm), fmt_num(s.dw_hh_norm)]


def _back_lines(c: Context, s: GateBackwardStep, t: int, nxt: int, prev: int) -> list[str]:
    lines = _rows("from above", s.from_above, c)
    lines += _rows(f"from step {nxt}", s.from_next, c)
    lines += _rows(f"dL/dh_{t}", s.grad_h, c)
    if c.kind == "lstm":
        lines += _rows(f"dL/dc from step {nxt}", s.c_from_next, c)
        lines += _rows(f"dL/dc_{t}", s.grad_c, c)
        for g in GATE_NAMES["lstm"]:
            lines += _rows(f"d{g}_{t}", s.d_gates[g], c)
        for g in GATE_NAMES["lstm"]:
            lines += _rows(f"da_{g}", s.d_pre[g], c)
        lines += _rows(f"dc_{prev} = dc ⊙ f_{t}", s.c_to_prev, c)
    else:
        for g in GATE_NAMES["gru"]:
            lines += _rows(f"d{g}_{t}", s.d_gates[g], c)
        for g in GATE_NAMES["gru"]:
            lines += _rows(f"da_{g}", s.d_pre[g], c)
        lines += _rows(f"r_{t} ⊙ da_n", s.d_hn, c)
        lines += _rows(f"dL/dh_{t} ⊙ z_{t}", s.direct, c)
    return lines


def _back_equations(c: Context) -> list[str]:
    m = c.msg
    head = [
        "dL/dh_t = (from above) + (from the next step)",
        f"          {m('bwd_eq_above')}",
    ]
    if c.kind == "lstm":
        return head + [
            "dL/dc_t = (dL/dc from the next step) + dL/dh_t ⊙ o_t ⊙ (1 − tanh²(c_t))",
            f"          {m('bwd_eq_dc')}",
            "do = dL/dh_t ⊙ tanh(c_t)   di = dc ⊙ g_t   dg = dc ⊙ i_t   df = dc ⊙ c_(t-1)",
            "da_i = di ⊙ i(1−i)   da_f = df ⊙ f(1−f)   da_g = dg ⊙ (1−g²)   da_o = do ⊙ o(1−o)",
            f"          {m('bwd_eq_gates')}",
            "dA = [da_i, da_f, da_g, da_o]  (N, 4H)",
            "dW_ih  += dA^T x_t     dW_hh += dA^T h_prev     db_ih, db_hh += Σ_samples dA",
            f"          {m('bwd_eq_acc')}",
            "next: dL/dh_prev = dA W_hh     dL/dc_prev = dc ⊙ f_t     dL/dx_t += dA W_ih",
            f"          {m('bwd_eq_next_lstm')}",
        ]
    return head + [
        "dn = dL/dh_t ⊙ (1 − z_t)   dz = dL/dh_t ⊙ (h_prev − n_t)   da_n = dn ⊙ (1 − n_t²)",
        "dr = da_n ⊙ (W_hn h_prev + b_hn)   da_r = dr ⊙ r(1−r)   da_z = dz ⊙ z(1−z)",
        f"          {m('bwd_eq_gru_r')}",
        "dA_x = [da_r, da_z, da_n]  dA_h = [da_r, da_z, r_t ⊙ da_n]  (N, 3H)",
        "dW_ih += dA_x^T x_t   db_ih += Σ dA_x     dW_hh += dA_h^T h_prev   db_hh += Σ dA_h",
        f"          {m('bwd_eq_acc')}",
        "next: dL/dh_prev = dL/dh_t ⊙ z_t + dA_h W_hh     dL/dx_t += dA_x W_ih",
        f"          {m('bwd_eq_next_gru')}",
    ]


def backward_gates_section(c: Context, bt: GateBackwardTrace) -> list[Block]:
    """BPTT through an LSTM's or GRU's gates, step by step, with the carries and the weight gradients."""
    m = c.msg
    mod = c.problem.model
    D = c.problem.num_dirs
    out: list[Block] = [
        Heading(2, m("sec_backward")),
        Para(m("loss_sum") if bt.loss == "sum" else m("loss_last")),
        Pre(_back_equations(c)),
        Para(m("bwd_order")),
    ]
    for layer in range(mod.num_layers - 1, -1, -1):
        for d in range(D):
            out.extend(_layer_dir_intro(c, layer, d)[:1])
            steps = [s for s in bt.steps if (s.layer, s.direction) == (layer, d)]  # in BPTT order
            out.append(Table(m.cols(f"bwd_header_{c.kind}"), [_table_row(c, s) for s in steps]))
            by_t = {s.t: s for s in steps}

            def render(t: int, d=d, by_t=by_t) -> list[str]:
                nxt, prev = (t + 1, t - 1) if d == 0 else (t - 1, t + 1)
                return _back_lines(c, by_t[t], t, nxt, prev)

            out.append(steps_block(c, [s.t for s in steps], render))
    if c.kind == "lstm":
        out.append(Para(m("bwd_carry_lstm"), note=True))
    return out
