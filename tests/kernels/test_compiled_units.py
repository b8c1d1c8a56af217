"""Batch-1 forward loops with the hidden units in two parts on two threads (kernels/compiled/_sync.py):
the same bits as the whole loop, torch's numbers, and a part that no thread starts run by the other."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")
torch = pytest.importorskip("torch")

from _kernels_helpers import count_calls, module_values_and_grads  # noqa: E402

import deeprnn  # noqa: E402
from deeprnn.kernels.compiled import _pool, _product  # noqa: E402
from deeprnn.kernels.compiled import gru as compiled_gru  # noqa: E402
from deeprnn.kernels.compiled import lstm as compiled_lstm  # noqa: E402
from deeprnn.kernels.compiled import rnn as compiled_rnn  # noqa: E402
from oracle import assert_close, torch_dtype  # noqa: E402

KINDS = {"LSTM": compiled_lstm, "GRU": compiled_gru, "RNN": compiled_rnn, "RNN_RELU": compiled_rnn}


def _module(lib, kind, H, dtype, bias, bidirectional):
    extra = {"nonlinearity": "relu"} if kind == "RNN_RELU" else {}
    cls = getattr(lib.nn, "RNN" if kind.startswith("RNN") else kind)
    dt = torch_dtype(dtype) if lib is torch else dtype
    return cls(7, H, bias=bias, bidirectional=bidirectional, dtype=dt, **extra)


def _inputs(kind, H, dtype, bidirectional, rng):
    D = 2 if bidirectional else 1
    x = rng.standard_normal((9, 1, 7)).astype(dtype)
    n_states = 2 if kind == "LSTM" else 1
    states = [(0.5 * rng.standard_normal((D, 1, H))).astype(dtype) for _ in range(n_states)]
    seeds = [rng.standard_normal((9, 1, D * H)).astype(dtype)]
    seeds += [rng.standard_normal((D, 1, H)).astype(dtype) for _ in range(n_states)]
    return x, states, seeds


@pytest.fixture
def split(monkeypatch):
    """The split forced at every size (it is forced off with MIN_SPLIT_BYTES raised), and a count of the calls
    that took it, per kind module.  A bidirectional layer's directions run in turn, each through the split,
    instead of both at once (_product.pair_directions; tests/kernels/test_compiled_pair.py)."""
    if not _pool.installed():
        pytest.skip("the units split needs the shared pool (2 threads, NumPy's OpenBLAS with the callback)")
    calls = count_calls(monkeypatch, KINDS.values(), "_forward_units")
    monkeypatch.setattr(_product, "pair_directions", lambda modes: False)
    monkeypatch.setattr(_product, "MIN_SPLIT_BYTES", 0)
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("H", [5, 37, 200])
@pytest.mark.parametrize("bias,bidirectional", [(True, False), (False, True)])
def test_the_units_split_keeps_the_bits_of_the_whole_loop(split, monkeypatch, dtype, kind, H, bias, bidirectional):
    """Each value of a step's product is a dot product over all of h_prev (_dot.py: its order depends on K
    only), and the cell is elementwise: split or whole, the output, final states and every gradient are the
    same bits, in both directions (at H = 5 the second part has no units)."""
    rng = np.random.default_rng([H, int(bias), int(bidirectional), np.dtype(dtype).itemsize])
    m = _module(deeprnn, kind, H, dtype, bias, bidirectional)
    x, states, seeds = _inputs(kind, H, dtype, bidirectional, rng)
    got = {}
    for label, limit in (("split", 0), ("whole", 1 << 62)):
        monkeypatch.setattr(_product, "MIN_SPLIT_BYTES", limit)
        m.zero_grad()
        values, grads = module_values_and_grads(m, deeprnn, x, states, seeds)
        got[label] = [v.detach().numpy().copy() for v in values + grads]
    assert split.get(KINDS[kind].__name__, 0) == (2 if bidirectional else 1)  # split: one call a direction
    for a, b in zip(got["split"], got["whole"]):
        np.testing.assert_array_equal(a, b)
    with deeprnn.no_grad():  # the inference path, which keeps nothing for backward
        monkeypatch.setattr(_product, "MIN_SPLIT_BYTES", 0)
        st = [deeprnn.tensor(s) for s in states]
        out = m(deeprnn.tensor(x), tuple(st) if len(st) == 2 else st[0])[0].numpy()
    np.testing.assert_array_equal(out, got["whole"][0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("H,bias,bidirectional", [(37, True, True), (200, True, False), (64, False, False)])
def test_the_units_split_matches_torch(split, dtype, kind, H, bias, bidirectional):
    """Against torch 2.13 at the project's tolerances: output, final states, and the gradients of the input, the
    initial states and every parameter."""
    rng = np.random.default_rng([H, 7, np.dtype(dtype).itemsize])
    ref = _module(torch, kind, H, dtype, bias, bidirectional)
    ours = _module(deeprnn, kind, H, dtype, bias, bidirectional)
    ours.load_state_dict(ref.state_dict())
    x, states, seeds = _inputs(kind, H, dtype, bidirectional, rng)
    (t_values, t_grads), (d_values, d_grads) = (
        module_values_and_grads(ref, torch, x, states, seeds),
        module_values_and_grads(ours, deeprnn, x, states, seeds),
    )
    assert split.get(KINDS[kind].__name__, 0) >= 1
    for i, (a, b) in enumerate(zip(d_values + d_grads, t_values + t_grads)):
        assert_close(a, b, dtype, f"value {i}")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_part_that_no_thread_starts_is_run_by_the_other(split, monkeypatch, kind):
    """With one thread, numba runs both parts one after the other: the first waits for the second, which
    never starts, until it claims it and runs its steps itself (_sync.wait_for); the call ends, with torch's
    numbers (the first call of a fresh module, whose buffers hold nothing computed before)."""
    import numba

    rng = np.random.default_rng(3)
    H = 40
    ref = _module(torch, kind, H, np.float32, True, True)
    ours = _module(deeprnn, kind, H, np.float32, True, True)
    ours.load_state_dict(ref.state_dict())
    x = rng.standard_normal((6, 1, 7)).astype(np.float32)
    monkeypatch.setattr(_product, "split_units", lambda N, mode, nbytes: N == 1 and mode == _product.DOT)
    saved = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with deeprnn.no_grad():
            alone = ours(deeprnn.tensor(x))[0]
    finally:
        numba.set_num_threads(saved)
    assert split.get(KINDS[kind].__name__, 0) == 2
    with torch.no_grad():
        assert_close(alone, ref(torch.tensor(x))[0], np.float32, "output")


def test_split_units_only_at_batch_1_in_dot_mode_from_min_split_bytes():
    big = _product.MIN_SPLIT_BYTES
    assert not _product.split_units(2, _product.DOT, big)
    assert not _product.split_units(1, _product.PACKED, big)
    assert not _product.split_units(1, _product.DOT, big - 1)
    assert _product.split_units(1, _product.DOT, big) == _pool.installed()


def test_the_parts_units_cover_every_unit_once_and_cut_on_a_line():
    from deeprnn.kernels.compiled._sync import unit_range

    for H in (1, 5, 16, 17, 37, 100, 200, 1024):
        for per_line in (8, 16):
            (a0, a1), (b0, b1) = unit_range(H, 0, per_line), unit_range(H, 1, per_line)
            assert a0 == 0 and a1 == b0 and b1 == H and a1 <= H
            assert a1 % per_line == 0 or a1 == H
    assert unit_range(200, 0, 16) == (0, 96) and unit_range(100, 0, 16) == (0, 48)
