"""The collectives under ``mpiexec -n 2`` on localhost: broadcast, the fused Allreduce, gathers,
failing together, and a hung or failing process ending the job with a message (never a hang)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ._mpirun import python_mpi


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("collectives")
    proc = python_mpi(2, "_collectives_worker.py", "collectives", str(out), timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [dict(np.load(out / f"rank{r}.npz")) for r in range(2)]


def test_both_ranks_run(ranks):
    assert [int(r["size"]) for r in ranks] == [2, 2]


def test_rank_0_weights_reach_every_rank(ranks):
    r0, r1 = ranks
    assert not np.array_equal(r0["before"], r1["before"])  # seeded differently on purpose
    np.testing.assert_array_equal(r0["after_weight"], r0["before"])
    np.testing.assert_array_equal(r1["after_weight"], r0["before"])
    np.testing.assert_array_equal(r1["after_bias"], r0["after_bias"])
    assert r0["agree"] and r1["agree"]
    assert not r0["agree_after_change"] and not r1["agree_after_change"]


def test_one_allreduce_sums_weighted_gradients_and_scalars(ranks):
    for r in ranks:
        # rank 0 sends 1/3 * 1, rank 1 sends 2/3 * 2
        np.testing.assert_allclose(r["w_grad"], np.full((4, 3), 1 / 3 + 4 / 3), rtol=1e-6)
        # only rank 0 had a bias gradient: rank 1 receives it, weighted by rank 0's share
        np.testing.assert_allclose(r["b_grad"], np.arange(4) / 3, rtol=1e-6)
        np.testing.assert_allclose(r["scalars"], [10.0, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(ranks[0]["w_grad"], ranks[1]["w_grad"])


def test_hidden_blocks_are_gathered_in_rank_order(ranks):
    full = np.arange(2 * 5 * 3, dtype=np.float64).reshape(2, 5, 3)
    np.testing.assert_array_equal(ranks[0]["gathered"], full)
    np.testing.assert_array_equal(ranks[0]["gathered_c"], full + 1)
    assert ranks[1]["gathered_none"]
    assert int(ranks[0]["json"]) == int(ranks[1]["json"]) == 0


def test_an_error_on_one_rank_stops_both_and_only_it_reports(ranks):
    assert str(ranks[0]["root_first"]) == "own: bad text on rank 0"
    assert str(ranks[1]["root_first"]) == "peer: process 0 failed in the start-up"
    assert str(ranks[0]["fail_together"]) == "peer: another process failed in opening the corpus"
    assert str(ranks[1]["fail_together"]) == "own: no corpus on rank 1"
    assert str(ranks[0]["same_error"]) == "own: text too short"
    assert str(ranks[1]["same_error"]) == "peer: another process failed in the start-up"


def test_a_hung_rank_ends_the_job_with_a_message(tmp_path):
    start = time.monotonic()
    proc = python_mpi(2, "_collectives_worker.py", "hang", str(tmp_path), timeout=40)
    assert time.monotonic() - start < 30  # the watchdog's 1.5 s, not the sleeping rank's 60 s
    assert proc.returncode != 0
    assert "process 0 of 2 waited 1.5 s for the others in the gradient Allreduce of iteration 7" in proc.stderr
    assert "another process died or hangs" in proc.stderr
    assert not (tmp_path / "not-reached").exists()


def test_an_exception_on_one_rank_aborts_the_job(tmp_path):
    proc = python_mpi(2, "_collectives_worker.py", "rank_error", str(tmp_path), timeout=40)
    assert proc.returncode != 0
    assert "process 1 of 2 stopped the job: MemoryError: rank 1 ran out of memory" in proc.stderr
    assert not (tmp_path / "not-reached").exists()
