"""One thread pool for NumPy's OpenBLAS and the compiled loops, so that the time loops can use both cores.

The rows of a batch are independent in every recurrence: the compiled loops can run rows 0 .. N/2 - 1
on one core and the rest on the other, from the first step to the last, without a barrier (`parts`).
But NumPy's OpenBLAS keeps its own worker threads, which spin for a while after every threaded GEMM
(the input projection just before the loop): a second pool on the same two cores then fights them,
and the split loops ran 0.13-0.88x as fast as one core (LSTM, T = 50, N = 16-32, H = 64-512, Zen 4).
OpenBLAS can hand its jobs to a caller's threads instead (openblas_set_threads_callback_function,
OpenBLAS 0.3.27+): installed here as a numba C function that runs them on numba's OpenMP pool, no
GIL taken, so both kinds of work share one pool.  Then the split loops ran 1.66-1.81x as fast, with
the same bits, and a 2000^3 product ran at the same speed as on OpenBLAS's own threads
(benchmarks/thread_pool_probe.py, mode 'cfunc').

It is installed at the first call that can use it, and only where it is safe:
  - NumPy's OpenBLAS has the callback (scipy-openblas wheels), and numba's threading layer is OpenMP:
    OpenBLAS's jobs wait for each other, so they need one thread each at once (tbb does not promise
    that; workqueue is not thread-safe);
  - numba has at least 2 threads, and OpenBLAS no more threads than numba (NUMBA_NUM_THREADS): each
    call's jobs run with exactly as many numba threads as jobs;
  - DEEPRNN_POOL is not "off" (set_thread_pool(False) does the same from Python).
A forked child (a DataLoader worker) uninstalls it at once and never splits: OpenMP's threads do not
survive a fork, so OpenBLAS goes back to its own threads, which do.  It is uninstalled at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os

import numba
from numba import cfunc, prange, types

from .. import blas_library
from ._job import call_job

__all__ = ["parts", "set_thread_pool", "installed", "MIN_ROWS_PER_PART", "ENV_VAR"]

ENV_VAR = "DEEPRNN_POOL"
MIN_ROWS_PER_PART = 2  # the split gives each part at least this many rows
# How long libgomp's idle threads spin before they sleep (its default is 300,000, about 10 ms with Intel's
# pause instruction): with the default, two processes on two cores, each splitting a GRU's rows, ran
# 15x slower than one alone (N = 16, H = 64, 3 layers, training: 136 ms against 9); with 30,000, 27 ms,
# and 5% slower alone (2-core Intel Xeon, 2026-12-06).  OMP_WAIT_POLICY or GOMP_SPINCOUNT set by the user win.
SPIN_COUNT = 30_000
_MAX_THREADS = numba.config.NUMBA_NUM_THREADS
_SETTER = ("scipy_openblas_set_threads_callback_function64_", "openblas_set_threads_callback_function")
_GET_THREADS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads")


def _run_jobs(dojob, numjobs, elsize, jobdata, arg):
    """Run OpenBLAS's numjobs jobs at once, one numba thread each (they wait for each other)."""
    saved = numba.get_num_threads()
    numba.set_num_threads(max(1, min(numjobs, _MAX_THREADS)))
    for i in prange(numjobs):
        call_job(dojob, i, jobdata + i * elsize, arg)
    numba.set_num_threads(saved)


# Not cached on disk: numba cannot cache a function that sets its thread count (1.3 s to compile, once a
# process, at the first call that splits a batch).
_run_jobs = numba.njit(parallel=True)(_run_jobs)


def _native(sync, dojob, numjobs, elsize, jobdata, arg):
    """OpenBLAS's callback: void (int sync, dojob fn, int numjobs, size_t elsize, void *jobdata, int arg);
    pointers and size_t taken as intp, which has their width and registers on 64-bit platforms."""
    _run_jobs(dojob, numjobs, elsize, jobdata, arg)


@contextlib.contextmanager
def _spin_bound():
    """GOMP_SPINCOUNT = SPIN_COUNT while numba loads its threading layer (compiling _native below loads
    libgomp, which reads it then), unless the user set the wait policy; the environment is restored
    after, so no child process and no other runtime sees it."""
    keys = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
    if any(k in os.environ for k in keys):
        yield
        return
    os.environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
    try:
        yield
    finally:
        os.environ.pop("GOMP_SPINCOUNT", None)


_SIGNATURE = types.void(types.intc, types.intp, types.intc, types.intp, types.intp, types.intc)
with _spin_bound():
    _native = cfunc(_SIGNATURE, nopython=True)(_native)


_PROTO = ctypes.CFUNCTYPE(
    None, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_int
)
# on: None before the first try; blas_threads: OpenBLAS's get_num_threads, once installed; forked: in a
# forked child, which never installs it (OpenMP's threads do not survive a fork)
_state = {"on": None, "setter": None, "blas_threads": None, "wanted": True, "forked": False}


def _symbol(lib, names):
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn
    return None


def _install() -> bool:
    """Install the callback if every condition of the module docstring holds; True when it is installed."""
    if not _state["wanted"] or _state["forked"] or os.environ.get(ENV_VAR, "").lower() in ("off", "0", "false", "no"):
        return False
    lib = blas_library.library()
    setter = _symbol(lib, _SETTER) if lib is not None else None
    get_threads = _symbol(lib, _GET_THREADS) if lib is not None else None
    if setter is None or get_threads is None or _MAX_THREADS < 2 or numba.get_num_threads() < 2:
        return False
    get_threads.restype = ctypes.c_int
    if get_threads() > _MAX_THREADS:
        return False
    _run_jobs(0, 0, 0, 0, 0)  # numba's threading layer started before OpenBLAS may call it
    if numba.threading_layer() != "omp":
        return False
    setter.argtypes = [_PROTO]
    setter(ctypes.cast(_native.address, _PROTO))
    _state["setter"], _state["blas_threads"] = setter, get_threads
    return True


def _uninstall() -> None:
    setter = _state["setter"]
    if setter is not None:
        setter(_PROTO())  # a null callback: OpenBLAS's own threads again
        _state["setter"] = None
    _state["on"] = False


def _after_fork_in_child() -> None:
    _state["forked"] = True
    _uninstall()


def installed() -> bool:
    """Whether OpenBLAS runs its jobs on numba's pool in this process (trying to install it the first time)."""
    if _state["on"] is None:
        _state["on"] = _install()
    return _state["on"]


def parts(rows: int) -> int:
    """Into how many parts the compiled loops split a batch of `rows` rows: as many as numba and OpenBLAS
    both have threads (OPENBLAS_NUM_THREADS=1, as under MPI, keeps one core a process) when the pool is
    installed and each part gets at least MIN_ROWS_PER_PART rows, else 1 (one core)."""
    if rows < 2 * MIN_ROWS_PER_PART or not installed():
        return 1
    threads = min(numba.get_num_threads(), _state["blas_threads"]())
    return max(1, min(threads, rows // MIN_ROWS_PER_PART))


def set_thread_pool(enabled: bool) -> None:
    """Allow (True, the default) or forbid (False) the shared pool; False uninstalls it now."""
    _state["wanted"] = bool(enabled)
    if not enabled:
        _uninstall()
    elif _state["on"] is False:
        _state["on"] = None  # try again at the next call (never in a forked child: _install)


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_uninstall)
