"""A layer's input projection on the packed kernel (kernels/compiled/_projection.py), the kernel's = form
(_gemm.packed_product_set) and the compiled packing of W^T's panels (_pack.py)."""

from __future__ import annotations

import numpy as np
import pytest

from oracle import assert_close

pytest.importorskip("numba")
torch = pytest.importorskip("torch")

import deeprnn  # noqa: E402
from deeprnn.kernels import stack, transposed  # noqa: E402
from deeprnn.kernels.compiled import _gemm, _pack, _projection  # noqa: E402
from deeprnn.kernels.compiled._rows import flat_rows  # noqa: E402
from deeprnn.kernels.panels import panels  # noqa: E402


@pytest.fixture
def packed():
    """The packed product on, as it is on AVX-512 processors (where this changes nothing); elsewhere the same
    kernel at AVX2's width, so that these tests run on every processor.  Its own patch, which the tests'
    monkeypatch.undo() leaves alone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_gemm, "enabled", lambda: True)
        yield


uses_packed = pytest.mark.usefixtures("packed")

# Rows around the kernel's blocks of 4, 2 and 1; columns around its panels and their padded tails; shared
# dimensions past its chunk of KC = 128, uneven and exact.
SHAPES = [(1, 3, 5), (2, 65, 64), (3, 33, 129), (7, 300, 70), (9, 128, 200), (25, 65, 800), (1, 1, 1), (6, 257, 3)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N,K,M", SHAPES)
def test_the_set_product_is_the_add_product_on_zeros_and_never_reads_acc(dtype, N, K, M):
    """acc's rows = x's rows times b: the bits of packed_product_rows on rows of zeros, whatever acc held
    (NaN here, which any read would carry into the sums), and the rows around them untouched."""
    rng = np.random.default_rng(N * 100 + K + M)
    x, b = rng.standard_normal((N, K)).astype(dtype), rng.standard_normal((K, M)).astype(dtype)
    bp = panels(b, _gemm.panel_width(b.itemsize))
    buf = np.full((N + 2, 2 * M), np.nan, dtype)
    acc = buf[1 : N + 1, M:]  # strided rows
    _gemm.packed_product_set(flat_rows(acc), 0, flat_rows(x), 0, N, K, bp, M)
    added = np.zeros((N, M), dtype)
    _gemm.packed_product_rows(flat_rows(added), 0, flat_rows(x), 0, N, K, bp, M)
    np.testing.assert_array_equal(acc, added)
    assert_close(acc, torch.from_numpy(x) @ torch.from_numpy(b), what="x b")
    outside = np.ones(buf.shape, bool)
    outside[1 : N + 1, M:] = False
    assert np.isnan(buf[outside]).all()


def test_the_set_product_with_no_shared_dimension_sets_zeros():
    acc = np.full((3, 70), np.nan, np.float32)
    x, bp = np.ones((3, 0), np.float32), np.zeros(0, np.float32)
    _gemm.packed_product_set(flat_rows(acc), 0, flat_rows(x), 0, 3, 0, bp, 70)
    np.testing.assert_array_equal(acc, 0)


def test_the_set_product_refuses_too_few_panels():
    acc, x, b = np.ones((2, 70), np.float32), np.ones((2, 5), np.float32), np.ones((5, 70), np.float32)
    bp = panels(b, _gemm.panel_width(4))
    with pytest.raises(ValueError, match="fewer panels"):
        _gemm.packed_product_set(flat_rows(acc), 0, flat_rows(x), 0, 2, 5, bp[:-1], 70)
    np.testing.assert_array_equal(acc, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("M,K", [(3, 5), (16, 16), (100, 33), (800, 200), (2048, 65), (129, 17), (0, 4), (65, 0)])
def test_compiled_panels_of_w_transposed_are_numpys(dtype, M, K):
    """_pack.panels_t(w, NR) holds the bits of panels(w.T, NR): whole and partial tiles and panels, padding zeros."""
    w = np.random.default_rng(M + K).standard_normal((M, K)).astype(dtype)
    NR = _gemm.panel_width(w.itemsize)
    got = _pack.panels_t(w, NR)
    np.testing.assert_array_equal(got, panels(w.T, NR))
    assert got.size == 0 or got.ctypes.data % 64 == 0


def test_kept_panels_of_a_large_weight_come_from_the_compiled_packer(monkeypatch):
    """From COMPILED_PACK_BYTES, transposed.forms packs W^T's panels with _pack.panels_t: the same bits."""
    w = np.random.default_rng(2).standard_normal((2048, 160)).astype(np.float32)
    assert w.nbytes >= transposed.COMPILED_PACK_BYTES
    calls = []
    monkeypatch.setattr(_pack, "panels_t", lambda w, nr: calls.append(w.shape) or panels(w.T, nr))
    transposed.clear()
    try:
        (got,) = transposed.forms(w, ("panels_t", 64))
    finally:
        transposed.clear()
    assert calls == [w.shape]
    np.testing.assert_array_equal(got, panels(w.T, 64))


@uses_packed
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("R,K,M", [(128, 65, 800), (1600, 65, 512), (129, 3, 129), (300, 200, 64), (201, 40, 90)])
def test_project_is_x_times_w_transposed_in_two_parts_with_the_bits_of_one(dtype, R, K, M):
    """project(x, w, out): out = x w^T within the tolerances of torch's product, its rows in two parts on
    the pool's threads with the bits of one packed_product_set over all of them."""
    rng = np.random.default_rng(R + K + M)
    x, w = rng.standard_normal((R, K)).astype(dtype), rng.standard_normal((M, K)).astype(dtype)
    out = np.full((R, M), np.nan, dtype)
    assert _projection._parts(x, w, out) == 2
    assert _projection.project(x, w, out)
    assert_close(out, torch.from_numpy(x) @ torch.from_numpy(w).T, what="x w^T")
    whole = np.full((R, M), np.nan, dtype)
    bp = panels(w.T, _gemm.panel_width(w.itemsize))
    _gemm.packed_product_set(flat_rows(whole), 0, flat_rows(x), 0, R, K, bp, M)
    np.testing.assert_array_equal(out, whole)


@uses_packed
def test_project_leaves_out_alone_where_it_does_not_run(monkeypatch):
    """Mixed dtypes, fewer than MIN_ROWS rows, a weight too large to keep, no second thread of the pool (a
    forked worker): False, out untouched (the stack then takes NumPy's product)."""
    R = _projection.MIN_ROWS
    x, w = np.ones((R, 3), np.float32), np.ones((5, 3), np.float32)
    out = np.full((R, 5), 7.0, np.float32)
    assert not _projection.project(x.astype(np.float64), w, out)
    assert not _projection.project(x[: R - 1], w, out[: R - 1])
    monkeypatch.setattr(_projection, "MAX_ARRAY_BYTES", w.nbytes - 1)
    assert not _projection.project(x, w, out)
    monkeypatch.undo()
    monkeypatch.setattr(_projection, "split_parts", lambda rows, mode: 1)
    assert not _projection.project(x, w, out)
    np.testing.assert_array_equal(out, 7.0)
    monkeypatch.undo()
    assert _projection.project(x, w, out)
    np.testing.assert_array_equal(out, 3.0)


@uses_packed
def test_project_layer_writes_each_directions_columns_from_its_own_weight():
    """A bidirectional layer: out's columns d M .. (d + 1) M - 1 = x W_ih[d]^T, each W_ih kept packed
    by itself."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((150, 20)).astype(np.float32)
    ws = [rng.standard_normal((48, 20)).astype(np.float32) for _ in range(2)]
    out = np.full((150, 96), np.nan, np.float32)
    assert _projection.project_layer(x, ws, out)
    for d in range(2):
        assert_close(out[:, d * 48 : (d + 1) * 48], torch.from_numpy(x) @ torch.from_numpy(ws[d]).T, what=f"dir {d}")


@uses_packed
def test_the_compiled_lstm_takes_the_packed_projection_and_the_numpy_path_does_not(monkeypatch):
    """Under the compiled backend a layer's X W_ih^T is the packed kernel's (no NumPy matmul in the stack);
    under "numpy" it is NumPy's; both match torch's LSTM."""
    x = np.random.default_rng(1).standard_normal((20, 8, 12)).astype(np.float32)
    m = deeprnn.nn.LSTM(12, 32, num_layers=2, bidirectional=True)
    ref = torch.nn.LSTM(12, 32, num_layers=2, bidirectional=True)
    with torch.no_grad():
        for name, p in ref.named_parameters():
            p.copy_(torch.from_numpy(getattr(m, name).detach().numpy()))
        expected = ref(torch.from_numpy(x))[0]
    seen = []

    class CountingNumPy:  # the stack's np, its matmul counted
        def matmul(self, *args, **kwargs):
            seen.append(1)
            return np.matmul(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(np, name)

    for backend, matmuls in (("numba", 0), ("numpy", 2)):
        seen.clear()
        monkeypatch.setattr(stack, "np", CountingNumPy())
        deeprnn.kernels.set_backend(backend)
        try:
            with deeprnn.no_grad():
                out = m(deeprnn.tensor(x))[0]
        finally:
            deeprnn.kernels.set_backend("auto")
            monkeypatch.undo()
        assert len(seen) == matmuls, backend
        assert_close(out.numpy(), expected, what=backend)
