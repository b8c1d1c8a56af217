"""Which implementation runs the time loops: NumPy, or the compiled loops of kernels/compiled.

    deeprnn.kernels.set_backend("numpy")    # or "numba", or "auto" (the default)
    DEEPRNN_KERNELS=numpy python train.py   # the same from the environment (read at the first call)

"auto" uses the compiled loops where they were measured to be faster and NumPy elsewhere; it is
NumPy everywhere when numba is not installed, without a warning.  "numba" forces the compiled
loops for every float32 and float64 call (the test suite runs the parity tests so); "numpy" forces
the NumPy loops.  A set_backend call wins over the environment.

The rule of "auto", from interleaved timings of the train step (forward + backward) on a 2-core
AMD EPYC (see README, Benchmarks): the compiled loop runs each step's product in one thread,
while NumPy's BLAS uses the cores and wins once a step's product is large, so the compiled loops
are used for a batch of at most

    MAX_BATCH[kind]   rows, for every hidden size H
"""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import numpy as np

__all__ = ["set_backend", "get_backend", "numba_available", "use_compiled", "MAX_BATCH"]

BACKENDS = ("auto", "numpy", "numba")
ENV_VAR = "DEEPRNN_KERNELS"
# The largest batch N at which "auto" takes the compiled loops (see the module docstring).
MAX_BATCH = {"rnn": 4, "lstm": 8, "gru": 8}
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_chosen: str | None = None  # set_backend's choice; None: the environment's, read at the first call
_numba: bool | None = None


def numba_available() -> bool:
    """True when numba can be imported (checked once, without importing it)."""
    global _numba
    if _numba is None:
        _numba = importlib.util.find_spec("numba") is not None
    return _numba


def _check(name: object, source: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"{source} must be one of {', '.join(map(repr, BACKENDS))}, got {name!r}")
    if name == "numba" and not numba_available():
        raise ModuleNotFoundError(
            f"{source} = 'numba' needs numba, which is not installed: pip install deeprnn[fast] (or pip install numba)"
        )
    return name  # type: ignore[return-value]


def set_backend(name: str) -> None:
    """Choose the time loops: "auto" (compiled where faster, if numba is installed), "numpy" or "numba"."""
    global _chosen
    _chosen = _check(name, "the kernel backend")


def get_backend() -> str:
    """The backend in force: set_backend's choice, else $DEEPRNN_KERNELS, else "auto"."""
    if _chosen is not None:
        return _chosen
    return _check(os.environ.get(ENV_VAR, "auto") or "auto", ENV_VAR)


def use_compiled(kind: str, batch: int, hidden: int, dtype: np.dtype) -> bool:
    """Whether a layer-direction of this kind, batch size N and hidden size H runs the compiled loops."""
    backend = get_backend()
    if backend == "numpy" or np.dtype(dtype) not in _DTYPES:
        return False
    if backend == "numba":
        return True
    return numba_available() and batch <= MAX_BATCH[kind]


def compiled_module(kind: str) -> ModuleType:
    """The module of kernels/compiled for this kind (importing it imports numba)."""
    return importlib.import_module(f"{__package__}.compiled.{kind}")
