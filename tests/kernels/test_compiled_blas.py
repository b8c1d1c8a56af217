"""The compiled loops' products: the direct BLAS call (kernels/compiled/_blas.py), the packed kernel
(_gemm.py), the dot products on W = b^T's rows (_dot.py) and the hand-written loop, through
_product.product_rows: rows of acc += rows of x times b."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from oracle import assert_close

pytest.importorskip("numba")
torch = pytest.importorskip("torch")

from deeprnn.kernels.compiled import _blas, _gemm, _product  # noqa: E402
from deeprnn.kernels.compiled._rows import flat_rows  # noqa: E402
from deeprnn.kernels.panels import panels  # noqa: E402


def test_numpys_openblas_is_found():
    """CI installs NumPy's wheels, which bundle scipy-openblas: the compiled loops can call it."""
    from deeprnn.kernels.blas_library import core_name, library_path

    assert library_path() is not None and _blas.available()
    assert core_name()  # the kernels it runs here, which kernels/backend.py's rule reads
    assert _blas.loop_blas(2) and _blas.loop_blas(64)
    assert not _blas.loop_blas(1)  # batch 1 keeps NumPy's GEMV, from Python


MODES = {"hand": _product.HAND, "blas": _product.BLAS, "packed": _product.PACKED, "dot": _product.DOT}
MODES["strided"] = _product.STRIDED
# Row counts around the packed kernel's blocks of 4, 2 and 1; column counts around its panels (64 float32
# columns with AVX-512, 16 without) and their padded tails.
# Shared dimensions past the packed kernel's chunk of KC = 128, uneven and exact.
SHAPES = [(2, 3, 5), (7, 16, 40), (32, 128, 512), (5, 1, 3), (1, 65, 100), (3, 33, 129), (9, 200, 800), (6, 7, 64)]
SHAPES += [(5, 300, 70), (3, 257, 129), (4, 256, 64), (1, 200, 800), (1, 70, 192)]  # one row: panels in pairs
# DOT: shared dimensions around its two vectors a step (32 float32, 16 float64) and its masked tail; rows of W
# around its blocks of 4.
SHAPES += [(1, 31, 7), (1, 32, 4), (1, 47, 9), (1, 100, 400), (2, 17, 3), (1, 0, 5), (1, 8, 1)]


def _operands(b, mode):
    """product_rows' b and bp for b (K, M) in this mode, read-only."""
    if mode == "dot":
        return _product.dot_operands(np.ascontiguousarray(b.T))
    if mode == "strided":
        return _product.backward_operands(b, _product.STRIDED)
    bp = panels(b, _gemm.panel_width(b.itemsize)) if mode == "packed" else _product.NO_PANELS[b.dtype]
    bp.flags.writeable = False
    return b, bp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("N,K,M", SHAPES)
def test_product_rows_adds_the_product_in_strided_rows(dtype, mode, N, K, M):
    """acc and x as rows of wider buffers (a direction's columns of a bidirectional layer), from row 2
    on: acc rows 2..2+N-1 += x rows 1..N of the product with b; the rows and columns around them
    are untouched (the packed kernel's last panel is padded, its columns past M masked)."""
    rng = np.random.default_rng(N * 1000 + K * 10 + M)
    acc_buf = rng.standard_normal((N + 4, 2 * M)).astype(dtype)
    x_buf = rng.standard_normal((N + 2, 3 * K)).astype(dtype)
    b = rng.standard_normal((K, M)).astype(dtype)
    acc, x = acc_buf[:, M:], x_buf[:, K : 2 * K]  # strided rows, unit steps inside a row
    expected = torch.from_numpy(acc[2 : 2 + N].copy()) + torch.from_numpy(x[1 : 1 + N].copy()) @ torch.from_numpy(b)
    before = acc_buf.copy()
    _product.product_rows(flat_rows(acc), 2, flat_rows(x), 1, N, K, *_operands(b, mode), MODES[mode])
    assert_close(acc[2 : 2 + N], expected, what="acc rows")
    untouched = np.ones(acc_buf.shape, bool)
    untouched[2 : 2 + N, M:] = False
    np.testing.assert_array_equal(acc_buf[untouched], before[untouched])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N,K,M", [(7, 300, 70), (4, 129, 64), (1, 1000, 130), (9, 256, 200), (1, 40, 320)])
def test_the_packed_products_chunks_of_k_and_panel_pairs_keep_the_bits_of_whole_panels(dtype, N, K, M):
    """packed_product_rows runs the shared dimension in chunks of KC, storing each block's sums between
    chunks, and a single row two panels at a time: its bits are those of every panel done alone in one
    pass over k (_panel_rows with kc = K)."""
    assert K > _gemm.KC or (N == 1 and M >= 2 * _gemm.panel_width(np.dtype(dtype).itemsize))
    rng = np.random.default_rng(K + M)
    x, b = rng.standard_normal((N, K)).astype(dtype), rng.standard_normal((K, M)).astype(dtype)
    acc0 = rng.standard_normal((N, M)).astype(dtype)
    NR = _gemm.panel_width(b.itemsize)
    bp = panels(b, NR)
    chunked = acc0.copy()
    _gemm.packed_product_rows(flat_rows(chunked), 0, flat_rows(x), 0, N, K, bp, M)
    whole = acc0.copy()
    for p in range(-(-M // NR)):
        _gemm._panel_rows(whole.reshape(-1), p * NR, M, x.reshape(-1), 0, K, N, bp, p * K * NR, K, M - p * NR, NR)
    np.testing.assert_array_equal(chunked, whole)
    assert not np.array_equal(chunked, acc0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N,K,M", [(1, 800, 200), (1, 300, 100), (1, 7, 129), (2, 64, 256), (1, 33, 17), (3, 200, 64)])
def test_the_strided_product_keeps_the_bits_of_the_packed_one(dtype, N, K, M):
    """On b itself instead of its panels, each column's sum runs over k in the same order: the same bits."""
    rng = np.random.default_rng(K * M)
    x, b = rng.standard_normal((N, K)).astype(dtype), rng.standard_normal((K, M)).astype(dtype)
    acc0 = rng.standard_normal((N, M)).astype(dtype)
    packed, strided = acc0.copy(), acc0.copy()
    _product.product_rows(flat_rows(packed), 0, flat_rows(x), 0, N, K, *_operands(b, "packed"), _product.PACKED)
    _product.product_rows(flat_rows(strided), 0, flat_rows(x), 0, N, K, *_operands(b, "strided"), _product.STRIDED)
    np.testing.assert_array_equal(strided, packed)
    assert not np.array_equal(strided, acc0)


def test_the_strided_product_refuses_a_b_shorter_than_k_by_m():
    acc, x, b = np.ones((1, 70), np.float32), np.ones((1, 5), np.float32), np.ones((5, 70), np.float32)
    w, flat = _product.backward_operands(b, _product.STRIDED)
    assert np.shares_memory(flat, b) and not flat.flags.writeable and b.flags.writeable
    with pytest.raises(ValueError, match="fewer than K"):
        _product.product_rows(flat_rows(acc), 0, flat_rows(x), 0, 1, 5, w, flat[:349], _product.STRIDED)
    np.testing.assert_array_equal(acc, 1)


def test_no_rows_is_a_no_op():
    acc, x, b = np.ones((3, 4), np.float32), np.ones((3, 2), np.float32), np.ones((2, 4), np.float32)
    for name, mode in MODES.items():
        _product.product_rows(flat_rows(acc), 0, flat_rows(x), 0, 0, 2, *_operands(b, name), mode)
    np.testing.assert_array_equal(acc, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K", [5, 16, 37, 200])
def test_the_dot_product_keeps_each_row_of_w_to_its_own_value(dtype, K):
    """An inf in row m of W reaches value m of the product and no other: no vector, masked tail or block
    of rows reads across a row's end (NaN in W, inf * 0 in x are the same test in other words)."""
    rng = np.random.default_rng(K)
    M = 11  # two blocks of 4 and three single rows
    w = rng.standard_normal((M, K)).astype(dtype)
    for m in (0, 3, 4, 10):
        bad = w.copy()
        bad[m, K - 1] = np.inf
        x = rng.standard_normal((1, K)).astype(dtype)
        x[0, K - 1] = 1.0
        acc = np.zeros((1, M), dtype)
        _product.product_rows(flat_rows(acc), 0, flat_rows(x), 0, 1, K, *_product.dot_operands(bad), _product.DOT)
        assert np.isinf(acc[0, m]) and np.isfinite(np.delete(acc[0], m)).all()


def test_dot_operands_are_read_only_views_of_w():
    """No copy of a C-contiguous W_hh, so nothing to keep and check; W_hh itself stays writable."""
    w = np.arange(12.0).reshape(4, 3)
    b, bp = _product.dot_operands(w)
    assert b.shape == (3, 4) and bp.shape == (12,) and np.shares_memory(b, w) and np.shares_memory(bp, w)
    assert not b.flags.writeable and not bp.flags.writeable and w.flags.writeable
    np.testing.assert_array_equal(_product.plain_transpose(b, True), w.T)
    t = w.T
    assert _product.plain_transpose(t, False) is t


def test_the_dot_product_refuses_a_w_shorter_than_m_by_k():
    acc, x = np.ones((1, 6), np.float32), np.ones((1, 5), np.float32)
    w = np.ones((6, 5), np.float32)
    b, bp = _product.dot_operands(w)
    with pytest.raises(ValueError, match="fewer than M"):
        _product.product_rows(flat_rows(acc), 0, flat_rows(x), 0, 1, 5, b, bp[:29], _product.DOT)
    np.testing.assert_array_equal(acc, 1)


@pytest.mark.parametrize("short", [0, 1])
def test_the_packed_product_refuses_panels_shorter_than_b(short):
    """An empty bp (the other modes' argument) or one element short of b's panels raises, before any read."""
    acc, x, b = np.ones((3, 70), np.float32), np.ones((3, 5), np.float32), np.ones((5, 70), np.float32)
    full = panels(b, _gemm.panel_width(4))
    bp = full[: full.size - 1] if short else _product.NO_PANELS[np.dtype(np.float32)]
    with pytest.raises(ValueError, match="fewer panels"):
        _product.product_rows(flat_rows(acc), 0, flat_rows(x), 0, 3, 5, b, bp, _product.PACKED)
    np.testing.assert_array_equal(acc, 1)


def test_panels_lay_out_columns_in_zero_padded_panels():
    b = np.arange(2 * 5, dtype=np.float32).reshape(2, 5)
    p = panels(b, 4).reshape(2, 2, 4)  # two panels of 2 x 4
    np.testing.assert_array_equal(p[0], b[:, :4])
    np.testing.assert_array_equal(p[1], [[4, 0, 0, 0], [9, 0, 0, 0]])


@pytest.mark.parametrize("F,ctype", [("float32", ctypes.c_float), ("float64", ctypes.c_double)])
def test_the_stand_in_for_a_missing_blas_writes_nan(F, ctype):
    """Where NumPy's OpenBLAS is not found, the linked symbol does no product: it fills its output
    with NaN (callers take another product there, so a wrong call cannot go unnoticed)."""
    from numba import types

    gemm = _blas._stand_in(getattr(types, F))
    c = np.zeros((2, 5), getattr(np, F))
    fn = gemm.ctypes
    ptr = ctypes.POINTER(ctype)
    a = np.ones(8, getattr(np, F)).ctypes.data_as(ptr)
    fn(101, 111, 111, 2, 3, 4, 1.0, a, 4, a, 3, 1.0, c.ctypes.data_as(ptr), 5)
    assert np.isnan(c[:, :3]).all() and (c[:, 3:] == 0).all()
