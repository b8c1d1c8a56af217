"""``explain``: walk through an Elman RNN's, an LSTM's or a GRU's computation, step by step, and
check every number.

>>> from deeprnn.explain import explain, ExplainConfig
>>> report = explain("two-layer", lang="zh", backward=True)        # a seed's worked example
>>> report = explain(ExplainConfig(3, 4, num_layers=2, bidirectional=True), fmt="html",
...                  pictures_dir="pics", out="report.html")
>>> report = explain(ExplainConfig(3, 4, mode="lstm"), backward=True)   # nn.LSTM; "gru": nn.GRU
>>> report = explain(my_rnn)                       # an nn.RNN/LSTM/GRU, or a state_dict path
>>> print(report)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from ..fileio import atomic_write_text
from ..nn.rnn_base import RNNBase
from .blocks import Block, Heading
from .bptt import LOSSES, BackwardTrace, trace_backward
from .bptt_gates import trace_backward_gates
from .checks import Check, Relation, backward_checks, forward_checks, relations, run_module
from .config import GATES, ExplainConfig, check_footprint
from .messages import LANGS, Messages
from .problem import Problem, make_problem
from .render_html import render_html
from .render_markdown import render_markdown
from .render_terminal import render_terminal, use_color
from .sections import (
    Context,
    check_lines,
    check_section,
    configuration,
    equation,
    intro,
    parameters,
    relations_section,
    shapes,
)
from .steps import backward_section, forward_section
from .steps_gates import backward_gates_section, forward_gates_section
from .trace import ForwardTrace, trace_forward
from .trace_gates import trace_forward_gates

__all__ = ["explain", "Report", "FORMATS"]

FORMATS = ("terminal", "markdown", "html")


@dataclass
class Report:
    """The rendered report and every number behind it.

    ``str(report)`` is the text; ``max_forward_diff`` / ``max_backward_diff`` are the largest
    differences between the step-by-step trace and the module.
    """

    text: str
    fmt: str
    lang: str
    blocks: list[Block]
    problem: Problem
    forward: ForwardTrace
    forward_checks: list[Check]
    relations: list[Relation]
    backward: BackwardTrace | None = None
    backward_checks: list[Check] = field(default_factory=list)
    pictures: list[Path] = field(default_factory=list)

    @property
    def max_forward_diff(self) -> float:
        return max(c.diff for c in self.forward_checks)

    @property
    def max_backward_diff(self) -> float | None:
        return max(c.diff for c in self.backward_checks) if self.backward_checks else None

    @property
    def ok(self) -> bool:
        """Every check passed (trace = module, and the output/h_n relations hold)."""
        return all(c.ok for c in self.forward_checks + self.backward_checks) and all(r.ok for r in self.relations)

    def __str__(self) -> str:
        return self.text


def _check_options(lang: str, fmt: str, loss: str, seed: object, max_steps: object) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {sorted(LANGS)}, got {lang!r}")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
        raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")


def _check_folder(path: Path) -> None:
    """Fail now, not after the work, if the pictures folder cannot be made or written."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"pictures folder {str(path)!r}: {str(existing)!r} is a file, expected a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"pictures folder {str(path)!r}: {str(existing)!r} is not writable")


def explain(
    what: ExplainConfig | RNNBase | str | os.PathLike | None = None,
    *,
    lang: str = "en",
    fmt: str = "terminal",
    backward: bool = False,
    pictures_dir: str | os.PathLike | None = None,
    color: bool | None = None,
    seed: int = 0,
    out: str | os.PathLike | TextIO | None = None,
    loss: str = "sum",
    max_steps: int = 8,
    seq_len: int = 4,
    batch_size: int | None = 2,
    input=None,  # noqa: A002 - nn.RNN's name
    hx=None,
) -> Report:
    """Explain an Elman RNN, LSTM or GRU step by step, check the numbers against the module
    (nn.RNN, nn.LSTM, nn.GRU), and render a report.

    Args:
        what: an ExplainConfig (``mode`` 'rnn', 'lstm' or 'gru'); an nn.RNN, nn.LSTM or nn.GRU (its
            weights are used, copied to float64; no proj_size); the path of a saved state_dict
            (.npz from numpy.savez, or .pt/.pth; the kind is read from the shapes); an example
            name from ``EXAMPLES`` ('two-layer', 'two-layer-lstm', 'two-layer-gru', ...);
            None: ExplainConfig().
        lang: 'en' or 'zh'.
        fmt: 'terminal' (aligned text, ANSI colours), 'markdown' or 'html' (self-contained).
        backward: also walk through BPTT for `loss` and check every gradient.
        pictures_dir: write the PNG pictures there (needs matplotlib: pip install "deeprnn[plot]").
        color: ANSI colours in the terminal format; None: only when the output is a TTY and NO_COLOR
            is unset.
        seed: draws the weights (configurations) and the random data.
        out: a path or an open text stream to write the report to; None writes nothing.
        loss: 'sum' (L = sum(output)) or 'last' (L = sum of the output at the last time step).
        max_steps: time steps printed per layer and direction (all are computed and checked).
        seq_len, batch_size: the data shape for a model or state_dict (batch_size None: unbatched).
        input, hx: optional data (module layout) to use instead of random data; an LSTM's hx is
            the pair (h0, c0).

    Raises the module's own exceptions for a bad configuration or input (the module is
    constructed and called first).
    """
    _check_options(lang, fmt, loss, seed, max_steps)
    if pictures_dir is not None:
        _check_folder(Path(pictures_dir))
    c = what
    sizes = (
        (c.input_size, c.hidden_size, c.num_layers, c.seq_len, c.batch_size or 1)
        if isinstance(c, ExplainConfig)
        else ()
    )
    if sizes and all(isinstance(v, int) and v >= 1 for v in sizes):  # else the module reports them
        # Refused before the module allocates its weights.
        gates = GATES.get(c.mode, 1)
        check_footprint(*sizes[:3], 2 if c.bidirectional else 1, *sizes[3:], backward, gates)
    problem = make_problem(what, seed=seed, seq_len=seq_len, batch_size=batch_size, input=input, hx=hx)
    m = problem.model
    gates = GATES[problem.kind]
    check_footprint(m.input_size, m.hidden_size, m.num_layers, problem.num_dirs, *problem.sizes, backward, gates)
    run = run_module(problem, loss if backward else None)  # the module validates the data first
    numbers = [run.output, run.h_n, *run.grads.values()]
    if not all(np.isfinite(a).all() for a in numbers):
        w = max(float(np.abs(p._data).max()) for p in problem.model.parameters())
        raise FloatingPointError(
            f"the network's numbers overflow to inf or NaN (largest |weight| {w:.3g}, input up to "
            f"{float(np.abs(problem.input).max()):.3g}): nothing to explain; use smaller weights (--weight-scale)"
        )
    x, h0 = problem.to_kernel_layout()
    weights = problem.weights()
    mod = problem.model
    if problem.kind == "rnn":
        fwd = trace_forward(x, h0, weights, mod.nonlinearity, mod.num_layers, problem.num_dirs)
        bt = trace_backward(fwd, weights, loss) if backward else None
    else:
        c0 = problem.c0_kernel_layout()
        fwd = trace_forward_gates(problem.kind, x, h0, c0, weights, mod.num_layers, problem.num_dirs)
        bt = trace_backward_gates(fwd, weights, loss) if backward else None
    f_checks = forward_checks(fwd, problem, run)
    rels = relations(fwd, problem, run)
    b_checks = backward_checks(bt, problem, run) if bt is not None else []

    msg = Messages(lang, mod=problem.module_name)
    scale = what.weight_scale if isinstance(what, ExplainConfig) else None
    ctx = Context(problem, fwd, run, msg, seed, max_steps=max_steps, weight_scale=scale)
    blocks: list[Block] = [
        *intro(ctx),
        *configuration(ctx),
        *equation(ctx),
        *parameters(ctx),
        *shapes(ctx),
        *(forward_section(ctx) if problem.kind == "rnn" else forward_gates_section(ctx)),
        *relations_section(ctx, rels),
        *check_section(ctx, f_checks),
    ]
    if bt is not None:
        back = backward_section(ctx, bt) if problem.kind == "rnn" else backward_gates_section(ctx, bt)
        blocks += [*back, *check_lines(ctx, b_checks, "check_grad")]
    pictures: list[Path] = []
    if pictures_dir is not None:
        from .pictures import write_pictures  # matplotlib is optional: imported only when asked for

        pics = write_pictures(problem, fwd, msg, Path(pictures_dir), seed=seed)
        pictures = [p.path for p in pics]
        blocks += [Heading(2, msg("sec_pictures")), *pics]

    stream = out if hasattr(out, "write") else None
    if fmt == "terminal":
        default_stream = stream if stream is not None else (sys.stdout if out is None else None)
        text = render_terminal(blocks, color=use_color(color, default_stream))
    elif fmt == "markdown":
        base = Path(out).resolve().parent if out is not None and stream is None else None
        text = render_markdown(blocks, base_dir=base)
    else:
        text = render_html(blocks, lang=lang)
    if stream is not None:
        stream.write(text)
    elif out is not None:
        atomic_write_text(out, text)
    return Report(text, fmt, lang, blocks, problem, fwd, f_checks, rels, bt, b_checks, pictures)
