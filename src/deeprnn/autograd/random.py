"""Explicit randomness: ``Generator`` wraps a NumPy generator; ``manual_seed`` seeds the default one.

Every random function and every module initialiser takes ``generator=``; when it is None
they use ``default_generator``, the torch-style convenience that ``manual_seed`` reseeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Generator", "default_generator", "manual_seed", "resolve", "seed_of"]


class Generator:
    """A seedable source of random numbers whose state can be saved and restored exactly."""

    def __init__(self, seed: int | None = None) -> None:
        self.manual_seed(67280421310721 if seed is None else seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reset to the stream that ``seed`` starts."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expected an int seed, got {type(seed).__name__}")
        self._seed = int(seed)
        self.numpy = np.random.Generator(np.random.PCG64(self._seed & (2**128 - 1)))
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The full state, JSON-serialisable, for bit-identical resumption."""
        return {"seed": self._seed, "bit_generator": self.numpy.bit_generator.state}

    def set_state(self, state: dict) -> Generator:
        self._seed = int(state["seed"])
        self.numpy.bit_generator.state = state["bit_generator"]
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (``torch.manual_seed``); returns it."""
    return default_generator.manual_seed(seed)


def resolve(generator: Any) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (the default one when None)."""
    if generator is None:
        return default_generator.numpy
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"expected a deeprnn.Generator or numpy Generator, got {type(generator).__name__}")


def seed_of(generator: Any) -> int:
    """A fresh 63-bit seed drawn from generator (a Generator, a seed, or None for the global one)."""
    return resolve(generator).integers(0, 2**63 - 1)
