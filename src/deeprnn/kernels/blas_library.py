"""The OpenBLAS that NumPy's wheels bundle, found without numba: its path, its GEMMs and its kernels.

The compiled loops (compiled/_blas.py) call its ?gemm themselves, and kernels/backend.py's rule asks
which kernels it runs: OpenBLAS's SkylakeX kernels (on AVX-512 processors) have a path for small
matrices, without packing, that makes a step's product of a few rows fast enough to beat the
hand-written loop (backend.py).  Everything here is read once and kept; nothing here imports numba.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os

import numpy as np

__all__ = ["library_path", "library", "core_name", "GEMM_SYMBOLS", "SMALL_GEMM_CORES", "SMALL_GEMM_WORK"]

GEMM_SYMBOLS = {"s": "scipy_cblas_sgemm64_", "d": "scipy_cblas_dgemm64_"}  # scipy-openblas, 64-bit ints
# OpenBLAS's cores whose sgemm has the small-matrix path (its KERNEL.SKYLAKEX, which Cooperlake's and
# SapphireRapids' include), and the size up to which it takes it: M * N * K <= 100^3 (OpenBLAS's
# sgemm_small_kernel_permit_skylakex.c).
SMALL_GEMM_CORES = frozenset({"SkylakeX", "Cooperlake", "SapphireRapids"})
SMALL_GEMM_WORK = 100**3


def library_path() -> str | None:
    """The path of the OpenBLAS bundled with NumPy's wheels, or None when there is none."""
    root = os.path.dirname(np.__file__)
    patterns = [
        os.path.join(root, os.pardir, "numpy.libs", "libscipy_openblas64_*"),  # Linux, Windows
        os.path.join(root, ".dylibs", "libscipy_openblas64_*"),  # macOS
    ]
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            return os.path.abspath(path)
    return None


@functools.cache
def library() -> ctypes.CDLL | None:
    """NumPy's OpenBLAS (the library NumPy has loaded: the same threads and settings), or None when
    it is not found or lacks one of GEMM_SYMBOLS."""
    path = library_path()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
        for symbol in GEMM_SYMBOLS.values():
            getattr(lib, symbol)
    except (OSError, AttributeError):
        return None
    return lib


@functools.cache
def core_name() -> str | None:
    """The kernels OpenBLAS runs on this processor ("Haswell", "SkylakeX", ...), or None."""
    lib = library()
    fn = getattr(lib, "scipy_openblas_get_corename64_", None) if lib is not None else None
    if fn is None:
        return None
    fn.restype = ctypes.c_char_p
    name = fn()
    return name.decode() if name else None
