"""The batch-1 backward product as one pass over b's rows (kernels/compiled/_stream.py): the bits of the packed
kernel's blocks on b (strided_product_rows), the values of torch's product, and the width it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from oracle import assert_close, torch_dtype

pytest.importorskip("numba")
torch = pytest.importorskip("torch")

import deeprnn  # noqa: E402
from deeprnn.kernels.compiled import _gemm, _product, _stream  # noqa: E402
from deeprnn.kernels.compiled._rows import flat_rows  # noqa: E402


def _widths(dtype) -> list[int]:
    """Row widths around the vectors (16 float32 or 8 float64 lanes with AVX-512) and up to stream_width."""
    lanes = _gemm.VECTOR_BYTES // np.dtype(dtype).itemsize
    top = _stream.stream_width(np.dtype(dtype).itemsize)
    return sorted({1, lanes - 1, lanes, lanes + 1, 3 * lanes + 5, 200 if top >= 200 else top - 3, top - 1, top})


def _case(dtype, N, K, M, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N + 2, 3 * K + 1)).astype(dtype)[:, K : 2 * K]  # strided rows of x
    b = rng.standard_normal((K, M)).astype(dtype)
    acc_buf = rng.standard_normal((N + 3, 2 * M + 1)).astype(dtype)
    return x, b, acc_buf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K", [1, 7, 130, 800])
@pytest.mark.parametrize("N", [1, 3])
def test_the_stream_keeps_the_bits_of_the_strided_blocks_and_the_values_of_torch(dtype, K, N):
    """Every width up to stream_width, rows of acc and x inside wider buffers: the same bits as
    strided_product_rows (each sum over k in order, one rounding per multiply-add), torch's values, and
    nothing written outside acc's rows and columns."""
    for M in _widths(dtype):
        x, b, acc_buf = _case(dtype, N, K, M, seed=K * 1000 + M + N)
        acc = acc_buf[:, M + 1 :]
        before = acc_buf.copy()
        strided = acc.copy()
        _gemm.strided_product_rows(flat_rows(strided), 1, flat_rows(x), 1, N, K, b.reshape(-1), M)
        _stream.stream_product_rows(flat_rows(acc), 1, flat_rows(x), 1, N, K, b.reshape(-1), M)
        np.testing.assert_array_equal(acc, strided, err_msg=f"M = {M}")
        expected = torch.from_numpy(before[1 : 1 + N, M + 1 :].copy()) + torch.from_numpy(
            x[1 : 1 + N].copy()
        ) @ torch.from_numpy(b)
        assert_close(acc[1 : 1 + N], expected, what=f"acc rows, M = {M}")
        untouched = np.ones(acc_buf.shape, bool)
        untouched[1 : 1 + N, M + 1 :] = False
        np.testing.assert_array_equal(acc_buf[untouched], before[untouched])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_product_rows_strided_has_torchs_values_on_both_sides_of_the_streams_width(dtype):
    """STRIDED in product_rows: rows of at most stream_width values go to the stream, wider ones to
    strided_product_rows (the same bits, so which ran shows only in the time); both give torch's values."""
    top = _stream.stream_width(np.dtype(dtype).itemsize)
    for M in (top, top + 1, 3 * top + 7):
        x, b, acc_buf = _case(dtype, 1, 9, M, seed=M)
        acc, x1 = np.ascontiguousarray(acc_buf[:1, :M]), np.ascontiguousarray(x[:1])
        expected = torch.from_numpy(acc.copy()) + torch.from_numpy(x1) @ torch.from_numpy(b)
        w, flat = _product.backward_operands(b, _product.STRIDED)
        _product.product_rows(flat_rows(acc), 0, flat_rows(x1), 0, 1, 9, w, flat, _product.STRIDED)
        assert_close(acc, expected, what=f"M = {M}")


def test_the_stream_refuses_a_short_b_or_a_row_wider_than_its_width():
    acc, x = np.ones((1, 70), np.float32), np.ones((1, 5), np.float32)
    b = np.ones(5 * 70, np.float32)
    with pytest.raises(ValueError, match="fewer than K"):
        _stream.stream_product_rows(flat_rows(acc), 0, flat_rows(x), 0, 1, 5, b[:349], 70)
    np.testing.assert_array_equal(acc, 1)
    wide = _stream.stream_width(4) + 1
    acc, b = np.ones((1, wide), np.float32), np.ones(5 * wide, np.float32)
    with pytest.raises(ValueError, match="wider than stream_width"):
        _stream.stream_product_rows(flat_rows(acc), 0, flat_rows(x), 0, 1, 5, b, wide)
    np.testing.assert_array_equal(acc, 1)


def test_no_columns_or_no_rows_is_a_no_op():
    acc, x = np.ones((2, 4), np.float32), np.ones((2, 3), np.float32)
    _stream.stream_product_rows(flat_rows(acc), 0, flat_rows(x), 0, 0, 3, np.ones(12, np.float32), 4)
    _stream.stream_product_rows(flat_rows(acc[:, :0]), 0, flat_rows(x), 0, 2, 3, np.ones(0, np.float32), 0)
    np.testing.assert_array_equal(acc, 1)


def _module(lib, kind, H, dtype):
    cls = getattr(lib.nn, "RNN" if kind.startswith("RNN") else kind)
    extra = {"nonlinearity": "relu"} if kind == "RNN_RELU" else {}
    return cls(7, H, dtype=torch_dtype(dtype) if lib is torch else dtype, **extra)


def _train(m, lib, x, h0, seed):
    """Output, h_n and the gradients of x, h_0 and every parameter under a random-weighted loss."""
    xt, st = lib.tensor(x, requires_grad=True), lib.tensor(h0, requires_grad=True)
    out, _ = m(xt, (st, st * 0.5) if isinstance(m, (torch.nn.LSTM, deeprnn.nn.LSTM)) else st)
    (out * lib.tensor(seed)).sum().backward()
    return [out, xt.grad, st.grad] + [p.grad for _, p in m.named_parameters()]


@pytest.mark.parametrize(
    "dtype,kind,H",
    [(np.float32, k, H) for k in ("RNN", "RNN_RELU", "LSTM", "GRU") for H in (100, 300)]
    + [(np.float32, "RNN", 500), (np.float64, "LSTM", 50), (np.float64, "GRU", 150), (np.float64, "RNN", 300)],
)
def test_batch_1_training_through_the_stream_matches_torch(dtype, kind, H):
    """A batch-1 train step of each kind, whose backward product runs the stream (rows up to stream_width: H = 100,
    300 in float32; 50, 150 in float64) or the strided blocks beyond it (float32 H = 500, float64 H = 300): the
    output, the gradients of the input and of h_0, and every parameter's, against torch 2.13."""
    rng = np.random.default_rng([H, np.dtype(dtype).itemsize])
    ref, ours = _module(torch, kind, H, dtype), _module(deeprnn, kind, H, dtype)
    ours.load_state_dict(ref.state_dict())
    x = rng.standard_normal((9, 1, 7)).astype(dtype)
    h0 = (0.5 * rng.standard_normal((1, 1, H))).astype(dtype)
    seed = rng.standard_normal((9, 1, H)).astype(dtype)
    for i, (a, b) in enumerate(zip(_train(ours, deeprnn, x, h0, seed), _train(ref, torch, x, h0, seed))):
        assert_close(a, b, dtype, f"value {i}")
