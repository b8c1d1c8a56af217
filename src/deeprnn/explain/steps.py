"""The step-by-step sections: every forward step with its numbers, and BPTT step by step."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .arrays_text import fmt_matrix, fmt_num, fmt_vec
from .blocks import Block, Heading, Para, Pre, Table
from .bptt import BackwardTrace
from .sections import Context

__all__ = ["forward_section", "backward_section", "steps_block", "forward_walk"]

LABEL = 20  # width of the label column in the equations


def _rows(label: str, a: np.ndarray, c: Context) -> list[str]:
    """'label  [row 0]' then the other shown samples' rows under it."""
    lines = fmt_matrix(a, max_rows=c.max_rows, max_cols=c.max_cols)
    first = f"  {label:<{LABEL}}{lines[0]}"
    return [first] + [" " * (LABEL + 2) + ln for ln in lines[1:]]


def _shown(T: int, max_steps: int, order: list[int]) -> tuple[list[int], int]:
    """The time steps to print (first and last of `order`) and how many are left out."""
    if T <= max_steps:
        return order, 0
    head = (max_steps + 1) // 2
    return order[:head] + order[T - (max_steps - head) :], T - max_steps


def steps_block(c: Context, order: list[int], render) -> Pre:
    """One layer-direction's shown time steps (`order`: t in walking order) as one Pre block:
    a heading line per step, then ``render(t)``'s lines; the middle left out past max_steps."""
    T = len(order)
    shown, left = _shown(T, c.max_steps, order)
    lines: list[str] = []
    for j, t in enumerate(shown):
        if left and j == (c.max_steps + 1) // 2:
            lines.extend([c.msg("steps_omitted", n=left, m=c.max_steps), ""])
        lines.append(c.msg("step", t=t, i=t - 1))
        lines += render(t)
        lines.append("")
    return Pre(lines[:-1])


def _layer_dir_intro(c: Context, layer: int, d: int) -> list[Block]:
    m = c.msg
    D, H = c.problem.num_dirs, c.problem.model.hidden_size
    inp = m("input_of_layer0") if layer == 0 else m("input_of_upper", lp=layer - 1, dh=D * H)
    return [
        Heading(3, m("layer_dir", l=layer, dir=m("dir_fwd") if d == 0 else m("dir_rev"))),
        Para(inp),
    ]


def forward_walk(c: Context, notes: list[Block], render_step: Callable[..., list[str]]) -> list[Block]:
    """The forward section's frame, for every kind: its heading and notes, then each layer and
    direction in the order the data flows, with the shown time steps of each.

    ``render_step(s, k, t, tp, first)`` gives the lines of one step: ``s`` the trace's step, ``k``
    the layer-direction index (into h0 and the weights), ``tp`` the index of the previous step
    (t - 1 forward, t + 1 reverse), ``first`` whether it is the direction's first step.
    """
    m, tr = c.msg, c.trace
    T, N = tr.output.shape[0], tr.output.shape[1]
    D = c.problem.num_dirs
    out: list[Block] = [
        Heading(2, m("sec_forward")),
        Para(m("fwd_order")),
        Para(m("fwd_samples", shown=min(N, c.max_rows), n=N)),
        *notes,
    ]
    for layer in range(c.problem.model.num_layers):
        for d in range(D):
            k = layer * D + d
            out.extend(_layer_dir_intro(c, layer, d))
            order = list(range(1, T + 1)) if d == 0 else list(range(T, 0, -1))

            def render(t: int, layer=layer, d=d, k=k, first=order[0]) -> list[str]:
                return render_step(tr.step(layer, d, t), k, t, t - 1 if d == 0 else t + 1, t == first)

            out.append(steps_block(c, order, render))
    return out


def forward_section(c: Context) -> list[Block]:
    """Every layer, direction and time step of the forward pass, with its numbers."""
    act, weights = c.act, c.problem.weights()

    def render(s, k: int, t: int, tp: int, first: bool) -> list[str]:
        w = weights[k]
        prev = f"h_{tp}" + (f" = h0[{k}]" if first else "")
        lines = [f"  h_{t} = {act}(W_ih x_{t} + b_ih + W_hh h_{tp} + b_hh)"]
        lines += _rows(f"x_{t}", s.x, c)
        lines += _rows(prev, s.h_prev, c)
        lines += _rows(f"W_ih x_{t}", s.wx, c)
        if w[2] is not None:
            lines.append(f"  {'+ b_ih':<{LABEL}}{fmt_vec(w[2], c.max_cols)}")
        lines += _rows(f"+ W_hh h_{tp}", s.wh, c)
        if w[3] is not None:
            lines.append(f"  {'+ b_hh':<{LABEL}}{fmt_vec(w[3], c.max_cols)}")
        lines += _rows(f"= a_{t}", s.a, c)
        lines += _rows(f"h_{t} = {act}(a_{t})", s.h, c)
        return lines

    return forward_walk(c, [], render)


def backward_section(c: Context, bt: BackwardTrace) -> list[Block]:
    """BPTT step by step: dL/dh_t, the pre-activation gradient and the carry, then the weight gradients."""
    m = c.msg
    mod = c.problem.model
    D = c.problem.num_dirs
    eqs = [
        "dL/dh_t = (from above) + (from the next step)",
        f"          {m('bwd_eq_above')}",
        "dA_t    = dL/dh_t ⊙ act'(a_t)",
        f"          {m('bwd_eq_dact')}",
        "dW_ih  += dA_t^T x_t     dW_hh += dA_t^T h_prev     db_ih, db_hh += Σ_samples dA_t",
        f"          {m('bwd_eq_acc')}",
        "next    = dA_t W_hh      dL/dx_t += dA_t W_ih",
        f"          {m('bwd_eq_next')}",
    ]
    out: list[Block] = [
        Heading(2, m("sec_backward")),
        Para(m("loss_sum") if bt.loss == "sum" else m("loss_last")),
        Pre(eqs),
        Para(m("bwd_order")),
    ]
    for layer in range(mod.num_layers - 1, -1, -1):
        for d in range(D):
            out.extend(_layer_dir_intro(c, layer, d)[:1])
            steps = [s for s in bt.steps if (s.layer, s.direction) == (layer, d)]  # in BPTT order
            rows = [
                [
                    str(s.t),
                    fmt_num(np.linalg.norm(s.from_above)),
                    fmt_num(np.linalg.norm(s.from_next)),
                    fmt_num(s.grad_norm),
                    fmt_num(s.dact.mean()),
                    fmt_num(s.dw_ih_norm),
                    fmt_num(s.dw_hh_norm),
                ]
                for s in steps
            ]
            out.append(Table(m.cols("bwd_header"), rows))
            by_t = {s.t: s for s in steps}

            def render(t: int, d=d, by_t=by_t) -> list[str]:
                s = by_t[t]
                nxt = f"step {t + 1}" if d == 0 else f"step {t - 1}"
                lines = _rows("from above", s.from_above, c)
                lines += _rows(f"from {nxt}", s.from_next, c)
                lines += _rows(f"dL/dh_{t}", s.grad_h, c)
                lines += _rows(f"act'(a_{t})", s.dact, c)
                lines += _rows(f"dA_{t}", s.d_a, c)
                return lines

            out.append(steps_block(c, [s.t for s in steps], render))
    return out
