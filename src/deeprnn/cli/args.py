"""What every ``deeprnn`` subcommand shares: exit codes, argument types and error reporting.

argparse turns the ValueError / ArgumentTypeError of an argument type into exit code 2, and
`Parser` prints it as one line (not the usage above it); a user error found later is reported
by `fail` as one line with exit code 1.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_ITERS = 3000


class CLIError(Exception):
    """A user error to report as one line (exit code 1)."""


class Parser(argparse.ArgumentParser):
    """argparse, with an error reported as one line naming the problem and where help is.

    (argparse prints the whole usage first: 17 lines for ``deeprnn train``, with the message last.)
    """

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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


def describe(e: BaseException) -> str:
    """One line for an error: its message, or for an OS error its reason and the file."""
    if isinstance(e, OSError) and e.strerror and str(e).startswith("[Errno"):  # OSError(errno, reason, file)
        return f"{str(e.filename)!r}: {e.strerror}" if e.filename else e.strerror
    if isinstance(e, MemoryError) and not str(e):
        return "out of memory"
    text = str(e) or type(e).__name__
    return " ".join(text.split())  # one line, whatever the message held


def fail(prog: str, message: str | BaseException) -> int:
    """Print ``prog: error: message`` on stderr as one line and return exit code 1."""
    text = describe(message) if isinstance(message, BaseException) else " ".join(message.split())
    print(f"{prog}: error: {text}", file=sys.stderr)
    return EXIT_ERROR


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input (or a machine that cannot do the work), reported as one line."""
    from ..data import DataError
    from ..models import CheckpointError

    return (
        CLIError,
        DataError,
        CheckpointError,
        ValueError,
        OSError,  # missing, unreadable or unwritable files, FIFOs, full disks
        MemoryError,  # the estimates' MemoryLimitError, and any allocation that fails anyway
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
