"""The checkpoint directory of a run: checked before the first step, locked while training, never
silently taken from another run; saves that fail keep the old checkpoint."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from deeprnn.fileio import stale_temporaries
from deeprnn.models import ModelConfig, TrainConfig, load_checkpoint
from deeprnn.models import checkpoint as ckpt_mod
from deeprnn.models.rundir import LOCK_NAME, DirectoryLocked, RunDirectory, RunDirectoryError
from deeprnn.models.trainer import CheckpointSaveError, TrainingInterrupted, train

from ._texts import ENGLISH


def _config(directory: Path, **kw) -> TrainConfig:
    base = dict(
        model=ModelConfig(hidden_size=8, num_layers=1),
        seq_len=8,
        batch_size=2,
        iters=6,
        eval_every=3,
        eval_batches=1,
        sample_every=10_000,
        checkpoint_every=2,
        checkpoint_dir=str(directory),
    )
    base.update(kw)
    return TrainConfig(**base)


# ---- another run's work --------------------------------------------------------------------
def test_a_fresh_run_refuses_a_directory_holding_a_checkpoint(tmp_path):
    ck = tmp_path / "ck"
    train(_config(ck, iters=8), ENGLISH, quiet=True)
    before = (ck / "latest.npz").read_bytes()
    with pytest.raises(RunDirectoryError, match="already holds a checkpoint .*--resume.*--force"):
        train(_config(ck, iters=2), ENGLISH, quiet=True)
    assert (ck / "latest.npz").read_bytes() == before
    assert not (ck / LOCK_NAME).exists()  # the refused run released its lock


def test_overwrite_starts_over_and_removes_the_old_runs_files(tmp_path):
    ck = tmp_path / "ck"
    train(_config(ck, iters=8), ENGLISH, quiet=True)
    train(_config(ck, iters=2, val_fraction=0.0), ENGLISH, quiet=True, overwrite=True)
    assert load_checkpoint(ck).meta["iteration"] == 2
    assert not (ck / "best.npz").exists()  # the old run's best model is not left to pass for this one's


def test_resume_from_the_directory_is_allowed(tmp_path):
    ck = tmp_path / "ck"
    train(_config(ck, iters=4), ENGLISH, quiet=True)
    assert train(_config(ck, iters=6), ENGLISH, resume=True, quiet=True).iteration == 6
    assert train(_config(ck, iters=8), ENGLISH, resume=ck / "latest.npz", quiet=True).iteration == 8


def test_resume_into_another_runs_directory_is_refused(tmp_path):
    train(_config(tmp_path / "a", iters=4), ENGLISH, quiet=True)
    train(_config(tmp_path / "b", iters=4), ENGLISH, quiet=True)
    with pytest.raises(RunDirectoryError, match="'.*b' already holds a checkpoint"):
        train(_config(tmp_path / "b", iters=6), ENGLISH, resume=tmp_path / "a" / "latest.npz", quiet=True)


def test_resume_of_a_missing_directory_does_not_create_it(tmp_path):
    with pytest.raises(RunDirectoryError, match="does not exist: there is no run to --resume"):
        RunDirectory.open(tmp_path / "nope", resume=True)
    assert not (tmp_path / "nope").exists()


# ---- the lock ------------------------------------------------------------------------------
def test_a_second_holder_is_refused_and_the_lock_is_released(tmp_path):
    with RunDirectory.open(tmp_path / "ck") as held:
        assert f"pid={os.getpid()}" in (tmp_path / "ck" / LOCK_NAME).read_text()
        with pytest.raises(DirectoryLocked, match=rf"in use by another training run \(pid {os.getpid()} on"):
            RunDirectory.open(tmp_path / "ck")  # a second descriptor: flock refuses it as it would another process
        with pytest.raises(DirectoryLocked):
            train(_config(tmp_path / "ck"), ENGLISH, quiet=True)
        assert repr(held).endswith("locked=True)")
    assert not (tmp_path / "ck" / LOCK_NAME).exists()
    RunDirectory.open(tmp_path / "ck").close()  # free again


def test_a_lock_file_nobody_holds_is_stale_and_taken_over(tmp_path):
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / LOCK_NAME).write_text("pid=999999\nhost=elsewhere\nstarted=2026-01-01 00:00:00\n")  # a killed run's
    with RunDirectory.open(ck) as run_dir:
        assert run_dir.stale_holder == {"pid": "999999", "host": "elsewhere", "started": "2026-01-01 00:00:00"}


def test_a_run_dir_must_be_the_configs_directory(tmp_path):
    with RunDirectory.open(tmp_path / "a") as run_dir, pytest.raises(ValueError, match="is not config.checkpoint_dir"):
        train(_config(tmp_path / "b"), ENGLISH, run_dir=run_dir, quiet=True)


# ---- fail before training ------------------------------------------------------------------
def test_unusable_directories_fail_before_the_first_step(tmp_path):
    (tmp_path / "file").write_text("x")
    cases = {
        str(tmp_path / "file"): "a file is in the way",
        str(tmp_path / "file" / "sub"): "a file is in the way",
        "/proc/deeprnn-checkpoints": "cannot be created there",
    }
    for path, reason in cases.items():
        steps = []
        with pytest.raises(RunDirectoryError, match=f"cannot write checkpoints to checkpoint directory .*{reason}"):
            train(_config(path), ENGLISH, quiet=True, callback=lambda it, info: steps.append(it))
        assert steps == []


def test_read_only_filesystem_fails_before_the_first_step(tmp_path, monkeypatch):
    import tempfile

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)  # root ignores chmod, so the filesystem is simulated
    with pytest.raises(RunDirectoryError, match="the filesystem is read-only"):
        train(_config(tmp_path / "ck"), ENGLISH, quiet=True)


def test_temporaries_left_by_a_killed_save_are_removed(tmp_path, capsys):
    ck = tmp_path / "ck"
    ck.mkdir()
    left = [ck / ".latest.npz.k3j4h5g6.tmp", ck / ".best.npz.a1b2c3d4.tmp", ck / ".write-test.zz99yy88.tmp"]
    for p in left:
        p.write_bytes(b"PK half a zip")
    keep = ck / ".notes.txt.tmp"  # not one of ours
    keep.write_text("mine")
    assert stale_temporaries(ck, ("latest.npz", "best.npz", "loss.png", "write-test")) == sorted(left)
    import io

    stream = io.StringIO()
    train(_config(ck, iters=2), ENGLISH, progress_stream=stream)
    assert "removed 3 temporary file(s) left by an interrupted save" in stream.getvalue()
    assert not any(p.exists() for p in left) and keep.exists()


# ---- a full disk ---------------------------------------------------------------------------
def _disk_full_after(monkeypatch, good: int) -> None:
    """Let the first ``good`` checkpoint writes through, then fail every write with ENOSPC."""
    real, calls = ckpt_mod._write_npz, {"n": 0}

    def write(fh, arrays):
        calls["n"] += 1
        if calls["n"] > good:
            fh.write(b"PK\x03\x04 half")
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fh, arrays)

    monkeypatch.setattr(ckpt_mod, "_write_npz", write)


def test_a_full_disk_keeps_the_old_checkpoint_says_so_and_goes_on(tmp_path, monkeypatch):
    import io

    ck = tmp_path / "ck"
    _disk_full_after(monkeypatch, 2)  # latest.npz at iteration 2 and best.npz at 3, then nothing
    stream = io.StringIO()
    seen = []
    with pytest.raises(CheckpointSaveError, match="training finished at iteration 6, but its checkpoint could not"):
        train(_config(ck), ENGLISH, progress_stream=stream, callback=lambda it, info: seen.append(it))
    assert seen == [1, 2, 3, 4, 5, 6]  # training went on after the failed saves
    lines = [ln for ln in stream.getvalue().splitlines() if "could not save" in ln]
    assert lines and all("No space left on device" in ln and "kept the previous one" in ln for ln in lines)
    assert "'latest.npz'" not in lines[0] and "(iteration 2)" in lines[-1]
    assert load_checkpoint(ck).meta["iteration"] == 2  # the old checkpoint, intact
    assert sorted(p.name for p in ck.iterdir()) == ["best.npz", "latest.npz", "loss.png"]  # no temporaries


def test_space_freed_again_lets_the_next_save_through(tmp_path, monkeypatch):
    real, calls = ckpt_mod._write_npz, {"n": 0}

    def flaky(fh, arrays):  # only the second write fails
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fh, arrays)

    monkeypatch.setattr(ckpt_mod, "_write_npz", flaky)
    result = train(_config(tmp_path / "ck"), ENGLISH, quiet=True)
    assert result.iteration == 6 and load_checkpoint(tmp_path / "ck").meta["iteration"] == 6


def test_ctrl_c_again_during_the_final_save_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    ck = tmp_path / "ck"
    real = ckpt_mod._write_npz

    def interrupted_save(fh, arrays):
        if "history/train_loss" in arrays and len(arrays["history/train_loss"]) == 5:
            raise KeyboardInterrupt  # the second Ctrl-C, while saving the state of iteration 5
        real(fh, arrays)

    def ctrl_c(it, info):
        if it == 5:
            monkeypatch.setattr(ckpt_mod, "_write_npz", interrupted_save)
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match="interrupted again while saving at iteration 5; .*iteration 4") as e:
        train(_config(ck, checkpoint_every=2), ENGLISH, quiet=True, callback=ctrl_c)
    assert e.value.checkpoint is None
    assert load_checkpoint(ck).meta["iteration"] == 4
    assert not [p for p in ck.iterdir() if p.name.endswith(".tmp")]
    np.testing.assert_array_equal(load_checkpoint(ck).arrays["history/train_iter"], [1, 2, 3, 4])


def test_a_run_that_fails_early_leaves_no_empty_directory(tmp_path):
    from deeprnn.data import DataError

    with pytest.raises(DataError, match="fewer than one sequence"):
        train(_config(tmp_path / "a" / "b"), "too short", quiet=True)
    assert not (tmp_path / "a").exists()


def test_ctrl_c_on_a_full_disk_says_the_save_failed(tmp_path, monkeypatch):
    ck = tmp_path / "ck"

    def ctrl_c(it, info):
        if it == 3:
            _disk_full_after(monkeypatch, 0)
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match=r"iteration 3: could not save \(No space .*iteration 2\)") as e:
        train(_config(ck), ENGLISH, quiet=True, callback=ctrl_c)
    assert e.value.checkpoint is None and load_checkpoint(ck).meta["iteration"] == 2
