"""``deeprnn.backends.cudnn``: ``enabled``, ``benchmark`` and ``deterministic`` can be set, as in torch;
they change nothing here (there is no cuDNN), and ``is_available()`` is False."""

from __future__ import annotations

__all__ = ["enabled", "benchmark", "deterministic", "is_available", "version"]

enabled = True
benchmark = False
deterministic = False


def is_available() -> bool:
    """False: no cuDNN."""
    return False


def version() -> None:
    """None: no cuDNN."""
    return None
