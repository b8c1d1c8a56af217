"""Data-parallel training under ``mpiexec -n 2`` on localhost, against one process.

One launch trains 4 of 6 steps and stops (interrupted through the callback, on both ranks),
another resumes it to 6; a third run resumes the same checkpoint in one process.  They show:
per-step weights equal to a single-process run with the same global batch (float64, 1e-10),
bit-identical weights on both ranks, only rank 0 writing files, and resume with the same and
with a different number of processes.  Then the CLI under mpiexec on a memory-mapped text,
and a killed or stopped rank ending the job with a message instead of a hang.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from deeprnn.distributed import SingleProcess
from deeprnn.models import ModelConfig, TrainConfig, load_checkpoint, train
from models._texts import ENGLISH
from oracle import assert_close

from ._mpirun import python_mpi

CONFIG = dict(
    model=dict(hidden_size=12, num_layers=2),
    seq_len=8,
    batch_size=5,  # 3 + 2 streams: uneven shares
    optimizer="adam",
    lr=1e-2,
    grad_clip=0.5,  # active: the global norm is clipped after the Allreduce
    iters=6,
    eval_every=2,
    eval_batches=3,
    sample_every=10_000,
    checkpoint_every=2,
    val_fraction=0.1,
    seed=3,
    dtype="float64",
)


def _config(ckdir: Path, **kw) -> TrainConfig:
    c = {**CONFIG, "checkpoint_dir": str(ckdir), **kw}
    return TrainConfig(**{**c, "model": ModelConfig(**c["model"])})


def _launch(out: Path, scenario: str, opts: dict, n: int = 2, timeout: float = 90):
    proc = python_mpi(n, "_train_worker.py", scenario, str(out), json.dumps(opts), timeout=timeout)
    return proc, [
        dict(np.load(out / "harness" / f"rank{r}.npz")) if (out / "harness" / f"rank{r}.npz").exists() else None
        for r in range(n)
    ]


def _flat(model) -> np.ndarray:
    return np.concatenate([p.detach().numpy().reshape(-1) for p in model.parameters()])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("mpi-train")
    ref_steps: dict[int, np.ndarray] = {}
    reference = train(
        _config(base / "ref"),
        ENGLISH,
        quiet=True,
        comm=SingleProcess(),
        callback=lambda it, info: ref_steps.__setitem__(it, _flat(info["model"])),
    )
    ck = base / "k2" / "ck"
    opts = {"config": {**CONFIG, "checkpoint_dir": str(ck)}, "interrupt_at": 4}
    first = _launch(base / "k2", "train", opts)
    assert first[0].returncode == 0, first[0].stderr
    shutil.copytree(ck, base / "k1-resume")  # the same checkpoint, resumed by one process below
    second = _launch(base / "k2b", "train", {**opts, "interrupt_at": None, "resume": True})
    assert second[0].returncode == 0, second[0].stderr
    one = train(_config(base / "k1-resume"), ENGLISH, resume=True, quiet=True, comm=SingleProcess())
    return {"ref": reference, "ref_steps": ref_steps, "first": first, "second": second, "one": one, "ck": ck}


def test_each_step_equals_the_single_process_run(runs):
    _, ranks = runs["first"]
    for it in range(1, 5):
        assert_close(ranks[0][f"step{it}"], runs["ref_steps"][it], np.float64, f"weights after step {it}")
        np.testing.assert_array_equal(ranks[1][f"step{it}"], ranks[0][f"step{it}"])  # identical on both ranks
        assert_close(ranks[0][f"loss{it}"], np.array(runs["ref"].history.train_loss[it - 1]), np.float64, "loss")
    assert json.loads(str(ranks[0]["result"])) == {"interrupted": 4} == json.loads(str(ranks[1]["result"]))


def test_resume_with_the_same_number_of_processes(runs):
    _, ranks = runs["second"]
    for it in (5, 6):
        assert_close(ranks[0][f"step{it}"], runs["ref_steps"][it], np.float64, f"resumed, step {it}")
        np.testing.assert_array_equal(ranks[1][f"step{it}"], ranks[0][f"step{it}"])
    result = json.loads(str(ranks[0]["result"]))
    assert result["iteration"] == 6
    np.testing.assert_allclose(result["train_loss"], runs["ref"].history.train_loss, rtol=1e-10)
    meta = load_checkpoint(runs["ck"]).meta
    assert meta["iteration"] == 6 and meta["distributed"]["world_size"] == 2
    assert len(meta["distributed"]["rng_model"]) == 2


def test_resume_with_another_number_of_processes(runs):
    """The 2-process checkpoint (whole (L, N, H) hidden state, global position) resumed by one."""
    one, ref = runs["one"], runs["ref"]
    assert one.iteration == 6
    assert_close(_flat(one.model), _flat(ref.model), np.float64, "weights after resuming in one process")


def test_only_rank_0_writes_files(runs):
    for _, ranks in (runs["first"], runs["second"]):
        assert list(ranks[1]["writes"]) == []
        written = {Path(p).name for p in ranks[0]["writes"]}
        assert {"latest.npz", "best.npz", "loss.png"} <= {n for n in written if not n.startswith(".")}


def test_cli_under_mpiexec_on_a_memory_mapped_text(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text(ENGLISH, encoding="utf-8")
    ck, cache = tmp_path / "ck", tmp_path / "cache"
    argv = ["train", str(text), "--checkpoint-dir", str(ck), "--cache-dir", str(cache), "--iters", "4"]
    argv += ["--hidden-size", "8", "--num-layers", "1", "--seq-len", "8", "--batch-size", "4", "--eval-every", "2"]
    proc, ranks = _launch(tmp_path, "cli", {"argv": argv})
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(str(r["result"]))["code"] for r in ranks] == [0, 0]
    assert proc.stdout.count("done: 4 iterations") == 1  # rank 0 alone reports
    assert "2 processes" in proc.stderr
    assert list(ranks[1]["writes"]) == []
    assert any(p.endswith(".ids") for p in ranks[0]["writes"])  # rank 0 encoded the text into the cache
    assert load_checkpoint(ck).meta["iteration"] == 4
    argv[argv.index("4")] = "6"
    proc, ranks = _launch(tmp_path / "again", "cli", {"argv": [*argv, "--resume"]})
    assert proc.returncode == 0, proc.stderr
    assert load_checkpoint(ck).meta["iteration"] == 6 and list(ranks[1]["writes"]) == []


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_a_dead_or_stopped_rank_ends_the_job_with_a_message(tmp_path, how):
    """Rank 1 is killed (SIGKILL: mpiexec ends the job) or stopped (SIGSTOP: rank 0's watchdog
    ends it after the 4 s timeout) after step 3; the checkpoint of step 2 stays good."""
    ck = tmp_path / "ck"
    opts = {"config": {**CONFIG, "checkpoint_dir": str(ck), "iters": 50}, "die_at": 3, "timeout": 4}
    start = time.monotonic()
    proc, _ = _launch(tmp_path, how, opts, timeout=60)
    assert time.monotonic() - start < 45
    assert proc.returncode != 0
    if how == "kill":
        assert "BAD TERMINATION" in proc.stdout + proc.stderr and "Killed" in proc.stdout + proc.stderr
    else:
        assert "process 0 of 2 waited 4 s for the others in the gradient Allreduce of iteration 4" in proc.stderr
    assert load_checkpoint(ck).meta["iteration"] == 2
