"""The distributed layer in one process: launcher detection, the trivial communicator, stream
shares, array messages and the watchdog (the mpiexec tests are in test_mpi_collectives.py)."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

import deeprnn
from deeprnn import distributed as dist
from deeprnn.distributed.messages import decode_arrays, encode_arrays


@pytest.mark.parametrize(
    "env, size",
    [
        ({}, None),
        ({"PMI_RANK": "0", "PMI_SIZE": "4"}, 4),
        ({"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2"}, 2),
        ({"MV2_COMM_WORLD_RANK": "0", "MV2_COMM_WORLD_SIZE": "3"}, 3),
        ({"PMIX_RANK": "0"}, 0),
        ({"PMI_RANK": "0", "PMI_SIZE": "x"}, 0),
    ],
)
def test_launched_size_reads_the_launchers_variables(env, size):
    assert dist.launched_size(env) == size


def test_not_launched_means_one_process_without_mpi4py(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # importing it would fail
    comm = dist.init_world(environ={})
    assert isinstance(comm, dist.SingleProcess) and comm.rank == 0 and comm.size == 1 and comm.is_root
    assert isinstance(dist.init_world(environ={"PMI_RANK": "0", "PMI_SIZE": "1"}), dist.SingleProcess)


def test_launched_as_several_without_mpi4py_is_an_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(dist.MPIUnavailableError, match=r"one of 2 started by an MPI launcher.*deeprnn\[mpi\]"):
        dist.init_world(environ={"PMI_RANK": "0", "PMI_SIZE": "2"})


def test_single_process_collectives_return_their_input():
    comm = dist.SingleProcess()
    a = np.arange(3.0)
    assert comm.allreduce_sum_(a) is a and comm.bcast_(a) is a
    assert comm.bcast_bytes(b"x") == b"x" and comm.gather_bytes(b"y") == [b"y"]
    assert dist.bcast_json(comm, {"a": 1}) == {"a": 1} and dist.gather_json(comm, 5) == [5]
    assert dist.all_succeeded(comm, True) and not dist.all_succeeded(comm, False)
    with pytest.raises(ValueError, match="rank 0 must pass the data, got None"):
        comm.bcast_bytes(None)
    with pytest.raises(SystemExit):
        comm.abort("bye")


def test_fused_allreduce_in_one_process_scales_and_keeps_missing_gradients_missing():
    layer = deeprnn.nn.Linear(3, 2, generator=deeprnn.Generator(0))
    layer.weight.grad = deeprnn.tensor(np.ones((2, 3), dtype=np.float32))
    fused = dist.GradientAllreduce(dist.SingleProcess(), list(layer.parameters()), n_scalars=1)
    assert fused.nbytes == (6 + 2 + 2 + 1) * 4
    (s,) = fused.reduce_(0.5, [3.0])
    np.testing.assert_array_equal(layer.weight.grad.numpy(), np.full((2, 3), 0.5, dtype=np.float32))
    assert layer.bias.grad is None and s == 3.0
    with pytest.raises(ValueError, match="expected 1 scalars, got 0"):
        fused.reduce_(1.0, [])


def test_fused_allreduce_wants_one_dtype():
    a = deeprnn.nn.Parameter(deeprnn.zeros(2))
    b = deeprnn.nn.Parameter(deeprnn.zeros(2, dtype=deeprnn.float64))
    with pytest.raises(ValueError, match=r"expected parameters of one dtype, got \['float32', 'float64'\]"):
        dist.GradientAllreduce(dist.SingleProcess(), [a, b])


@pytest.mark.parametrize("n, k", [(1, 1), (5, 2), (7, 3), (32, 4), (4, 4)])
def test_stream_shares_are_contiguous_balanced_and_cover_the_batch(n, k):
    shares = [dist.stream_share(n, k, r) for r in range(k)]
    assert shares[0].start == 0 and shares[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(shares, shares[1:]))
    sizes = [s.stop - s.start for s in shares]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def test_more_processes_than_streams_is_refused():
    with pytest.raises(ValueError, match="3 processes cannot share a batch of 2 streams.*--batch-size 3 or more"):
        dist.stream_share(2, 3, 0)
    assert [dist.stream_share(2, 3, r, allow_empty=True) for r in range(3)] == [slice(0, 1), slice(1, 2), slice(2, 2)]
    with pytest.raises(ValueError, match=r"rank must be in 0..1, got 2"):
        dist.stream_share(4, 2, 2)


def test_take_and_gather_streams_in_one_process():
    h = np.arange(24.0).reshape(2, 4, 3)
    part = dist.take_streams(h, slice(1, 3))
    np.testing.assert_array_equal(part, h[:, 1:3])
    pair = dist.take_streams((h, -h), slice(0, 2))
    assert isinstance(pair, tuple) and pair[1].shape == (2, 2, 3)
    np.testing.assert_array_equal(dist.gather_streams(dist.SingleProcess(), h), h)


def test_array_messages_round_trip_exactly():
    arrays = {"a": np.arange(6, dtype=np.int16).reshape(2, 3), "b": np.array(1.5), "c": np.zeros((0, 4), ">f8")}
    back = decode_arrays(encode_arrays(arrays))
    assert list(back) == ["a", "b", "c"]
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        np.testing.assert_array_equal(back[k], v)
        assert back[k].flags.writeable
    with pytest.raises(TypeError, match="array 'x': expected a numeric ndarray, got list"):
        encode_arrays({"x": [1, 2]})
    with pytest.raises(ValueError, match="array message of"):
        decode_arrays(encode_arrays(arrays) + b"junk")


def test_watchdog_fires_once_a_guard_overstays_and_not_before():
    fired: list[tuple[str, float]] = []
    done = threading.Event()

    def on_expire(what, limit):
        fired.append((what, limit))
        done.set()

    dog = dist.Watchdog(0.2, on_expire)
    with dog.guard("a quick Allreduce"):
        pass
    time.sleep(0.3)
    assert fired == []
    with dog.guard("a slow Allreduce"):
        assert done.wait(5)
    assert fired == [("a slow Allreduce", 0.2)]


def test_watchdog_without_timeout_and_bad_timeouts():
    dog = dist.Watchdog(None, lambda what, limit: pytest.fail("must not fire"))
    with dog.guard("anything"):
        pass
    assert dog._thread is None
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match=f"timeout must be a number of seconds > 0 or None, got {bad}"):
            dist.Watchdog(bad, print)


def test_failure_helpers_in_one_process_just_run_or_raise():
    comm = dist.SingleProcess()
    assert dist.root_first(comm, lambda: 42, "x") == 42
    with pytest.raises(KeyError):
        dist.root_first(comm, lambda: {}["k"], "x")
    with pytest.raises(ZeroDivisionError):
        with dist.fail_together(comm, "x"):
            1 / 0
    with pytest.raises(ZeroDivisionError):
        with dist.abort_on_error(comm):
            1 / 0
