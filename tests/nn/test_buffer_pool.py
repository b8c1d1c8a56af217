"""The RNN's buffer pool: arrays come back only when nothing refers to them, and numbers never change."""

from __future__ import annotations

import numpy as np
import pytest

import deeprnn
from deeprnn.nn.buffer_pool import BufferPool, rnn_buffers


def test_a_released_array_is_handed_out_again() -> None:
    pool = BufferPool(min_bytes=0)
    a = pool.empty((4, 5), np.float32)
    first = id(a)
    del a
    b = pool.empty((4, 5), np.float32)
    assert id(b) == first and b.shape == (4, 5) and b.dtype == np.float32 and b.flags.c_contiguous


def test_an_array_with_a_live_view_is_not_handed_out() -> None:
    pool = BufferPool(min_bytes=0)
    a = pool.empty((4, 5), np.float64)
    view = a[1:]
    del a
    b = pool.empty((4, 5), np.float64)
    assert b is not view.base
    assert not np.shares_memory(b, view)


@pytest.mark.parametrize("shape,dtype", [((5, 4), np.float32), ((4, 5), np.float64), ((20,), np.float32)])
def test_other_shapes_and_dtypes_get_their_own_array(shape: tuple, dtype: type) -> None:
    pool = BufferPool(min_bytes=0)
    a = pool.empty((4, 5), np.float32)
    b = pool.empty(shape, dtype)
    assert b.shape == shape and b.dtype == dtype and not np.shares_memory(a, b)


def test_memory_kept_is_capped_and_clear_releases_it() -> None:
    pool = BufferPool(max_bytes=1000, min_bytes=0)
    held = [pool.empty((100,), np.float32) for _ in range(5)]  # 400 bytes each, all in use
    assert pool.held_bytes() <= 1000
    assert all(a.shape == (100,) for a in held)
    del held
    pool.empty((200,), np.float32)  # 800 bytes: free arrays are dropped to make room
    assert pool.held_bytes() <= 1000
    pool.clear()
    assert pool.held_bytes() == 0


def _run(rnn: deeprnn.nn.RNN, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    xt = deeprnn.tensor(x, requires_grad=True)
    out, _ = rnn(xt)
    (out * out).sum().backward()
    grads = [xt.grad.numpy().copy()] + [p.grad.numpy().copy() for p in rnn.parameters()]
    for p in rnn.parameters():
        p.grad = None
    return out.detach().numpy(), grads


@pytest.fixture
def pool_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pool even the small test-sized buffers, so that these tests go through the pool."""
    monkeypatch.setattr(rnn_buffers, "min_bytes", 0)
    rnn_buffers.clear()
    yield
    rnn_buffers.clear()


def test_small_arrays_are_not_pooled_and_each_shape_is_capped() -> None:
    pool = BufferPool(min_bytes=1024, per_shape=2)
    small = pool.empty((10,), np.float32)  # 40 bytes
    assert pool.held_bytes() == 0 and small.shape == (10,)
    held = [pool.empty((16, 16), np.float64) for _ in range(3)]  # 2 KiB each: the third is not kept
    assert pool.held_bytes() == 2 * 2048
    assert len({id(a) for a in held}) == 3


def test_many_live_shapes_keep_the_pool_bounded() -> None:
    """A caller that keeps every output (e.g. one step at a time) must not grow the pool past its cap."""
    pool = BufferPool(max_bytes=64 * 1024, min_bytes=0)
    kept = [pool.empty((k + 1, 64), np.float32) for k in range(200)]
    assert pool.held_bytes() <= 64 * 1024
    assert all(a.shape == (k + 1, 64) for k, a in enumerate(kept))


@pytest.mark.usefixtures("pool_everything")
def test_outputs_held_by_the_user_are_never_overwritten() -> None:
    """Reusing buffers must not touch an output the caller still holds, nor change any number."""
    rng = np.random.default_rng(0)
    rnn = deeprnn.nn.RNN(3, 4, num_layers=2, bidirectional=True)
    xs = [rng.standard_normal((6, 2, 3)).astype(np.float32) for _ in range(3)]
    reference = [_run(rnn, x) for x in xs]  # each with its own fresh buffers, outputs kept
    kept = [r[0].copy() for r in reference]
    again = [_run(rnn, x) for x in xs[::-1]][::-1]  # the pool has arrays to reuse; other inputs land in them
    for (out, grads), (out2, grads2), copy in zip(reference, again, kept):
        np.testing.assert_array_equal(out, copy)  # the held outputs are intact
        np.testing.assert_array_equal(out2, out)
        for g, g2 in zip(grads, grads2):
            np.testing.assert_array_equal(g2, g)


@pytest.mark.usefixtures("pool_everything")
def test_two_graphs_alive_at_once_keep_their_own_buffers() -> None:
    """Two forwards before either backward: each backward must see its own saved activations."""
    rng = np.random.default_rng(1)
    rnn = deeprnn.nn.RNN(3, 5, num_layers=2)
    x1, x2 = (rng.standard_normal((4, 2, 3)) for _ in range(2))
    solo = [_run(rnn.double(), x) for x in (x1, x2)]
    t1, t2 = deeprnn.tensor(x1, requires_grad=True), deeprnn.tensor(x2, requires_grad=True)
    out1, _ = rnn(t1)
    out2, _ = rnn(t2)
    (out2 * out2).sum().backward()
    (out1 * out1).sum().backward()
    np.testing.assert_array_equal(t1.grad.numpy(), solo[0][1][0])
    np.testing.assert_array_equal(t2.grad.numpy(), solo[1][1][0])


def test_the_rnn_pool_keeps_a_sixteenth_of_memory_between_256_mb_and_1_gb():
    from deeprnn.nn.buffer_pool import default_max_bytes, rnn_buffers

    MB = 2**20
    assert default_max_bytes(8 * 2**30) == 512 * MB
    assert default_max_bytes(2 * 2**30) == 256 * MB  # a sixteenth would be 128 MB
    assert default_max_bytes(64 * 2**30) == 1024 * MB  # a sixteenth would be 4 GB
    assert default_max_bytes(0) == 256 * MB  # memory unknown
    assert rnn_buffers.max_bytes == default_max_bytes()
    assert 256 * MB <= rnn_buffers.max_bytes <= 1024 * MB
