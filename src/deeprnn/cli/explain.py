"""``deeprnn explain [EXAMPLE | options]``: walk through an RNN's, LSTM's or GRU's shapes, equations
and gradients."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .args import CLIError, fail, non_negative_int, positive_float, positive_int, user_errors


def add_explain_command(sub: Any) -> None:
    """Register ``deeprnn explain`` and its options on the subparsers."""
    from ..explain import EXAMPLES, FORMATS, LANGS, LOSSES, MODES, ExplainConfig

    c = ExplainConfig()
    p = sub.add_parser(
        "explain",
        help="explain an RNN, LSTM or GRU step by step: shapes, equations, numbers and gradients",
        description="Walk through a (deep, bidirectional) Elman RNN, LSTM or GRU: every parameter and why "
        "it has its shape, every layer, direction and time step (every gate) with its numbers, how output "
        "and h_n relate, and with --backward the BPTT. Give a seed example, a configuration or a saved "
        f"state_dict (.npz). Examples: {', '.join(EXAMPLES)}.",
    )
    p.add_argument(
        "example", nargs="?", metavar="EXAMPLE", choices=list(EXAMPLES) + [None], help="a worked example from the seeds"
    )
    p.add_argument("--example", dest="example_opt", choices=list(EXAMPLES), help="same as EXAMPLE")
    p.add_argument(
        "--model",
        help="an nn.RNN, nn.LSTM or nn.GRU state_dict saved with numpy.savez (.npz); the kind is read from it",
    )
    net = p.add_argument_group("the network (when no example or model is given)")
    net.add_argument(
        "--mode",
        choices=MODES,
        help="the kind of network: rnn (nn.RNN, the default), lstm (nn.LSTM) or gru (nn.GRU); "
        "with --model it must agree with the state_dict",
    )
    net.add_argument("--input-size", type=positive_int, default=c.input_size, help="H_in (default: %(default)s)")
    net.add_argument("--hidden-size", type=positive_int, default=c.hidden_size, help="H_out (default: %(default)s)")
    net.add_argument("--num-layers", type=positive_int, default=c.num_layers, help="(default: %(default)s)")
    net.add_argument(
        "--nonlinearity", default=c.nonlinearity, help="tanh or relu, --mode rnn only (default: %(default)s)"
    )
    net.add_argument("--no-bias", action="store_true", help="no b_ih, b_hh")
    net.add_argument("--batch-first", action="store_true", help="input as (N, L, H_in)")
    net.add_argument("--bidirectional", action="store_true", help="add a reverse direction")
    net.add_argument("--seq-len", type=positive_int, default=c.seq_len, help="L (default: %(default)s)")
    batch = net.add_mutually_exclusive_group()
    batch.add_argument("--batch-size", type=positive_int, default=c.batch_size, help="N (default: %(default)s)")
    batch.add_argument("--unbatched", action="store_true", help="input as (L, H_in)")
    net.add_argument("--weight-scale", type=positive_float, help="scale the random weights")
    rep = p.add_argument_group("the report")
    rep.add_argument("--backward", action="store_true", help="also walk through BPTT")
    rep.add_argument("--loss", choices=LOSSES, default="sum", help="the loss for --backward (default: %(default)s)")
    rep.add_argument("--lang", choices=LANGS, default="en", help="en or zh (default: %(default)s)")
    rep.add_argument("--format", dest="fmt", choices=FORMATS, default="terminal", help="(default: %(default)s)")
    rep.add_argument("--output", help="write the report to this file (default: the terminal)")
    rep.add_argument("--pictures", help="write PNG pictures into this folder (needs deeprnn[plot])")
    rep.add_argument("--seed", type=non_negative_int, default=0, help="for the random weights and input")
    rep.add_argument("--max-steps", type=positive_int, default=8, help="time steps shown in full")
    rep.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    p.set_defaults(handler=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    """Handle ``deeprnn explain``: build the report and write it; returns the exit code."""
    from ..explain import EXAMPLES, ExplainConfig, explain, load_model
    from ..explain.problem import kind_of

    prog = "deeprnn explain"
    example = args.example or args.example_opt
    try:
        if example and args.model:
            raise CLIError("give either an example or --model, not both")
        batch_size = None if args.unbatched else args.batch_size
        if example:
            kind = EXAMPLES[example].config.mode
            if args.mode is not None and args.mode != kind:
                same = [n for n, e in EXAMPLES.items() if e.config.mode == args.mode]
                raise CLIError(
                    f"example {example!r} is an nn.{kind.upper()}, not --mode {args.mode}; "
                    f"expected an example of that kind: {', '.join(same)}"
                )
            what: Any = example
        elif args.model:
            what = load_model(args.model, nonlinearity=args.nonlinearity, batch_first=args.batch_first, mode=args.mode)
            kind = kind_of(what)
        else:
            kind = args.mode or "rnn"
            what = ExplainConfig(
                input_size=args.input_size,
                hidden_size=args.hidden_size,
                num_layers=args.num_layers,
                nonlinearity=args.nonlinearity,
                bias=not args.no_bias,
                batch_first=args.batch_first,
                bidirectional=args.bidirectional,
                seq_len=args.seq_len,
                batch_size=batch_size,
                weight_scale=args.weight_scale,
                mode=kind,
            )
        if kind != "rnn" and args.nonlinearity != "tanh":
            raise CLIError(
                f"--nonlinearity is for --mode rnn only (an nn.{kind.upper()} has fixed sigmoid and tanh gates), "
                f"got --nonlinearity {args.nonlinearity}"
            )
        report = explain(
            what,
            lang=args.lang,
            fmt=args.fmt,
            backward=args.backward,
            pictures_dir=args.pictures,
            color=False if args.no_color else None,
            seed=args.seed,
            out=args.output or sys.stdout,
            loss=args.loss,
            max_steps=args.max_steps,
            seq_len=args.seq_len,
            batch_size=batch_size,
        )
    except (*user_errors(), RuntimeError, TypeError, FloatingPointError) as e:
        return fail(prog, e)
    if args.output:
        print(f"wrote {args.output}" + (f" and pictures in {args.pictures}" if args.pictures else ""), file=sys.stderr)
    return 0 if report.ok else fail(prog, "the trace does not match the module (see the report)")
