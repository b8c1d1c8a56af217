"""A bidirectional layer's two forward loops at once, one a thread of the pool (_product.pair_directions): the
same bits as the directions in turn, torch's numbers, and only where both loops are compiled and the pool is
installed."""

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


def _module(lib, kind, H, dtype, num_layers=2, **options):
    extra = {"nonlinearity": "relu"} if kind == "RNN_RELU" else {}
    cls = getattr(lib.nn, "RNN" if kind.startswith("RNN") else kind)
    dt = torch_dtype(dtype) if lib is torch else dtype
    return cls(7, H, num_layers=num_layers, bidirectional=True, dtype=dt, **extra, **options)


def _inputs(kind, T, N, H, dtype, rng, num_layers=2):
    x = rng.standard_normal((T, N, 7)).astype(dtype)
    n_states = 2 if kind == "LSTM" else 1
    states = [(0.5 * rng.standard_normal((2 * num_layers, N, H))).astype(dtype) for _ in range(n_states)]
    seeds = [rng.standard_normal((T, N, 2 * H)).astype(dtype)]
    seeds += [rng.standard_normal(s.shape).astype(dtype) for s in states]
    return x, states, seeds


@pytest.fixture
def pairs(monkeypatch):
    """A count of the calls of each kind module's _forward_pair; skips where the pool cannot be installed."""
    if _pool.parts(2 * _pool.MIN_ROWS_PER_PART) < 2:
        pytest.skip("the directions at once need the shared pool (2 threads, NumPy's OpenBLAS with the callback)")
    return count_calls(monkeypatch, KINDS.values(), "_forward_pair")


def _in_turn(monkeypatch):
    monkeypatch.setattr(_product, "pair_directions", lambda modes: False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("N,H", [(1, 37), (2, 5), (6, 37)])
def test_both_directions_at_once_keep_the_bits_of_the_directions_in_turn(pairs, monkeypatch, dtype, kind, N, H):
    """Each direction's loop is the same compiled loop over the same rows (at N = 1 the units split's bits are
    the whole loop's): at once or in turn, the output, the final states and every gradient are the same bits,
    in training and in inference."""
    rng = np.random.default_rng([N, H, np.dtype(dtype).itemsize])
    m = _module(deeprnn, kind, H, dtype)
    x, states, seeds = _inputs(kind, 9, N, H, dtype, rng)
    at_once = [v.detach().numpy().copy() for v in sum(module_values_and_grads(m, deeprnn, x, states, seeds), [])]
    assert pairs.get(KINDS[kind].__name__, 0) == 2  # one call a layer
    with deeprnn.no_grad():
        st = [deeprnn.tensor(s) for s in states]
        inferred = m(deeprnn.tensor(x), tuple(st) if len(st) == 2 else st[0])[0].numpy().copy()
    assert pairs[KINDS[kind].__name__] == 4
    _in_turn(monkeypatch)
    m.zero_grad()
    in_turn = [v.detach().numpy() for v in sum(module_values_and_grads(m, deeprnn, x, states, seeds), [])]
    assert pairs[KINDS[kind].__name__] == 4  # nothing more at once
    for a, b in zip(at_once, in_turn):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(inferred, in_turn[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("N,H,num_layers,bias", [(1, 200, 1, True), (8, 37, 3, False)])
def test_both_directions_at_once_match_torch(pairs, dtype, kind, N, H, num_layers, bias):
    """Against torch 2.13 at the project's tolerances: output, final states, and the gradients of the input, the
    initial states and every parameter."""
    rng = np.random.default_rng([N, H, num_layers, np.dtype(dtype).itemsize])
    ref = _module(torch, kind, H, dtype, num_layers, bias=bias)
    ours = _module(deeprnn, kind, H, dtype, num_layers, bias=bias)
    ours.load_state_dict(ref.state_dict())
    x, states, seeds = _inputs(kind, 11, N, H, dtype, rng, num_layers)
    (t_values, t_grads), (d_values, d_grads) = (
        module_values_and_grads(ref, torch, x, states, seeds),
        module_values_and_grads(ours, deeprnn, x, states, seeds),
    )
    assert pairs.get(KINDS[kind].__name__, 0) == num_layers
    for i, (a, b) in enumerate(zip(d_values + d_grads, t_values + t_grads)):
        assert_close(a, b, dtype, f"value {i}")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_directions_run_in_turn_without_the_pool_or_for_packed_input(pairs, monkeypatch, kind):
    """No pool with two threads (the loops' threads would fight OpenBLAS's own): in turn.  A packed batch of
    several lengths runs in segments: in turn.  Both still match torch."""
    rng = np.random.default_rng(3)
    ref = _module(torch, kind, 16, np.float32)
    ours = _module(deeprnn, kind, 16, np.float32)
    ours.load_state_dict(ref.state_dict())
    x, states, _ = _inputs(kind, 6, 4, 16, np.float32, rng)
    with monkeypatch.context() as patched, deeprnn.no_grad():
        patched.setattr(_pool, "parts", lambda rows: 1)
        out = ours(deeprnn.tensor(x))[0]
    assert pairs.get(KINDS[kind].__name__, 0) == 0
    assert_close(out, ref(torch.tensor(x))[0], np.float32, "output without the pool")
    with deeprnn.no_grad():
        ours(deeprnn.tensor(x))  # with the pool: at once
    assert pairs[KINDS[kind].__name__] == 2
    lengths = [6, 4, 4, 2]
    packed = deeprnn.nn.utils.rnn.pack_padded_sequence(deeprnn.tensor(x), lengths)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths)
    with deeprnn.no_grad():
        out = ours(packed)[0]
    assert pairs[KINDS[kind].__name__] == 2
    assert_close(out.data, ref(t_packed)[0].data, np.float32, "packed output")


@pytest.mark.parametrize(
    "modes", [(_product.PACKED, _product.BLAS), (_product.HAND, _product.PACKED), (None, _product.DOT)]
)
def test_pair_directions_needs_both_loops_packed_or_dot(modes):
    """BLAS would call OpenBLAS inside the pool's own threads; HAND is not measured; None is no compiled loop."""
    assert not _product.pair_directions(modes)
