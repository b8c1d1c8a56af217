"""The scalar functions and the small matrix product shared by the compiled loops.

tanh and the logistic sigmoid, chosen by dtype when a loop is compiled:

    float32:  tanh(x) ~= x p(x^2) / q(x^2)   for |x| < c = 7.90531110763549805, +-1 beyond
              (p of degree 6 in x^2, i.e. 13 in x; q of degree 3 in x^2, i.e. 6 in x), and
              tanh(x) = x for |x| < 4e-4.  The interpolant that Eigen and XLA use for float32: it is
              branch-free arithmetic, so LLVM vectorises it, which a libm tanh call is not.
              sigma(x) = 1/2 + tanh(x/2)/2, as XLA computes the float32 logistic.
    float64:  libm's tanh, and sigma(x) = 1/(1 + exp(-x)): the float64 parity tolerance (1e-10) is
              far below what a float32 interpolant gives.

The measured error of the float32 tanh, against float64 tanh over every float32 in [-10, 10] and
beyond the clamp, is stated and checked in tests/kernels/test_compiled_math.py.

`add_product(acc, a, b)` adds the product a b to acc in place (`add_product_rows` does it on the rows of
flat_rows pairs, _rows.py): the per-step recurrent product
h_prev W_hh^T (forward) and dA_t W_hh (backward).  At the small batch sizes where the compiled path
is used, a hand-written loop beats a BLAS call, whose fixed cost (about 1.5 us) exceeds the work; on
AVX-512 processors the loops take the packed kernel instead (_gemm.py, chosen in _product.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import types
from numba.extending import overload

from ._jit import JIT_OPTIONS, jit
from ._rows import row_at

__all__ = [
    "tanh_",
    "sigmoid_",
    "tanh_array",
    "sigmoid_array",
    "add_product",
    "add_product_rows",
]

_F = np.float32
# The coefficients of the rational interpolant (Eigen's generic_fast_tanh_float, XLA's EmitFastTanh).
_A1 = _F(4.89352455891786e-03)
_A3 = _F(6.37261928875436e-04)
_A5 = _F(1.48572235717979e-05)
_A7 = _F(5.12229709037114e-08)
_A9 = _F(-8.60467152213735e-11)
_A11 = _F(2.00018790482477e-13)
_A13 = _F(-2.76076847742355e-16)
_B0 = _F(4.89352518554385e-03)
_B2 = _F(2.26843463243900e-03)
_B4 = _F(1.18534705686654e-04)
_B6 = _F(1.19825839466702e-06)
_CLAMP = _F(7.90531110763549805)
_TINY = _F(0.0004)
_HALF32 = _F(0.5)
_ONE32 = _F(1.0)


def tanh_(x):
    """tanh(x) for a float32 or float64 scalar inside a compiled loop (see the module docstring)."""
    raise NotImplementedError("tanh_ runs only inside numba-compiled code")


def sigmoid_(x):
    """The logistic sigmoid 1/(1 + exp(-x)) for a float32 or float64 scalar inside a compiled loop."""
    raise NotImplementedError("sigmoid_ runs only inside numba-compiled code")


def _tanh32(x):
    # No clamp of x to +-c before the interpolant (Eigen clamps there): the last selects return +-1
    # for |x| >= c and x itself for NaN, whatever the interpolant gave there (inf/inf = NaN beyond
    # |x| ~ 900), and below c the clamp changes nothing.  So the bits are the same for every float32
    # (all 2^32 compared, 2026-12-07), with 4 fewer vector operations of about 25: the LSTM's gate
    # arithmetic at N = 32, H = 128 took 12.0 against 13.9 us a step (Intel Xeon, one core).
    x2 = x * x
    p = x2 * _A13 + _A11
    p = x2 * p + _A9
    p = x2 * p + _A7
    p = x2 * p + _A5
    p = x2 * p + _A3
    p = x2 * p + _A1
    p = x * p
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    r = p / q
    ax = abs(x)
    r = r if ax < _CLAMP else (_ONE32 if x > 0 else -_ONE32)  # exactly +-1 beyond the clamp, as tanh rounds
    return r if ax >= _TINY else x  # NaN fails both tests and passes through


@overload(tanh_, jit_options=JIT_OPTIONS)
def _tanh_impl(x):
    if x == types.float32:
        return _tanh32
    if x == types.float64:
        return lambda x: math.tanh(x)
    return None


@overload(sigmoid_, jit_options=JIT_OPTIONS)
def _sigmoid_impl(x):
    if x == types.float32:
        return lambda x: _HALF32 + _HALF32 * tanh_(_HALF32 * x)
    if x == types.float64:
        return lambda x: 1.0 / (1.0 + math.exp(-x))
    return None


@jit
def add_product(acc, a, b):
    """acc += a b in place.  acc (N, M), a (N, K), b (K, M), all C-contiguous (add_product_rows)."""
    N, K = a.shape
    M = b.shape[1]
    add_product_rows((acc.reshape(-1), M), 0, (a.reshape(-1), K), 0, N, K, b)


@jit
def add_product_rows(acc, acc_first, x, x_first, N, K, b):
    """Rows acc_first .. acc_first + N - 1 of acc += rows x_first .. x_first + N - 1 of x, times b.

    acc and x are flat_rows pairs (_rows.py) of rows of width M and K; b (K, M) C-contiguous.  Rows
    go four at a time and the shared dimension four at a time, so that each loaded row of b serves
    16 multiply-adds; the inner loop runs along a row of b and of acc, which LLVM vectorises.
    """
    M = b.shape[1]
    n = 0
    while n + 4 <= N:
        a0 = row_at(acc, acc_first + n, M)
        a1 = row_at(acc, acc_first + n + 1, M)
        a2 = row_at(acc, acc_first + n + 2, M)
        a3 = row_at(acc, acc_first + n + 3, M)
        x0 = row_at(x, x_first + n, K)
        x1 = row_at(x, x_first + n + 1, K)
        x2 = row_at(x, x_first + n + 2, K)
        x3 = row_at(x, x_first + n + 3, K)
        k = 0
        while k + 4 <= K:
            b0 = b[k]
            b1 = b[k + 1]
            b2 = b[k + 2]
            b3 = b[k + 3]
            p00, p01, p02, p03 = x0[k], x0[k + 1], x0[k + 2], x0[k + 3]
            p10, p11, p12, p13 = x1[k], x1[k + 1], x1[k + 2], x1[k + 3]
            p20, p21, p22, p23 = x2[k], x2[k + 1], x2[k + 2], x2[k + 3]
            p30, p31, p32, p33 = x3[k], x3[k + 1], x3[k + 2], x3[k + 3]
            for j in range(M):
                y0 = b0[j]
                y1 = b1[j]
                y2 = b2[j]
                y3 = b3[j]
                a0[j] += p00 * y0 + p01 * y1 + p02 * y2 + p03 * y3
                a1[j] += p10 * y0 + p11 * y1 + p12 * y2 + p13 * y3
                a2[j] += p20 * y0 + p21 * y1 + p22 * y2 + p23 * y3
                a3[j] += p30 * y0 + p31 * y1 + p32 * y2 + p33 * y3
            k += 4
        while k < K:
            bk = b[k]
            p0, p1, p2, p3 = x0[k], x1[k], x2[k], x3[k]
            for j in range(M):
                y = bk[j]
                a0[j] += p0 * y
                a1[j] += p1 * y
                a2[j] += p2 * y
                a3[j] += p3 * y
            k += 1
        n += 4
    while n < N:
        a0 = row_at(acc, acc_first + n, M)
        x0 = row_at(x, x_first + n, K)
        k = 0
        while k + 4 <= K:
            b0 = b[k]
            b1 = b[k + 1]
            b2 = b[k + 2]
            b3 = b[k + 3]
            p0, p1, p2, p3 = x0[k], x0[k + 1], x0[k + 2], x0[k + 3]
            for j in range(M):
                a0[j] += p0 * b0[j] + p1 * b1[j] + p2 * b2[j] + p3 * b3[j]
            k += 4
        while k < K:
            bk = b[k]
            p = x0[k]
            for j in range(M):
                a0[j] += p * bk[j]
            k += 1
        n += 1


@jit
def tanh_array(x, out):
    """out = tanh_(x) element-wise over 1-D arrays: the loops' tanh, callable from Python (for tests)."""
    for j in range(x.shape[0]):
        out[j] = tanh_(x[j])


@jit
def sigmoid_array(x, out):
    """out = sigmoid_(x) element-wise over 1-D arrays."""
    for j in range(x.shape[0]):
        out[j] = sigmoid_(x[j])
