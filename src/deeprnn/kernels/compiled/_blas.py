"""NumPy's own BLAS, called from inside the compiled time loops: one GEMM per step without Python.

At batches too large for the hand-written product (_math.add_product_rows), each step's recurrent
product runs in BLAS.  Called from a Python loop, every step also pays for the loop, NumPy's
matmul dispatch and the compiled step's argument unboxing (about 5-10 us a step).  Here the time loop
stays compiled and calls the GEMM of the OpenBLAS that NumPy's wheels bundle (scipy-openblas, with
64-bit integers) directly: the same library, the same threads and the same kernels as np.matmul.

    gemm_rows(acc, acc_first, x, x_first, N, K, b)   # rows of acc += rows of x times b, one ?gemm call

(_product.py chooses between it, the hand-written loop and the packed product.)  `available()`
says whether the library was found; where it is not (a NumPy built against another BLAS), callers
do not take this product, and the symbol the compiled code links against is bound to a stand-in
that fills its output with NaN, so that a wrong call cannot pass unnoticed.
"""

from __future__ import annotations

import ctypes

import llvmlite.binding as llvm
import numpy as np
from numba import cfunc, types
from numba.extending import overload

from ..blas_library import GEMM_SYMBOLS, library
from ._jit import JIT_OPTIONS, jit

__all__ = ["available", "loop_blas", "gemm_rows"]

_ROW_MAJOR, _NO_TRANS = 101, 111  # CBLAS's CblasRowMajor, CblasNoTrans


def _gemm_type(F):
    P = types.CPointer(F)
    i32, i64 = types.int32, types.int64
    return types.void(i32, i32, i32, i64, i64, i64, F, P, i64, P, i64, F, P, i64)


def _stand_in(F):
    """A GEMM of the right signature that writes NaN into its M x N output: bound when no BLAS is found."""

    @cfunc(_gemm_type(F))
    def gemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        for i in range(m):
            for j in range(n):
                c[i * ldc + j] = np.nan

    return gemm


_STAND_INS = []  # kept alive: their machine code must outlive the symbols bound to it


def _bind() -> bool:
    """Bind deeprnn_sgemm / deeprnn_dgemm to NumPy's OpenBLAS (or to the stand-ins); True if found."""
    lib = library()
    for prefix, symbol in GEMM_SYMBOLS.items():
        if lib is not None:
            address = ctypes.cast(getattr(lib, symbol), ctypes.c_void_p).value
        else:
            _STAND_INS.append(_stand_in(types.float32 if prefix == "s" else types.float64))
            address = _STAND_INS[-1].address
        llvm.add_symbol(f"deeprnn_{prefix}gemm", address)
    return lib is not None


_FOUND = _bind()
_sgemm = types.ExternalFunction("deeprnn_sgemm", _gemm_type(types.float32))
_dgemm = types.ExternalFunction("deeprnn_dgemm", _gemm_type(types.float64))


def available() -> bool:
    """True when NumPy's OpenBLAS was found, so that product_rows may be called with blas=True."""
    return _FOUND


def loop_blas(N: int) -> bool:
    """Whether a twin's time loop (loops=False) at batch N runs compiled with gemm_rows.

    At N = 1 NumPy's matmul takes a GEMV, which the GEMM here does not match (a (1, 512) by
    (512, 2048) product: 190 us a step as a GEMM against 53 as NumPy's GEMV, Zen 4), so batch 1
    keeps the Python loop."""
    return N >= 2 and _FOUND


def _gemm(acc, acc_at, ldc, x, x_at, lda, b, N, M, K):
    """acc[acc_at:] (N rows of M, stride ldc) += x[x_at:] (N rows of K, stride lda) @ b (K, M)."""


@overload(_gemm, jit_options=JIT_OPTIONS)
def _gemm_impl(acc, acc_at, ldc, x, x_at, lda, b, N, M, K):
    if acc.dtype == types.float32:
        call, F = _sgemm, np.float32
    elif acc.dtype == types.float64:
        call, F = _dgemm, np.float64
    else:
        return None

    def impl(acc, acc_at, ldc, x, x_at, lda, b, N, M, K):
        one = F(1.0)
        rm, nt = np.int32(_ROW_MAJOR), np.int32(_NO_TRANS)
        call(rm, nt, nt, N, M, K, one, x[x_at:].ctypes, lda, b.ctypes, M, one, acc[acc_at:].ctypes, ldc)

    return impl


@jit
def gemm_rows(acc, acc_first, x, x_first, N, K, b):
    """Rows acc_first .. acc_first + N - 1 of acc += rows x_first .. x_first + N - 1 of x, times b: one
    GEMM of NumPy's OpenBLAS with beta = 1.  acc and x are flat_rows pairs (_rows.py) of rows of width
    M and K; b (K, M) C-contiguous."""
    if N == 0:
        return
    acc_flat, acc_stride = acc
    x_flat, x_stride = x
    M = b.shape[1]
    _gemm(acc_flat, acc_first * acc_stride, acc_stride, x_flat, x_first * x_stride, x_stride, b, N, M, K)
