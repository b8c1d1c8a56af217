"""The shared thread pool (kernels/compiled/_pool.py) and the LSTM loops that split a batch's rows over it."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("numba")

from deeprnn.kernels.compiled import _pool  # noqa: E402
from deeprnn.kernels.compiled import lstm as compiled_lstm  # noqa: E402
from deeprnn.kernels.compiled._product import HAND, PACKED, backward_operands, forward_operands  # noqa: E402
from deeprnn.kernels.compiled._rows import flat_rows  # noqa: E402

POOL_EXPECTED = (os.cpu_count() or 1) >= 2 and _pool.blas_library.library() is not None


def _lstm_operands(rng, T, N, H, dtype):
    w_hh = (rng.standard_normal((4 * H, H)) / np.sqrt(H)).astype(dtype)
    a = rng.standard_normal((T, N, 4 * H)).astype(dtype)
    h0, c0 = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    return w_hh, a, h0, c0


def _run_forward(w_hh, a, h0, c0, reverse, mode, parts):
    T, N, G = a.shape
    H = G // 4
    (whh_t, bp), _ = _operands(w_hh, mode, a.dtype)
    a = a.copy()
    h, c, tc = (np.empty((T, N, H), a.dtype) for _ in range(3))
    R = flat_rows
    bias = (np.arange(G) / G - 0.5).astype(a.dtype)  # b_ih + b_hh, added in the loop
    bias.flags.writeable = False
    args = (whh_t, R(a), T, N, R(h0), R(c0), reverse, R(h), R(c), R(tc), bias, bp, mode)
    if parts == 1:
        compiled_lstm._forward(*args)
    else:
        compiled_lstm._forward_split(*args, parts)
    return a, h, c, tc


def _run_backward(w_hh, gates, cp, tc, dy, reverse, mode, parts):
    T, N, G = gates.shape
    H = G // 4
    _, (w, bp) = _operands(w_hh, mode, gates.dtype)
    da = np.empty_like(gates)
    dh, dc = np.zeros((N, H), da.dtype), np.zeros((N, H), da.dtype)
    R = flat_rows
    args = (w, R(da), R(gates), R(cp), R(tc), R(dy), True, T, N, reverse, dh, dc, bp, mode)
    if parts == 1:
        compiled_lstm._backward(*args)
    else:
        compiled_lstm._backward_split(*args, parts)
    return da, dh, dc


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["PACKED", "HAND"])
@pytest.mark.parametrize("N,parts", [(4, 2), (7, 2), (9, 3), (32, 2), (5, 4)])
@pytest.mark.parametrize("reverse", [False, True])
def test_split_lstm_loops_give_the_bits_of_the_whole_batch(dtype, mode, N, parts, reverse):
    """Rows never meet in the recurrence, so each part of a split batch gets the unsplit loop's bits,
    forward and backward, whatever the number of parts (uneven ones included)."""
    from deeprnn.kernels.compiled import _gemm

    if mode == "PACKED" and not _gemm.enabled():
        pytest.skip("the packed product needs AVX-512")  # HAND covers the split on every processor
    m = PACKED if mode == "PACKED" else HAND
    rng = np.random.default_rng([N, parts, int(reverse)])
    T, H = 6, 24
    w_hh, a, h0, c0 = _lstm_operands(rng, T, N, H, dtype)
    whole = _run_forward(w_hh, a, h0, c0, reverse, m, 1)
    split = _run_forward(w_hh, a, h0, c0, reverse, m, parts)
    for u, v in zip(whole, split):
        np.testing.assert_array_equal(u, v)
    assert np.isfinite(whole[1]).all() and np.abs(whole[1]).max() > 0
    gates = rng.uniform(0, 1, (T, N, 4 * H)).astype(dtype)
    cp, tc, dy = (rng.standard_normal((T, N, H)).astype(dtype) for _ in range(3))
    whole = _run_backward(w_hh, gates, cp, tc, dy, reverse, m, 1)
    split = _run_backward(w_hh, gates, cp, tc, dy, reverse, m, parts)
    for u, v in zip(whole, split):
        np.testing.assert_array_equal(u, v)
    assert np.abs(whole[1]).max() > 0


def _operands(w_hh, mode, dtype):
    """(W_hh^T, its panels) and (W_hh, its panels) for the loops in this mode, read-only as the layers give them."""
    if mode == PACKED:
        fwd, bwd = forward_operands(w_hh, True)[:2], backward_operands(w_hh, mode)
    else:
        empty = np.empty(0, dtype)
        fwd, bwd = (np.ascontiguousarray(w_hh.T), empty), (np.ascontiguousarray(w_hh), empty)
    for arr in (*fwd, bwd[1]):
        arr.flags.writeable = False
    return fwd, bwd


def _gru_loops(rng, T, N, H, dtype, reverse, mode, parts):
    """The GRU's forward and backward loops (compiled/gru.py), whole (parts = 1) or split: every output."""
    from deeprnn.kernels.compiled import gru as compiled_gru

    R = flat_rows
    w_hh = (rng.standard_normal((3 * H, H)) / np.sqrt(H)).astype(dtype)
    a = rng.standard_normal((T, N, 3 * H)).astype(dtype)
    h0, b_hn = rng.standard_normal((N, H)).astype(dtype), rng.standard_normal(H).astype(dtype)
    da = rng.standard_normal((T, N, 3 * H)).astype(dtype)
    dn, r, z, dy = (rng.standard_normal((T, N, H)).astype(dtype) for _ in range(4))
    (whh_t, fp), (w, bp) = _operands(w_hh, mode, dtype)
    h, hn, dh = np.empty((T, N, H), dtype), np.empty((T, N, H), dtype), np.zeros((N, H), dtype)
    bias = (np.arange(3 * H) / (3 * H) - 0.5).astype(dtype)  # b_ih + [b_hr, b_hz, 0], added in the loop
    bias.flags.writeable = False
    fwd = (whh_t, R(a), T, N, R(h0), b_hn, reverse, R(h), R(hn), bias, fp, mode)
    bwd = (w, R(da), R(dn), R(r), R(z), R(dy), True, T, N, reverse, dh, bp, mode)
    if parts == 1:
        compiled_gru._forward(*fwd), compiled_gru._backward(*bwd)
    else:
        compiled_gru._forward_split(*fwd, parts), compiled_gru._backward_split(*bwd, parts)
    return a, h, hn, da, dn, dh


def _rnn_loops(rng, T, N, H, dtype, reverse, mode, parts, relu):
    """The Elman RNN's forward and backward loops (compiled/rnn.py), whole or split: every output."""
    from deeprnn.kernels.compiled import rnn as compiled_rnn

    R = flat_rows
    w_hh = (rng.standard_normal((H, H)) / np.sqrt(H)).astype(dtype)
    a = rng.standard_normal((T, N, H)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    da, dy = (rng.standard_normal((T, N, H)).astype(dtype) for _ in range(2))
    carry = rng.standard_normal((N, H)).astype(dtype)
    (whh_t, fp), (w, bp) = _operands(w_hh, mode, dtype)
    bias = (np.arange(H) / H - 0.5).astype(dtype)  # b_ih + b_hh, added in the loop
    bias.flags.writeable = False
    fwd = (whh_t, R(a), T, N, R(h0), relu, reverse, bias, fp, mode)
    bwd = (w, R(da), R(dy), True, T, N, reverse, carry, bp, mode)
    if parts == 1:
        compiled_rnn._forward(*fwd), compiled_rnn._backward(*bwd)
    else:
        compiled_rnn._forward_split(*fwd, parts), compiled_rnn._backward_split(*bwd, parts)
    return a, da, carry


@pytest.mark.parametrize("kind", ["gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["PACKED", "HAND"])
@pytest.mark.parametrize("N,parts", [(4, 2), (7, 2), (9, 3), (32, 2)])
@pytest.mark.parametrize("reverse", [False, True])
def test_split_gru_and_rnn_loops_give_the_bits_of_the_whole_batch(kind, dtype, mode, N, parts, reverse):
    """As for the LSTM: the GRU's and the Elman RNN's split loops give each row the unsplit loop's bits."""
    from deeprnn.kernels.compiled import _gemm

    if mode == "PACKED" and not _gemm.enabled():
        pytest.skip("the packed product needs AVX-512")  # HAND covers the split on every processor
    m = PACKED if mode == "PACKED" else HAND
    T, H = 6, 24

    def run(parts):
        rng = np.random.default_rng([N, int(reverse), len(kind)])  # the same operands for both runs
        if kind == "gru":
            return _gru_loops(rng, T, N, H, dtype, reverse, m, parts)
        return _rnn_loops(rng, T, N, H, dtype, reverse, m, parts, kind == "rnn_relu")

    whole, split = run(1), run(parts)
    for u, v in zip(whole, split):
        np.testing.assert_array_equal(u, v)
    assert all(np.isfinite(u).all() and np.abs(u).max() > 0 for u in whole)


def test_parts_needs_two_rows_a_part():
    assert _pool.parts(1) == 1 and _pool.parts(3) == 1
    if _pool.installed():
        assert _pool.parts(4) == 2 and _pool.parts(64) >= 2


@pytest.mark.skipif(not POOL_EXPECTED, reason="the pool needs 2 cores and NumPy's bundled OpenBLAS")
def test_the_pool_installs_here_and_openblas_products_keep_their_bits():
    """Where NumPy bundles scipy-openblas on 2+ cores (CI's machines), the callback installs, and
    OpenBLAS's threaded products give the same bits on numba's threads as on its own."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((700, 500)).astype(np.float32)
    b = rng.standard_normal((500, 900)).astype(np.float32)
    assert _pool.installed(), "the callback did not install: see _pool's conditions"
    on = a @ b
    _pool.set_thread_pool(False)
    try:
        assert not _pool.installed()
        off = a @ b
    finally:
        _pool.set_thread_pool(True)
    assert _pool.installed()
    np.testing.assert_array_equal(on, off)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    assert np.abs(on - ref).max() <= 1e-5 * np.abs(ref).max()


def _child_work(_):
    import deeprnn as dr
    from deeprnn.kernels.compiled import _pool as pool

    x = np.random.default_rng(3).standard_normal((5, 8, 3)).astype(np.float32)
    m = dr.nn.LSTM(3, 16)
    big = np.random.default_rng(4).standard_normal((600, 600)).astype(np.float32)
    with dr.no_grad():
        out = m(dr.tensor(x))[0].numpy()
    return pool.installed(), pool.parts(8), float((big @ big)[0, 0]), bool(np.isfinite(out).all())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_uninstalls_the_pool_and_still_computes():
    """A DataLoader worker is a fork: OpenMP's threads do not survive it, so the child goes back to
    OpenBLAS's own threads and never splits a batch, and its products and LSTM calls finish."""
    _pool.installed()
    big = np.random.default_rng(4).standard_normal((600, 600)).astype(np.float32)
    expected = float((big @ big)[0, 0])
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as workers:
        installed, parts, product, finite = workers.map_async(_child_work, [0]).get(timeout=120)[0]
    assert (installed, parts, finite) == (False, 1, True)
    assert product == expected


def test_deeprnn_pool_off_keeps_openblas_threads():
    """DEEPRNN_POOL=off: the callback is never installed."""
    code = "from deeprnn.kernels.compiled import _pool; print(_pool.installed(), _pool.parts(32))"
    env = dict(os.environ, DEEPRNN_POOL="off")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "1"]


def test_set_thread_pool_false_uninstalls_and_stops_the_split():
    """deeprnn.kernels.set_thread_pool(False) uninstalls the callback and the LSTM stops splitting; True
    allows it again."""
    code = (
        "from deeprnn.kernels import backend, set_thread_pool\n"
        "from deeprnn.kernels.compiled import _pool\n"
        "a = (_pool.installed(), backend.split_parts('lstm', 32))\n"
        "set_thread_pool(False)\n"
        "b = (_pool.installed(), _pool._state['setter'] is None, backend.split_parts('lstm', 32))\n"
        "set_thread_pool(True)\n"
        "c = (_pool.installed(), backend.split_parts('lstm', 32))\n"
        "print(a, b, c)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DEEPRNN_POOL"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "(True, 2) (False, True, 1) (True, 2)"


def test_one_openblas_thread_means_no_split():
    """OPENBLAS_NUM_THREADS=1 (as each MPI rank runs): the pool may install, but nothing splits, so that
    the processes of one machine do not take two threads each."""
    code = "from deeprnn.kernels.compiled import _pool; print(_pool.parts(32))"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env.pop("DEEPRNN_POOL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["1"]


def test_spin_bound_sets_gomp_spincount_only_while_libgomp_loads(monkeypatch):
    """libgomp's idle threads spin SPIN_COUNT times, not its default 300,000, unless the user chose: the
    variable is set only inside _spin_bound (while the threading layer loads), and a user's value stays."""
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with _pool._spin_bound():
        assert os.environ["GOMP_SPINCOUNT"] == str(_pool.SPIN_COUNT) == "30000"
    assert "GOMP_SPINCOUNT" not in os.environ
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    with _pool._spin_bound():
        assert "GOMP_SPINCOUNT" not in os.environ
    monkeypatch.setenv("GOMP_SPINCOUNT", "5")
    with _pool._spin_bound():
        assert os.environ["GOMP_SPINCOUNT"] == "5"
    assert os.environ["GOMP_SPINCOUNT"] == "5"


def test_only_the_packed_product_splits():
    """The compiled loops split with the packed product only: BLAS would wait inside the pool's own threads,
    and HAND's speed split is not measured where it runs (compiled/_product.py)."""
    from deeprnn.kernels.compiled._product import BLAS, split_parts

    assert split_parts(32, HAND) == 1 and split_parts(32, BLAS) == 1 and split_parts(32, None) == 1
    assert split_parts(32, PACKED) == _pool.parts(32)
