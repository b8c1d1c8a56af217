"""Exceptions raised by :mod:`deeprnn.data`."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """Invalid input to the data layer (bad text, bad ids, bad sizes, bad state).

    A :class:`ValueError`, so ``except ValueError`` catches it too. The message
    always says what was expected and what was received.
    """
