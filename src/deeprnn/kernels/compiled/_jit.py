"""How the compiled loops are compiled: numba's njit, cached on disk in deeprnn's own directory.

Every function here is compiled the first time it runs with a given dtype, and the machine code is
kept on disk (numba's ``cache=True``), so a later process loads it in milliseconds instead of
compiling it again.  The cache directory is

    $NUMBA_CACHE_DIR/deeprnn-<key>                     when NUMBA_CACHE_DIR is set
    $XDG_CACHE_HOME/deeprnn/numba/<key>                 otherwise (~/.cache when XDG_CACHE_HOME is unset)

so it works when the package itself is installed read-only.  ``<key>`` is a hash of the source of
every file in this package: numba checks only the file of the function it caches, and a loop
compiled against an older version of a helper in another file (``_math.py``) must not be reused.
The directory is set for deeprnn's functions only (numba reads it when a function is decorated);
other numba users in the same process keep their own settings.  If no directory is writable, the
functions are compiled in every process, as numba does without a cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import numba
from numba import types
from numba.core import config

__all__ = ["jit", "typed_jit", "cache_dir", "JIT_OPTIONS", "readonly_matrix", "readonly_vector"]

# fastmath 'contract' lets LLVM fuse a*b + c into one FMA instruction (one rounding instead of two);
# no reassociation, no assumptions about NaN or infinity, so IEEE semantics are otherwise kept.
# error_model 'numpy': x / 0 gives inf or nan as in NumPy, instead of a ZeroDivisionError check
# on every division, a branch that stops LLVM from vectorising the loops.
JIT_OPTIONS = {"fastmath": {"contract"}, "error_model": "numpy"}

_HERE = Path(__file__).resolve().parent


def _source_key() -> str:
    digest = hashlib.sha256(numba.__version__.encode())
    for path in sorted(_HERE.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> str:
    """The directory where deeprnn's compiled loops are cached (see the module docstring)."""
    key = _source_key()
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        return os.path.join(user, f"deeprnn-{key}")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "deeprnn", "numba", key)


_CACHE_DIR = cache_dir()


@contextlib.contextmanager
def _cache_dir_for_decoration():
    saved = config.CACHE_DIR
    config.CACHE_DIR = _CACHE_DIR
    try:
        yield
    finally:
        config.CACHE_DIR = saved


def jit(fn=None, *, inline: bool = False):
    """numba.njit(fn) with the on-disk cache in deeprnn's directory (uncached if none is writable).

    ``@jit(inline=True)``: numba inlines the function into its compiled callers (inline='always'), for
    the small per-step helpers that several loops share; called from Python it is an ordinary function."""
    if fn is None:
        return lambda f: jit(f, inline=inline)
    options = dict(JIT_OPTIONS, inline="always") if inline else JIT_OPTIONS
    with _cache_dir_for_decoration():
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError:  # numba found no writable cache location at all
            return numba.njit(cache=False, **options)(fn)


def readonly_matrix(F):
    """The type of a read-only C-contiguous (M, K) array of F: the transposed weights (kernels/transposed.py)."""
    return types.Array(F, 2, "C", readonly=True)


def readonly_vector(F):
    """The type of a read-only 1-D contiguous array of F: a weight's panels (kernels/panels.py)."""
    return types.Array(F, 1, "C", readonly=True)


def typed_jit(arg_types, parallel: bool = False):
    """jit with declared argument types, compiled per float dtype the first time that dtype is met.

    ``arg_types(F)`` gives the argument types for the float type F, e.g.
    ``lambda F: (F[:, :, :], F[:, ::1], types.boolean)``; the first argument's dtype picks F.  The
    time loops declare their big views of the stack's buffers with any layout (``F[:, :, :]``: a
    direction's columns, a packed segment) and their weights and states C-contiguous, so that one
    compiled version per dtype serves every caller: without declared types numba compiles one
    version for every combination of layouts it meets.  parallel=True compiles numba's prange loops
    to run on its thread pool (the batch splits of _pool.py).
    """

    def decorate(fn):
        return _PerDtype(fn, arg_types, parallel)

    return decorate


class _PerDtype:
    """A numba function per float dtype, each made (compiled, or loaded from the cache) on first use."""

    def __init__(self, fn, arg_types, parallel=False):
        self._fn = fn
        self._arg_types = arg_types
        self._options = dict(JIT_OPTIONS, parallel=True) if parallel else JIT_OPTIONS
        self._compiled = {}
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __call__(self, *args):
        return self.compiled(args[0].dtype)(*args)

    def compiled(self, dtype):
        """The numba function for `dtype`, made on first use: callable from Python or from other compiled code."""
        compiled = self._compiled.get(dtype)
        if compiled is None:
            compiled = self._compiled[dtype] = self._make(dtype)
        return compiled

    def _make(self, dtype):
        F = numba.from_dtype(dtype)
        sig = types.void(*self._arg_types(F))
        with _cache_dir_for_decoration():
            try:
                return numba.njit([sig], cache=True, **self._options)(self._fn)
            except RuntimeError:  # numba found no writable cache location at all
                return numba.njit([sig], cache=False, **self._options)(self._fn)
