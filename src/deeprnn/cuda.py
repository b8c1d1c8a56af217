"""``deeprnn.cuda``: what ``torch.cuda`` answers on a build without CUDA (deeprnn runs on the CPU)."""

from __future__ import annotations

from typing import Any

from .autograd.device import CUDA_MESSAGE

__all__ = [
    "is_available",
    "device_count",
    "current_device",
    "manual_seed",
    "manual_seed_all",
    "synchronize",
    "empty_cache",
    "is_initialized",
]


def is_available() -> bool:
    """False: there is no GPU here."""
    return False


def device_count() -> int:
    """0 GPUs."""
    return 0


def is_initialized() -> bool:
    """False: CUDA is never initialised."""
    return False


def current_device() -> int:
    """Raises torch's AssertionError, as a CPU-only torch does."""
    raise AssertionError(CUDA_MESSAGE)


def synchronize(device: Any = None) -> None:
    """Raises torch's AssertionError, as a CPU-only torch does."""
    raise AssertionError(CUDA_MESSAGE)


def manual_seed(seed: int) -> None:
    """Accepted and ignored (no GPU generator to seed), as in torch without CUDA."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored (no GPU generator to seed), as in torch without CUDA."""


def empty_cache() -> None:
    """Nothing to free."""
