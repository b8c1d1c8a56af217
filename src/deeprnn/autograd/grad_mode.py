"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``."""

from __future__ import annotations

import functools
import threading
from contextlib import ContextDecorator
from typing import Any

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
]

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


class _Decorator(ContextDecorator):
    """A context manager that also decorates, with or without parentheses (``@no_grad`` or ``@no_grad()``)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs and not isinstance(args[0], bool):
            return cls()(args[0])  # used bare: @no_grad
        return super().__new__(cls)


class no_grad(_Decorator):
    """Context manager and decorator under which no graph is recorded.

    Use it for inference and for in-place parameter updates, as in PyTorch.
    """

    def __enter__(self) -> None:
        self.prev = is_grad_enabled()
        _set(False)

    def __exit__(self, *exc: object) -> None:
        _set(self.prev)


class enable_grad(_Decorator):
    """Context manager and decorator that turns graph recording back on inside ``no_grad``."""

    def __enter__(self) -> None:
        self.prev = is_grad_enabled()
        _set(True)

    def __exit__(self, *exc: object) -> None:
        _set(self.prev)


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return getattr(_state, "inference", False)


class inference_mode(_Decorator):
    """``no_grad`` for inference (torch's faster variant; here the same as ``no_grad``)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.prev = (is_grad_enabled(), is_inference_mode_enabled())
        if self.mode:
            _set(False)
        _state.inference = self.mode

    def __exit__(self, *exc: object) -> None:
        _set(self.prev[0])
        _state.inference = self.prev[1]

    def __call__(self, func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(self.mode):
                return func(*args, **kwargs)

        return wrapper
