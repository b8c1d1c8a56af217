"""The report's sections before and after the steps: configuration, equation, parameters,
shapes (with the gate blocks of the LSTM's and GRU's stacked weights), how output and h_n
relate, and the check against the module.

Each function returns a list of blocks in the reader's language (see blocks.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .arrays_text import fmt_matrix, fmt_shape
from .blocks import Block, CheckLine, Heading, Para, Pre, Table
from .checks import Check, ModuleRun, Relation
from .config import GATES
from .messages import Messages
from .problem import Problem
from .trace import ForwardTrace
from .trace_gates import GATE_NAMES

__all__ = [
    "Context",
    "intro",
    "configuration",
    "equation",
    "parameters",
    "shapes",
    "gate_blocks",
    "relations_section",
    "check_section",
    "check_lines",
]


@dataclass
class Context:
    """Everything a section needs to write itself."""

    problem: Problem
    trace: ForwardTrace
    run: ModuleRun
    msg: Messages
    seed: int
    max_steps: int = 8  # time steps shown per layer-direction
    max_rows: int = 2  # samples shown per step
    max_cols: int = 6  # features shown per row
    weight_scale: float | None = None

    @property
    def act(self) -> str:
        """The RNN's nonlinearity ('tanh' for the gated kinds, whose candidate uses tanh)."""
        return getattr(self.problem.model, "nonlinearity", "tanh")

    @property
    def kind(self) -> str:
        """'rnn', 'lstm' or 'gru'."""
        return self.problem.kind


def intro(c: Context) -> list[Block]:
    """The title and where the example comes from."""
    m, p = c.msg, c.problem
    out: list[Block] = [Heading(1, m("title" if c.kind == "rnn" else f"title_{c.kind}"))]
    if p.example is not None:
        out.append(Para(m("source_example", name=p.example.name, source=p.example.source)))
    elif p.origin == "config":
        key = "source_config" if c.weight_scale is None else "source_config_scaled"
        out.append(Para(m(key, seed=c.seed, scale=c.weight_scale)))
    else:
        out.append(Para(m("source_model", seed=c.seed)))
    out.append(Para(m("h0_zero") if p.h0 is None or not p.h0.any() else m("h0_given")))
    if c.kind == "lstm":
        out.append(Para(m("c0_zero") if p.c0 is None or not p.c0.any() else m("c0_given")))
    if p.dropout_ignored:
        out.append(Para(m("dropout_note", p=p.dropout_ignored), note=True))
    if p.example is not None and p.example.note_key:
        out.append(Para(m(p.example.note_key), note=True))
    return out


def configuration(c: Context) -> list[Block]:
    """A table of the module's options: T, N, H_in, H, layers, directions, bias, nonlinearity."""
    m, mod, p = c.msg, c.problem.model, c.problem
    T = p.input.shape[1 if (p.batched and mod.batch_first) else 0]
    N = p.input.shape[0 if mod.batch_first else 1] if p.batched else m("unbatched")
    rows = [
        ["input_size", str(mod.input_size), m("cfg_input_size")],
        ["hidden_size", str(mod.hidden_size), m("cfg_hidden_size")],
        ["num_layers", str(mod.num_layers), m("cfg_num_layers")],
        ["nonlinearity", mod.nonlinearity, m("cfg_nonlinearity")]
        if c.kind == "rnn"
        else ["gates", ", ".join(GATE_NAMES[c.kind]), m(f"cfg_gates_{c.kind}")],
        ["bias", str(mod.bias), m("cfg_bias")],
        ["batch_first", str(mod.batch_first), m("cfg_batch_first")],
        ["bidirectional", str(mod.bidirectional), m("cfg_bidirectional")],
        ["seq_len", str(T), m("cfg_seq_len")],
        ["batch_size", str(N), m("cfg_batch_size")],
    ]
    return [Heading(2, m("sec_config")), Table(m.cols("cfg_header"), rows)]


def _gate_equation(c: Context) -> list[Block]:
    """The LSTM's or GRU's equations (PyTorch's, gate order i, f, g, o / r, z, n), each gate named."""
    m = c.msg
    if c.kind == "lstm":
        lines = [
            f"i_t = sigmoid(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)      {m('gate_i')}",
            f"f_t = sigmoid(W_if x_t + b_if + W_hf h_(t-1) + b_hf)      {m('gate_f')}",
            f"g_t = tanh(W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)         {m('gate_g')}",
            f"o_t = sigmoid(W_io x_t + b_io + W_ho h_(t-1) + b_ho)      {m('gate_o')}",
            f"c_t = f_t ⊙ c_(t-1) + i_t ⊙ g_t                           {m('cell_state')}",
            f"h_t = o_t ⊙ tanh(c_t)                                     {m('hidden_state')}",
        ]
    else:
        lines = [
            f"r_t = sigmoid(W_ir x_t + b_ir + W_hr h_(t-1) + b_hr)      {m('gate_r')}",
            f"z_t = sigmoid(W_iz x_t + b_iz + W_hz h_(t-1) + b_hz)      {m('gate_z')}",
            f"n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_(t-1) + b_hn)) {m('gate_n')}",
            f"h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_(t-1)                     {m('hidden_state')}",
        ]
    out: list[Block] = [
        Heading(2, m("sec_equation")),
        Para(m(f"eq_intro_{c.kind}")),
        Pre(lines),
        Para(m("eq_gates_common")),
    ]
    if c.problem.model.bidirectional:
        out.append(Para(m("eq_gates_reverse")))
    out += [Para(m(f"eq_split_{c.kind}")), Para(m("eq_layers"))]
    if c.problem.model.bias:
        out.append(Para(m(f"eq_bias_{c.kind}"), note=True))
    return out


def equation(c: Context) -> list[Block]:
    """The recurrence(s) being explained, one line per direction (per gate for LSTM and GRU)."""
    if c.kind != "rnn":
        return _gate_equation(c)
    m, act = c.msg, c.act
    lines = [f"h_t = {act}(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)      {m('eq_fwd_dir')}"]
    if c.problem.model.bidirectional:
        lines.append(f"h_t = {act}(W_ih x_t + b_ih + W_hh h_(t+1) + b_hh)      {m('eq_rev_dir')}")
    out: list[Block] = [
        Heading(2, m("sec_equation")),
        Para(m("eq_intro")),
        Pre(lines),
        Para(m("eq_batch")),
        Para(m("eq_layout")),
        Para(m("eq_layers")),
    ]
    if c.problem.model.bias:
        out.append(Para(m("eq_bias_merge"), note=True))
    return out


def _why_gates(c: Context, name: str, layer: int) -> str:
    m, mod = c.msg, c.problem.model
    H, D, G = mod.hidden_size, c.problem.num_dirs, GATES[c.kind]
    blocks = ", ".join(GATE_NAMES[c.kind])
    if name.startswith("weight_ih"):
        cols = mod.input_size if layer == 0 else D * H
        src = m("why_g_x0", i=cols) if layer == 0 else m("why_g_up", lp=layer - 1, dh=cols)
        why = m("why_g_w", g=G, h=H, gh=G * H, blocks=blocks, cols=cols, src=src)
    elif name.startswith("weight_hh"):
        why = m("why_g_w", g=G, h=H, gh=G * H, blocks=blocks, cols=H, src=m("why_g_h", h=H))
    else:
        why = m("why_g_b", g=G, h=H, gh=G * H, blocks=blocks)
    return why + (m("why_reverse") if name.endswith("_reverse") else "")


def _why(c: Context, name: str, shape: tuple[int, ...]) -> str:
    m, mod = c.msg, c.problem.model
    H, D = mod.hidden_size, c.problem.num_dirs
    layer = int(name.split("_l")[1].split("_")[0])
    if c.kind != "rnn":
        return _why_gates(c, name, layer)
    if name.startswith("weight_ih"):
        if layer == 0:
            why = m("why_w_ih0", i=mod.input_size, h=H)
        else:
            why = m(
                "why_w_ih_up",
                l=layer,
                lp=layer - 1,
                dh=D * H,
                h=H,
                both=m("why_both") if D == 2 else "",
            )
    elif name.startswith("weight_hh"):
        why = m("why_w_hh", h=H)
    else:
        why = m("why_b")
    return why + (m("why_reverse") if name.endswith("_reverse") else "")


def parameters(c: Context) -> list[Block]:
    """Every parameter with its shape and why it has that shape, then its values."""
    m = c.msg
    named = list(c.problem.model.named_parameters())
    rows = [[name, fmt_shape(tuple(p.shape)), _why(c, name, tuple(p.shape))] for name, p in named]
    values: list[str] = []
    for name, p in named:
        lines = fmt_matrix(p._data, max_rows=4, max_cols=c.max_cols)
        head = f"{name} {fmt_shape(tuple(p.shape))} = "
        values.append(head + lines[0])
        values.extend(" " * len(head) + ln for ln in lines[1:])
    total = sum(p._data.size for _, p in named)
    return [
        Heading(2, m("sec_params")),
        Table(m.cols("param_header"), rows),
        Para(m("param_total", n=total)),
        Pre(values),
    ]


def shapes(c: Context) -> list[Block]:
    """The shapes of input, h0, output and h_n, each with the rule that gives it."""
    m, p, run = c.msg, c.problem, c.run
    mod = p.model
    if not p.batched:
        r_in, r_h0, r_out, r_hn = "rule_input_ub", "rule_h0_ub", "rule_out_ub", "rule_hn_ub"
    elif mod.batch_first:
        r_in, r_h0, r_out, r_hn = "rule_input_bf", "rule_h0", "rule_out_bf", "rule_hn"
    else:
        r_in, r_h0, r_out, r_hn = "rule_input_tm", "rule_h0", "rule_out_tm", "rule_hn"
    h0_shape = tuple(run.h_n.shape)  # h0 has h_n's shape, given or not
    ours = {
        "input": tuple(p.input.shape),
        "h0": h0_shape,
        "output": tuple(run.output.shape),
        "h_n": tuple(run.h_n.shape),
    }
    rows = [
        ["input", fmt_shape(ours["input"]), m(r_in)],
        ["h0", fmt_shape(ours["h0"]), m(r_h0)],
        ["output", fmt_shape(ours["output"]), m(r_out)],
        ["h_n", fmt_shape(ours["h_n"]), m(r_hn)],
    ]
    if c.kind == "lstm":
        rows.insert(2, ["c0", fmt_shape(h0_shape), m("rule_c0")])
        rows.append(["c_n", fmt_shape(tuple(run.c_n.shape)), m("rule_cn")])
    x, _ = p.to_kernel_layout()
    T, N = x.shape[0], x.shape[1]
    out: list[Block] = [
        Heading(2, m("sec_shapes")),
        Para(
            m(
                "shape_letters",
                L=T,
                N=N if p.batched else 1,
                I=mod.input_size,
                H=mod.hidden_size,
                D=p.num_dirs,
                nl=mod.num_layers,
            )
        ),
        Table(m.cols("shape_header"), rows),
    ]
    how = m("how_ub") if not p.batched else (m("how_bf") if mod.batch_first else "")
    out.append(Para(m("shape_kernel", shape=fmt_shape(x.shape), how=how)))
    if c.kind != "rnn":
        out += gate_blocks(c)
    if p.example is not None:
        claims = ", ".join(f"{k} {fmt_shape(v)}" for k, v in p.example.seed_shapes.items())
        mine = ", ".join(f"{k} {fmt_shape(ours[k])}" for k in p.example.seed_shapes)
        same = all(ours[k] == v for k, v in p.example.seed_shapes.items())
        out.append(
            CheckLine(
                m("seed_says", claims=claims, ours=mine),
                0.0 if same else 1.0,
                same,
                m("same"),
                m("different"),
            )
        )
    return out


def gate_blocks(c: Context) -> list[Block]:
    """How the stacked weights (G·H, F) split into one block of H rows per gate (PyTorch's order)."""
    m, mod = c.msg, c.problem.model
    H, G, I = mod.hidden_size, GATES[c.kind], mod.input_size
    names = GATE_NAMES[c.kind]
    rows = []
    for k, g in enumerate(names):
        sl = f"[{k * H}:{(k + 1) * H}]"
        rows.append(
            [
                f"{g} ({m('gate_' + g)})",
                f"weight_ih_l0{sl} = W_i{g} {fmt_shape((H, I))}",
                f"weight_hh_l0{sl} = W_h{g} {fmt_shape((H, H))}",
                f"bias_ih_l0{sl} = b_i{g}, bias_hh_l0{sl} = b_h{g}" if mod.bias else "—",
            ]
        )
    return [
        Para(m("split_intro", g=G, h=H, gh=G * H, i=I)),
        Table(m.cols("split_header"), rows),
        Para(m("split_layers"), note=True),
    ]


def relations_section(c: Context, rels: list[Relation]) -> list[Block]:
    """How h_n relates to output: which time step of which layer-direction each h_n[k] is."""
    m = c.msg
    dirs = [m("dir_fwd"), m("dir_rev")]
    rows = [[f"h_n[{r.k}]", str(r.layer), dirs[r.direction], r.where, f"{r.diff:.1e}"] for r in rels]
    out: list[Block] = [
        Heading(2, m("sec_relations")),
        Para(m("rel_intro")),
        Table(m.cols("rel_header"), rows),
    ]
    if any(not r.in_output for r in rels):
        out.append(Para(m("rel_lower"), note=True))
    if c.kind == "lstm":
        out.append(Para(m("rel_cn"), note=True))
    return out


def check_lines(c: Context, checks: list[Check], key: str) -> list[Block]:
    """One pass/fail line per check, with its largest difference."""
    m = c.msg
    return [CheckLine(f"{m(key, what=ch.what)}: {ch.diff:.3e}", ch.diff, ch.ok, m("ok"), m("fail")) for ch in checks]


def check_section(c: Context, checks: list[Check]) -> list[Block]:
    """The checks of the step-by-step trace against the module's own forward."""
    return [
        Heading(2, c.msg("sec_check")),
        Para(c.msg("check_intro")),
        *check_lines(c, checks, "check_line"),
    ]
