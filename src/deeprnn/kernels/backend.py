"""Which implementation runs the time loops: NumPy, or the compiled loops of kernels/compiled.

    deeprnn.kernels.set_backend("numpy")    # or "numba", or "auto" (the default)
    DEEPRNN_KERNELS=numpy python train.py   # the same from the environment (read at every call)

"auto" uses the compiled loops where they were measured to be faster and NumPy elsewhere; it is
NumPy everywhere when numba is not installed, without a warning.  "numba" forces the compiled
loops for every float32 and float64 call (the test suite runs the parity tests so); "numpy" forces
the NumPy loops.  A set_backend call wins over the environment.

The rule of "auto": the compiled loops for a layer-direction of batch N and hidden size H when

    N = 1:        H <= MAX_H1[kind]            (640 for the RNN, 352 for the LSTM, 384 for the GRU)
    2 <= N <= 4:  H <= MAX_SMALL_H = 1024
    5 <= N <= 16: N * H <= MAX_CELLS[kind]     (2048 for the RNN, 1024 for the LSTM and GRU)

and the step twin above (each step's product in NumPy's BLAS, the rest of the step compiled; see
_STEP_TWINS below), where one step's product is large enough for BLAS on both cores to beat the
hand-written single-threaded loop.  Measured on the train and inference steps of a one-layer
nn.RNN / nn.LSTM / nn.GRU (T = 50, I = 65, float32, wall time, BLAS on 2 threads, min of 5
interleaved rounds; 2-core AMD EPYC Zen 3, 2026-12-02), twin time / compiled time, train/infer
(above 1 the compiled loops are faster):

    RNN     N:  2          4          8          16         32
    H = 64     1.65/1.86  1.41/1.64  1.23/1.36  1.06/1.11  0.93/0.95
    H = 128    1.74/1.99  1.48/1.65  1.22/1.31  1.01/1.03  0.79/0.77
    H = 256    2.03/2.44  1.65/1.90  1.07/1.22  0.81/0.80  0.69/0.66
    LSTM
    H = 64     1.51/1.61  1.29/1.47  1.16/1.32  1.00/1.12  0.82/0.91
    H = 128    1.99/2.38  1.50/1.70  0.99/1.25  0.78/0.89  0.68/0.74
    H = 256    1.72/2.05  1.53/1.85  0.71/0.68  0.69/0.66  0.60/0.58
    GRU
    H = 64     1.66/1.82  1.34/1.50  1.16/1.31  0.98/1.08  0.88/0.94
    H = 128    1.91/2.24  1.50/1.77  1.15/1.34  0.81/0.90  0.71/0.77
    H = 256    1.81/2.29  1.68/1.96  0.95/1.05  0.70/0.75  0.64/0.65

and at T = 25: at N = 2-4 the compiled loops are faster up to H = 1024 (LSTM 1.04-1.71, GRU
1.20-1.88, RNN 1.33-1.99, H = 384-1024: at 2-4 rows OpenBLAS's GEMM runs far below its speed at 8
or more);
at N = 1 the twin (a GEMV on both cores) is faster from H = 384 for the LSTM (0.91/0.94 there,
1.06/1.16 at H = 256 and 1.13/1.22 at 320), from about H = 448 for the GRU (0.80/1.01; 1.12/1.10
at 384) and from about H = 768 for the RNN (1.00/0.91; 1.05/1.08 at 640).

Except where NumPy's OpenBLAS runs its SkylakeX kernels (AVX-512 processors: `small_gemm`,
kernels/blas_library.py): their GEMM has a path for small matrices, without packing, up to
N x (GATES H) x H = 100^3 multiply-adds.  There, at 2-16 rows and float32, every layer-direction
whose step product is that small takes the step twin, whose compiled loops call that GEMM
(compiled/_blas.py); the rule above decides the rest.  Measured so (`python
benchmarks/backend_rule.py`, twin time / compiled-loop time, train/infer, min of 7 rounds; 2-core
AMD EPYC Zen 4, OpenBLAS SkylakeX, 2026-12-03):

    RNN     N:  2          4          8          16
    H = 64     0.91/0.94  0.87/0.87  0.80/0.76  0.76/0.69
    H = 128    0.83/0.81  0.85/0.79  0.79/0.72  0.74/0.75
    H = 256    0.91/0.80  0.89/0.81  0.83/0.76  1.24/1.16    (16 x 256 x 256 > 100^3)
    LSTM
    H = 64     0.93/0.96  0.91/0.93  0.88/0.90  0.83/0.94
    H = 128    0.84/0.87  0.84/0.84  0.85/0.79  1.04/1.03    (16 x 512 x 128 > 100^3)
    H = 256    0.89/1.03  1.14/1.16                          (4 x 1024 x 256 > 100^3)
    GRU
    H = 64     0.90/0.86  0.92/0.96  0.87/0.90  0.84/0.86
    H = 128    0.83/0.78  0.90/0.87  0.85/0.89  0.82/0.81
    H = 256    0.75/0.65  0.87/0.82

At N = 2-4, H = 384-1024 the twin wins within the bound (RNN 0.66-1.01, GRU at N = 2, H = 384:
0.79/0.91) and loses beyond it (LSTM 1.02-2.03, RNN 0.97-1.69, GRU 0.91-1.68; below 1 only at
N = 3, whose last row the hand-written loop runs alone).

With the packed product (compiled/_gemm.py, where the processor has AVX-512: `packed_product`),
the compiled loops run each step's product on W_hh packed once per call into column panels, with a
register-blocked kernel that reached OpenBLAS's two-core speed on one core at these sizes.  That
moves the bounds: at 2-16 rows the compiled loops while N x GATES H x H <= 2^23 multiply-adds a
step, at 17-32 rows while it is <= 2^22 (PACKED_WORK), the twin beyond; batch 1 keeps MAX_H1.
Measured so (`python benchmarks/backend_rule.py --rounds 9`, twin time / packed-loop time,
train/infer, min of 9 rounds; 2-core AMD EPYC Zen 4, 2026-12-03; results/backend_rule_zen4_packed.json):

    RNN     N:  2          4          8          16         24         32         48         64
    H = 128    1.01/1.14  0.95/1.00  0.99/1.06  0.98/1.05  1.02/1.00  1.03/1.04  0.99/0.97  1.33/1.36
    H = 256    0.92/1.05  0.99/0.98  1.01/1.01  1.34/1.54  1.16/1.23  1.19/1.22  1.07/1.15  0.97/0.92
    H = 512    0.96/1.14  1.58/1.79  1.23/1.37  1.12/1.16  1.02/1.05  1.00/0.96  1.02/0.97  0.94/0.86
    LSTM
    H = 128    1.11/1.17  1.02/1.03  1.05/1.03  1.34/1.16  1.22/1.11  1.11/1.13  1.11/1.07  1.09/1.05
    H = 256    1.15/1.29  1.80/2.28  1.37/1.64  1.23/1.24  1.03/0.99  0.96/0.92  1.00/0.97  0.82/0.71
    H = 512    2.71/3.93  1.85/2.52  1.19/1.28  0.94/0.96  0.86/0.81  0.83/0.80  0.91/0.84  0.84/0.76
    GRU
    H = 128    1.05/1.46  1.09/1.10  0.96/1.10  1.02/1.05  1.17/1.12  1.16/1.08  1.11/1.01  1.06/1.12
    H = 256    1.15/1.14  1.03/1.11  1.30/1.31  1.21/1.21  1.06/1.03  0.97/0.85  0.87/0.81  0.98/0.91
    H = 512    2.25/2.89  1.68/1.86  1.24/1.35  1.07/1.04  0.99/0.92  0.95/0.90  0.90/0.82  0.81/0.69

(at H = 64 every entry is 0.89-1.15).  The SkylakeX small-matrix rule above, measured against the
hand-written product, applies only without the packed product.

With the shared thread pool (compiled/_pool.py: numba's OpenMP threads, which OpenBLAS's own calls
also run on through its threads callback), the compiled loops of every kind split a batch of 4-64
rows into one part per core (`split_parts`), and each part runs its own loop with the packed product,
with the same bits (the hand-written product's loops split as exactly, but keep one core: not measured
where they run, compiled/_product.py).  Then "auto" takes the compiled loops while a part has at
most MAX_ROWS rows (SPLIT_KINDS, MAX_SPLIT_ROWS), at any hidden size.  Measured so (T = 25-50,
float32, min of 15 calls, the split loops against the rule without the split, ms):

    2-core AMD EPYC Zen 4, 2026-12-04, LSTM, one layer: inference N = 32, H = 512: 23.1 against
    40.7; N = 64, H = 1024: 131 against 148; training N = 32, H = 512: 68.0 against 90.5.
    2-core Intel Xeon (AVX-512), 2026-12-06, two layers, N = 32, inference / training:
    LSTM H = 128: 5.0 / 17.4 against 7.7 / 22.3;   H = 512: 59.7 / 179 against 74.6 / 207
    GRU  H = 512: 47-52 / 139-141 against 62-65 / 161-163;  bidirectional H = 256: 29-30 / 99-101
         against 39-40 / 115-118;  N = 64, H = 1024, one layer, T = 25: 93 / 212-221 against 101 / 220-224
    RNN  H = 512: 13-14 / 43 against 18 / 52;  N = 64, H = 1024: 21-22 / 58-64 against 21 / 62-64

The pool is on wherever it installs (DEEPRNN_POOL=off, or deeprnn.kernels.set_thread_pool(False),
turns it off, and the bounds above apply again); its callback compiles in about 1.3 s, once per
process, at the first split.

The batch-1 sampler (models/generate.py) has its own bound, `use_compiled_sampler`: it runs its
whole step compiled (every layer, the head, the softmax and the draw) or all of it in NumPy, so
its bound is the one measured against NumPy's own loops (NumPy time / compiled time at N = 1, CPU
time, one BLAS thread, a shared 2-core AMD EPYC: RNN H = 64: 2.35, 128: 1.70, 256: 1.27; LSTM
2.29, 1.60, 1.14; GRU 2.02, 1.77, 1.25): H * H <= SAMPLER_MAX_WORK[kind] (2**17 for the RNN,
2**18 for the LSTM and GRU).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

import numpy as np

from . import blas_library
from .blas_library import SMALL_GEMM_CORES, SMALL_GEMM_WORK

__all__ = [
    "set_backend",
    "get_backend",
    "numba_available",
    "use_compiled",
    "kind_for",
    "use_compiled_sampler",
    "small_gemm",
    "packed_product",
    "PACKED_WORK",
    "SPLIT_KINDS",
    "MAX_SPLIT_ROWS",
    "split_parts",
    "set_thread_pool",
    "MAX_ROWS",
    "MAX_H1",
    "MAX_SMALL_H",
    "MAX_CELLS",
    "SAMPLER_MAX_WORK",
]

BACKENDS = ("auto", "numpy", "numba")
ENV_VAR = "DEEPRNN_KERNELS"
# "auto" takes the compiled loops for at most MAX_ROWS rows: at one row for H <= MAX_H1[kind],
# at 2-4 rows for H <= MAX_SMALL_H, at 5-16 rows for N * H <= MAX_CELLS[kind] (the module docstring).
MAX_ROWS = 32  # the most rows "auto" gives one compiled loop (32 with the packed product, else 16; a split
# loop of SPLIT_KINDS takes up to MAX_SPLIT_ROWS, MAX_ROWS a part)
HAND_MAX_ROWS = 16
# With the packed product (AVX-512): the compiled loops for 2-16 rows while N * GATES * H^2 <= 2^23
# multiply-adds a step, for 17-32 rows while it is <= 2^22 (the module docstring's second table).
PACKED_WORK = ((16, 2**23), (32, 2**22))
# The kinds whose compiled loops split a batch's rows over the shared thread pool (compiled/_pool.py),
# and the most rows "auto" gives them so: with the split, the compiled loops beat the step twin at the
# sizes measured up to N = 64, H = 1024, or tie (the module docstring).
SPLIT_KINDS = frozenset({"rnn", "lstm", "gru"})
MAX_SPLIT_ROWS = 64
MAX_H1 = {"rnn": 640, "lstm": 352, "gru": 384}
MAX_SMALL_H = 1024
MAX_CELLS = {"rnn": 2048, "lstm": 1024, "gru": 1024}
SAMPLER_MAX_WORK = {"rnn": 2**17, "lstm": 2**18, "gru": 2**18}  # the sampler's bound on H * H
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_chosen: str | None = None  # set_backend's choice; None: the environment's, read at every call
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


# $DEEPRNN_KERNELS as os.environ holds it (CPython's os._Environ keeps its raw mapping in `_data`, keyed by
# encodekey(name)): one dict lookup, where os.environ.get runs four Python frames and, for an unset name, a
# KeyError.  get_backend runs several times in every recurrent call, with the interpreter's caches cold
# after the time loops: reading it so took the batch-1 RNN train step at T = 25, H = 200 from 454-458 to
# 430-434 us (Intel Xeon, 2026-12-07).  A changed variable is still seen at the next call.
_ENVIRON = os.environ
_ENV_DATA = getattr(os.environ, "_data", None)
_ENV_KEY = os.environ.encodekey(ENV_VAR) if hasattr(os.environ, "encodekey") else None
_env_last: tuple = (object(), "auto")  # (the raw value last read, the backend it names)


def _environment_backend() -> str:
    """$DEEPRNN_KERNELS's backend ("auto" when unset or empty), checked as set_backend checks its argument."""
    global _env_last
    if _ENV_DATA is None or _ENV_KEY is None or os.environ is not _ENVIRON:
        return _check(os.environ.get(ENV_VAR, "auto") or "auto", ENV_VAR)
    raw = _ENV_DATA.get(_ENV_KEY)
    last_raw, last_name = _env_last
    if raw is last_raw:
        return last_name
    value = "auto" if raw is None else (os.environ.decodevalue(raw) or "auto")
    name = _check(value, ENV_VAR)  # a bad value raises at every call, as before: only a good one is kept
    if name != "numba":  # "numba" is checked again at every call, against numba's availability
        _env_last = (raw, name)
    return name


def get_backend() -> str:
    """The backend in force: set_backend's choice, else $DEEPRNN_KERNELS, else "auto"."""
    if _chosen is not None:
        return _chosen
    return _environment_backend()


def use_compiled(kind: str, batch: int, hidden: int, dtype: np.dtype, backend: str | None = None) -> bool:
    """Whether a layer-direction of this kind, batch size N and hidden size H runs the compiled loops
    (under `backend`, get_backend()'s by default)."""
    if backend is None:
        backend = get_backend()
    if backend == "numpy" or np.dtype(dtype) not in _DTYPES:
        return False
    if backend == "numba":
        return True
    if not numba_available() or batch > max(MAX_ROWS, MAX_SPLIT_ROWS):
        return False
    if batch <= 1:
        return hidden <= MAX_H1[kind]
    packed = packed_product()
    parts = split_parts(kind, batch) if packed else 1
    if parts > 1:  # each part's rows on its own core (compiled/_pool.py)
        return -(-batch // parts) <= MAX_ROWS
    if batch > MAX_ROWS:
        return False
    if packed:
        work = batch * GATES[kind] * hidden * hidden
        return any(batch <= rows and work <= bound for rows, bound in PACKED_WORK)
    if batch > HAND_MAX_ROWS:
        return False
    if np.dtype(dtype) == np.float32 and small_gemm(kind, batch, hidden):
        return False  # the step twin, whose compiled loops call OpenBLAS's small-matrix GEMM
    if batch <= 4:
        return hidden <= MAX_SMALL_H
    return batch * hidden <= MAX_CELLS[kind]


def split_parts(kind: str, batch: int) -> int:
    """Into how many parts the compiled loops of this kind split a batch (compiled/_pool.py), 1 for none."""
    if kind not in SPLIT_KINDS or not 4 <= batch <= MAX_SPLIT_ROWS or not _pool_wanted:
        return 1
    return compiled_module("_pool").parts(batch)


_pool_wanted = True


def set_thread_pool(enabled: bool) -> None:
    """Allow (True, the default) or forbid (False) the shared thread pool of compiled/_pool.py, with which
    the compiled loops split a batch's rows over the cores; False uninstalls it now (as
    DEEPRNN_POOL=off does before the first call)."""
    global _pool_wanted
    _pool_wanted = bool(enabled)
    pool = sys.modules.get(f"{__package__}.compiled._pool")  # not imported yet: nothing to install or undo
    if pool is not None:
        pool.set_thread_pool(enabled)


GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # a step's product is (N, H) by (H, GATES * H)


def packed_product() -> bool:
    """Whether the compiled loops run their products on packed weights (compiled/_gemm.py: where the
    processor has AVX-512), which moves the rule's bounds."""
    return compiled_module("_gemm").enabled()


def small_gemm(kind: str, batch: int, hidden: int) -> bool:
    """Whether one step's product, N x (GATES H) x H, takes the small-matrix path of NumPy's OpenBLAS
    (its SkylakeX kernels, up to SMALL_GEMM_WORK multiply-adds; kernels/blas_library.py)."""
    if batch * GATES[kind] * hidden * hidden > SMALL_GEMM_WORK:
        return False
    return blas_library.core_name() in SMALL_GEMM_CORES


def use_compiled_sampler(kind: str, hidden: int, dtype: np.dtype) -> bool:
    """Whether the batch-1 sampler of a model of this kind and hidden size runs compiled (see above)."""
    if not use_compiled(kind, 1, 1, dtype):  # the backend, numba and the dtype
        return False
    return get_backend() == "numba" or hidden * hidden <= SAMPLER_MAX_WORK[kind]


_compiled_modules: dict = {}  # name -> module of kernels/compiled, once imported


def compiled_module(kind: str) -> ModuleType:
    """The module of kernels/compiled for this kind (importing it imports numba): imported once, then
    looked up (importlib's own lookup costs about 1 us, several times in every recurrent call)."""
    module = _compiled_modules.get(kind)
    if module is None:
        module = _compiled_modules[kind] = importlib.import_module(f"{__package__}.compiled.{kind}")
    return module


# PyTorch's mode of each kind -> the name of its compiled module; the compiled twins, made once.
_MODULE_OF_MODE = {"RNN_TANH": "rnn", "RNN_RELU": "rnn", "LSTM": "lstm", "GRU": "gru"}
_twins: dict = {}


def kind_for(kind, batch: int, hidden: int, dtype: np.dtype):
    """The kind whose time loops run a layer-direction: `kind` itself (NumPy) or a compiled twin.

    The twin (kernels/compiled/<kind>.py) is a subclass with the same buffers and contracts whose
    forward_steps and backward_steps run compiled where `use_compiled` says so; under "auto", where
    it does not, every kind still gets a twin (loops=False) whose steps are compiled but for their
    products, which stay in BLAS.  At batch 1, where the loops take the packed product, the twin
    runs its products on W_hh itself instead (dot=True: compiled/_dot.py forward, the packed kernel's
    blocks on W_hh's rows backward), with no kept copy of W_hh to check.  The stack calls whichever it is given.
    """
    name = _MODULE_OF_MODE[kind.mode]
    backend = get_backend()
    loops = use_compiled(name, batch, hidden, dtype, backend)
    if not loops and not (name in _STEP_TWINS and backend == "auto" and _compiled_dtype(dtype)):
        return kind
    dot = loops and batch <= 1 and packed_product()  # batch 1: the products on W_hh itself (_product.py)
    twin = _twins.get((kind.mode, loops, dot))
    if twin is None:
        twin = _twins[kind.mode, loops, dot] = compiled_module(name).compiled_twin(kind, loops=loops, dot=dot)
    return twin


# The kinds whose twin also has a form for batches too large for the compiled loops (loops=False):
# each step's product runs in NumPy's BLAS, called from the compiled time loops themselves where
# NumPy's OpenBLAS is found (compiled/_blas.py), else, and at batch 1, from a Python time loop that
# runs the rest of each step (2-12 NumPy calls) as one compiled call; for the LSTM and GRU the
# backward preparation (10-14 NumPy passes over strided gate columns) is one compiled call too.
# "auto" takes it wherever it does not take the compiled loops.
_STEP_TWINS = ("rnn", "lstm", "gru")


def _compiled_dtype(dtype) -> bool:
    return numba_available() and np.dtype(dtype) in _DTYPES
