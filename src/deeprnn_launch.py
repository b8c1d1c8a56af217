"""The ``deeprnn`` console script's entry point: the CLI, with Ctrl-C during start-up handled.

Importing ``deeprnn`` (NumPy and the package) takes a few tenths of a second, before
``deeprnn.cli.main`` can catch anything.  This module lives outside the package, so that
importing it imports nothing, and a Ctrl-C while the package loads ends with one line and
exit code 130 instead of a KeyboardInterrupt traceback.

A Ctrl-C inside a C extension's import does not always arrive as KeyboardInterrupt: NumPy turns
the failure of its own import into an ImportError ("PyCapsule_Import could not import module
'datetime'").  So while the package loads, SIGINT also sets a flag, and any exception raised after
it counts as the interruption; so does the flag alone, should a library catch the KeyboardInterrupt
and finish its import.  An import error without a Ctrl-C still shows its traceback.

A Ctrl-C can also land while Python runs a callback that cannot raise (importlib's module-lock
weakref callback): Python then hands the KeyboardInterrupt to ``sys.unraisablehook``, which prints
"Exception ignored in ..." with a traceback, and the import goes on.  While the package loads, that
hook drops a KeyboardInterrupt (the flag is already set) and passes anything else to the previous hook.
"""

from __future__ import annotations

import signal
import sys

__all__ = ["main"]

EXIT_INTERRUPTED = 130  # as deeprnn.cli.args.EXIT_INTERRUPTED: 128 + SIGINT

_interrupted = False  # a SIGINT arrived while the package was loading


def _on_sigint(signum, frame):
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def _dropping_interrupts(hook):
    """A sys.unraisablehook for the load: drops the KeyboardInterrupt of _on_sigint, passes the rest to hook."""

    def unraisable_while_loading(unraisable):
        if not (_interrupted and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            hook(unraisable)

    return unraisable_while_loading


def main() -> int:
    """Import and run ``deeprnn.cli.main``; returns its exit code (130 when interrupted while loading)."""
    global _interrupted
    try:
        # A process started with Ctrl-C ignored (nohup, a background job of a script) keeps ignoring it.
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_sigint)
        hook = sys.unraisablehook
        sys.unraisablehook = _dropping_interrupts(hook)
        try:
            from deeprnn.cli import main as cli_main
        finally:
            sys.unraisablehook = hook
            if previous is signal.default_int_handler:
                signal.signal(signal.SIGINT, previous)
    except BaseException as e:  # a KeyboardInterrupt, or e.g. NumPy's ImportError around the interrupt
        if not (_interrupted or isinstance(e, KeyboardInterrupt)):
            raise
        _interrupted = True
    if _interrupted:  # also when a library caught the KeyboardInterrupt and its import went on
        print("deeprnn: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
