"""Which implementation runs the time loops: NumPy, or the compiled loops of kernels/compiled.

    deeprnn.kernels.set_backend("numpy")    # or "numba", or "auto" (the default)
    DEEPRNN_KERNELS=numpy python train.py   # the same from the environment (read at the first call)

"auto" uses the compiled loops where they were measured to be faster and NumPy elsewhere; it is
NumPy everywhere when numba is not installed, without a warning.  "numba" forces the compiled
loops for every float32 and float64 call (the test suite runs the parity tests so); "numpy" forces
the NumPy loops.  A set_backend call wins over the environment.

The rule of "auto": the compiled loops for a layer-direction of batch N and hidden size H when

    N <= 16  and  N * H * H <= MAX_WORK[kind]      (2**17 for the RNN, 2**18 for the LSTM and GRU)

e.g. the RNN at H = 64 up to N = 16, H = 128 up to N = 8, H = 256 up to N = 2, H = 362 at N = 1;
the LSTM and GRU at H <= 128 up to N = 16 and H = 256 up to N = 4.  Above, where one step's
product is large enough for BLAS to beat a hand-written single-threaded loop, each step's product
runs in NumPy's BLAS and the rest of the step compiled (the step twins, below).  Measured on the
train step of nn.RNN / nn.LSTM / nn.GRU (T = 50, I = 65, float32; CPU time with one BLAS thread,
min of 5-7 interleaved rounds on a shared 2-core AMD EPYC), NumPy time / compiled time:

    RNN     N:  1     2     4     8     16    32
    H = 64     2.35  2.25  1.58  1.20  1.09  0.95
    H = 128    1.70  1.47  1.28  1.02  0.89  0.86
    H = 256    1.27  1.00  1.03  0.91  1.07  0.91

    LSTM    N:  1     4     8     16    32        GRU    N:  1     4     8     16    32
    H = 64     2.29  1.73  1.29  1.09  0.94       H = 64    2.02  2.05  1.83  1.44  1.09
    H = 128    1.60  1.22  1.02  1.12  0.90       H = 128   1.77  1.24  1.14  0.98  1.19
    H = 256    1.14  1.35  1.25  1.09  0.98       H = 256   1.25  1.37  1.29  1.08  0.89

The bound on N * H * H is tighter than these CPU times alone ask for, because NumPy's BLAS runs
a large enough product on both cores while the compiled loop uses one.
"""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import numpy as np

__all__ = ["set_backend", "get_backend", "numba_available", "use_compiled", "kind_for", "MAX_ROWS", "MAX_WORK"]

BACKENDS = ("auto", "numpy", "numba")
ENV_VAR = "DEEPRNN_KERNELS"
# "auto" takes the compiled loops for at most MAX_ROWS rows and N * H * H <= MAX_WORK[kind].
MAX_ROWS = 16
MAX_WORK = {"rnn": 2**17, "lstm": 2**18, "gru": 2**18}
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
    return numba_available() and batch <= MAX_ROWS and batch * hidden * hidden <= MAX_WORK[kind]


def compiled_module(kind: str) -> ModuleType:
    """The module of kernels/compiled for this kind (importing it imports numba)."""
    return importlib.import_module(f"{__package__}.compiled.{kind}")


# PyTorch's mode of each kind -> the name of its compiled module; the compiled twins, made once.
_MODULE_OF_MODE = {"RNN_TANH": "rnn", "RNN_RELU": "rnn", "LSTM": "lstm", "GRU": "gru"}
_twins: dict = {}


def kind_for(kind, batch: int, hidden: int, dtype: np.dtype):
    """The kind whose time loops run a layer-direction: `kind` itself (NumPy) or a compiled twin.

    The twin (kernels/compiled/<kind>.py) is a subclass with the same buffers and contracts whose
    forward_steps and backward_steps run compiled where `use_compiled` says so; under "auto", where
    it does not, every kind still gets a twin (loops=False) whose steps are compiled but for their
    products, which stay in BLAS.  The stack calls whichever it is given.
    """
    name = _MODULE_OF_MODE[kind.mode]
    loops = use_compiled(name, batch, hidden, dtype)
    if not loops and not (name in _STEP_TWINS and get_backend() == "auto" and _compiled_dtype(dtype)):
        return kind
    twin = _twins.get((kind.mode, loops))
    if twin is None:
        twin = _twins[kind.mode, loops] = compiled_module(name).compiled_twin(kind, loops=loops)
    return twin


# The kinds whose twin also has a form for batches too large for the compiled loops (loops=False):
# the time loop stays in Python and each step's product in NumPy's BLAS, while the rest of each step
# (2-12 NumPy calls) and, for the LSTM and GRU, the backward preparation (10-14 NumPy passes over
# strided gate columns) run as one compiled call each.  "auto" takes it wherever it does not take
# the compiled loops.
_STEP_TWINS = ("rnn", "lstm", "gru")


def _compiled_dtype(dtype) -> bool:
    return numba_available() and np.dtype(dtype) in _DTYPES
