"""The ``deeprnn`` command line: a thin argparse layer over ``deeprnn.models`` and ``deeprnn.explain``.

    deeprnn train [TEXT] [options]        train an LSTM, GRU or RNN language model (no TEXT: embedded corpus)
    deeprnn sample --checkpoint PATH      print text sampled from a trained model
    deeprnn explain [EXAMPLE | options]   walk through an RNN's shapes, equations and gradients

Each subcommand is one module here with an ``add_<name>_command(subparsers)`` function that
registers its own parser and handler; adding a command means adding one function to ``COMMANDS``.
Bad input ends with a one-line message on stderr and exit code 1 (bad options: 2; Ctrl-C: 130,
during training after saving a checkpoint).  No traceback and no NumPy RuntimeWarning reaches
the terminal: the commands report what went wrong themselves.  Shared pieces are in ``args.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from .args import EXIT_INTERRUPTED, Parser
from .explain import add_explain_command
from .sample import add_sample_command
from .train import add_train_command

__all__ = [
    "main",
    "build_parser",
    "COMMANDS",
    "add_train_command",
    "add_sample_command",
    "add_explain_command",
]

COMMANDS: list[Callable[[Any], None]] = [add_train_command, add_sample_command, add_explain_command]


def build_parser() -> argparse.ArgumentParser:
    """The ``deeprnn`` argument parser, with one subparser per entry of ``COMMANDS``."""
    from .. import __version__

    parser = Parser(prog="deeprnn", description="Deep recurrent networks (RNN, LSTM, GRU) from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"deeprnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    Ctrl-C outside training (while reading a text, building a vocabulary, sampling) ends with
    one line and exit code 130; NumPy's RuntimeWarnings (overflow, invalid values) are not
    printed, since what they lead to is reported as an error of its own.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            args = build_parser().parse_args(argv)
            return args.handler(args)
    except BrokenPipeError:  # the reader went away (deeprnn sample | head): nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush does not fail again
        return 0
    except KeyboardInterrupt:
        command = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), "")
        print(
            f"deeprnn{' ' + command if command in ('train', 'sample', 'explain') else ''}: interrupted", file=sys.stderr
        )
        return EXIT_INTERRUPTED
