"""``set_detect_anomaly`` / ``detect_anomaly``: accepted, as torch's debugging switches.

torch's hint in the "modified by an inplace operation" error suggests them. Here they only
record the mode (``is_anomaly_enabled``): deeprnn's errors already name the tensor and its
versions, and no forward traceback is kept.
"""

from __future__ import annotations

from contextlib import ContextDecorator

__all__ = ["set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled"]

_mode = {"enabled": False}


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is switched on."""
    return _mode["enabled"]


class set_detect_anomaly(ContextDecorator):  # noqa: N801 - PyTorch's name
    """Switch anomaly detection on or off, at once or for a ``with`` block."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = _mode["enabled"]
        _mode["enabled"] = bool(mode)
        self.mode = bool(mode)

    def __enter__(self) -> None:
        _mode["enabled"] = self.mode

    def __exit__(self, *exc: object) -> None:
        _mode["enabled"] = self.prev


class detect_anomaly(set_detect_anomaly):  # noqa: N801 - PyTorch's name
    """``with detect_anomaly():`` switches anomaly detection on for the block."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = _mode["enabled"]
        self.mode = True
