"""The ``deeprnn`` console script's entry point: the CLI, with Ctrl-C during start-up handled.

Importing ``deeprnn`` (NumPy and the package) takes a few tenths of a second, before
``deeprnn.cli.main`` can catch anything.  This module lives outside the package, so that
importing it imports nothing, and a Ctrl-C while the package loads ends with one line and
exit code 130 instead of a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

EXIT_INTERRUPTED = 130  # as deeprnn.cli.args.EXIT_INTERRUPTED: 128 + SIGINT


def main() -> int:
    """Import and run ``deeprnn.cli.main``; returns its exit code (130 when interrupted while loading)."""
    try:
        from deeprnn.cli import main as cli_main
    except KeyboardInterrupt:
        print("deeprnn: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
