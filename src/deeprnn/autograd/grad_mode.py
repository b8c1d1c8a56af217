"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``."""

from __future__ import annotations

import threading
from contextlib import ContextDecorator

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]

_state = threading.local()


def is_grad_enabled() -> bool:
    """True when operations record the graph that backward() walks (the default)."""
    return getattr(_state, "enabled", True)


def _set(enabled: bool) -> None:
    _state.enabled = bool(enabled)


class set_grad_enabled(ContextDecorator):
    """Context manager and decorator that turns graph recording on or off.

    Used as a function call it sets the mode at once, as ``torch.set_grad_enabled`` does.
    """

    def __init__(self, mode: bool) -> None:
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _set(self.mode)

    def __enter__(self) -> None:
        _set(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set(self.prev)


class no_grad(ContextDecorator):
    """Context manager and decorator under which no graph is recorded.

    Use it for inference and for in-place parameter updates, as in PyTorch.
    """

    def __enter__(self) -> None:
        self.prev = is_grad_enabled()
        _set(False)

    def __exit__(self, *exc: object) -> None:
        _set(self.prev)


class enable_grad(ContextDecorator):
    """Context manager and decorator that turns graph recording back on inside ``no_grad``."""

    def __enter__(self) -> None:
        self.prev = is_grad_enabled()
        _set(True)

    def __exit__(self, *exc: object) -> None:
        _set(self.prev)
