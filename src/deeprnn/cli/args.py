"""What every ``deeprnn`` subcommand shares: exit codes, argument types and error reporting.

argparse turns the ValueError / ArgumentTypeError of an argument type into exit code 2;
a user error found later is reported by `fail` as one line with exit code 1.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
DEFAULT_ITERS = 3000


class CLIError(Exception):
    """A user error to report as one line (exit code 1)."""


def _int_at_least(low: int, what: str) -> Callable[[str], int]:
    def parse(s: str) -> int:
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {s!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {s}")
        return v

    return parse


positive_int = _int_at_least(1, "a positive integer")
non_negative_int = _int_at_least(0, "a non-negative integer")


def _number(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {s!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {s}")
    return v


def positive_float(s: str) -> float:
    """Argument type: a finite number > 0."""
    v = _number(s)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {s}")
    return v


def non_negative_float(s: str) -> float:
    """Argument type: a finite number >= 0."""
    v = _number(s)
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {s}")
    return v


def fraction(s: str) -> float:
    """Argument type: a number in [0, 1) (dropout, validation fraction)."""
    v = _number(s)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {s}")
    return v


def decay(s: str) -> float:
    """Argument type: a factor in (0, 1] (lr decay; 1 keeps the rate constant)."""
    v = _number(s)
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {s}")
    return v


def fail(prog: str, message: str) -> int:
    """Print ``prog: error: message`` on stderr and return exit code 1."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input, reported as one line."""
    from ..data import DataError
    from ..models import CheckpointError

    return (
        CLIError,
        DataError,
        CheckpointError,
        ValueError,
        FileNotFoundError,
        IsADirectoryError,
        PermissionError,
        ImportError,
        UnicodeError,
    )


def print_text(text: str) -> None:
    """Print text; on a terminal that cannot encode it (e.g. Chinese on ASCII), write UTF-8 bytes."""
    try:
        print(text)
    except UnicodeEncodeError:  # a terminal that cannot show e.g. Chinese: emit UTF-8 bytes
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8") + b"\n")
        sys.stdout.flush()
