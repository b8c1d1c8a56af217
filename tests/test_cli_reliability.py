"""The command line under pressure: other runs' work, two trainers at once, kill -9, unwritable
directories, full disks, Ctrl-C at any time, FIFOs, crafted checkpoints and files, sizes that do
not fit in memory. Every failure is one line on stderr, exit 1 (data, files) or 2 (options)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from deeprnn.cli import main
from deeprnn.models import load_checkpoint

sys.path.insert(0, str(Path(__file__).parent / "models"))
from _texts import ENGLISH  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")
SMALL = ["--hidden-size", "8", "--num-layers", "1", "--seq-len", "8", "--batch-size", "2", "--eval-every", "5"]
SMALL += ["--eval-batches", "1", "--sample-every", "1000", "--quiet"]


@pytest.fixture
def english(tmp_path: Path) -> Path:
    p = tmp_path / "english.txt"
    p.write_text(ENGLISH, encoding="utf-8")
    return p


def _one_line(capsys, argv: list[str], code: int = 1) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "Warning" not in err
    assert len(err.splitlines()) == 1, err
    return err


def _train(english: Path, ck: Path, *extra: str) -> list[str]:
    return ["train", str(english), *SMALL, "--checkpoint-dir", str(ck), *extra]


# ---- no run destroys another run's work -------------------------------------------------------
def test_a_second_fresh_run_refuses_and_names_resume_and_force(tmp_path, english, capsys):
    ck = tmp_path / "ck"
    assert main(_train(english, ck, "--iters", "12")) == 0
    before = (ck / "latest.npz").read_bytes()
    err = _one_line(capsys, _train(english, ck, "--iters", "3"))
    assert "already holds a checkpoint" in err and "--resume" in err and "--force" in err
    assert (ck / "latest.npz").read_bytes() == before
    assert main(_train(english, ck, "--iters", "3", "--force")) == 0
    assert load_checkpoint(ck).meta["iteration"] == 3
    with pytest.raises(SystemExit) as e:
        main(_train(english, ck, "--iters", "3", "--force", "--resume"))
    assert e.value.code == 2 and "--resume: not allowed with argument --force" in capsys.readouterr().err


def _popen(*argv: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONIOENCODING": "utf-8"}
    return subprocess.Popen(
        [sys.executable, "-m", "deeprnn", *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not path.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert path.exists(), f"{path.name} never appeared: {proc.communicate()[1] if proc.poll() is not None else ''}"


def test_two_trainer_processes_one_directory(tmp_path, english):
    ck = tmp_path / "ck"
    first = _popen(*_train(english, ck, "--iters", "100000", "--checkpoint-every", "5"))
    try:
        _wait_for(ck / "latest.npz", first)
        for flags in ([], ["--force"], ["--resume"]):
            resume = ["train", "--resume", "--checkpoint-dir", str(ck)]
            second = _popen(*(resume if flags == ["--resume"] else _train(english, ck, *flags)))
            out, err = second.communicate(timeout=60)
            assert second.returncode == 1, err
            assert err.count("\n") == 1 and f"in use by another training run (pid {first.pid} on" in err, err
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 130, err
    it = load_checkpoint(ck).meta["iteration"]
    assert f"interrupted at iteration {it}" in err  # the first run's own state, untouched by the others
    assert not (ck / ".lock").exists()


def test_kill_9_leaves_a_stale_lock_that_the_next_run_takes_over(tmp_path, english):
    ck = tmp_path / "ck"
    first = _popen(*_train(english, ck, "--iters", "100000", "--checkpoint-every", "5"))
    try:
        _wait_for(ck / "latest.npz", first)
    finally:
        first.kill()  # SIGKILL: no handler runs, the lock file stays
        first.communicate(timeout=60)
    assert f"pid={first.pid}" in (ck / ".lock").read_text()
    (ck / ".latest.npz.x7y8z9w0.tmp").write_bytes(b"PK\x03\x04 half written")  # as a kill mid-save leaves
    start = load_checkpoint(ck).meta["iteration"]
    second = _popen("train", "--resume", "--checkpoint-dir", str(ck), "--iters", str(start + 5), "--quiet")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert load_checkpoint(ck).meta["iteration"] == start + 5
    assert not (ck / ".latest.npz.x7y8z9w0.tmp").exists() and not (ck / ".lock").exists()


# ---- fail before training ---------------------------------------------------------------------
@pytest.mark.parametrize("where", ["file", "file/sub", "/proc/deeprnn-test"])
def test_unwritable_checkpoint_directory_fails_before_training(tmp_path, english, capsys, monkeypatch, where):
    (tmp_path / "file").write_text("not a directory")
    path = where if where.startswith("/") else str(tmp_path / where)
    import deeprnn.models.loop as loop

    monkeypatch.setattr(loop, "run_loop", lambda *a: pytest.fail("training started"))
    err = _one_line(capsys, _train(english, Path(path), "--iters", "3"))
    assert err.startswith("deeprnn train: error: cannot write checkpoints to checkpoint directory")


def test_full_disk_during_the_final_save_exits_1_after_saying_so(tmp_path, english, capsys, monkeypatch):
    from deeprnn.models import checkpoint as ckpt_mod

    def full(fh, arrays):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt_mod, "_write_npz", full)
    assert main(_train(english, tmp_path / "ck", "--iters", "5", "--checkpoint-every", "2")) == 1
    err = capsys.readouterr().err
    assert "training finished at iteration 5, but its checkpoint could not be written (No space left" in err
    assert "Traceback" not in err and not (tmp_path / "ck").exists()  # nothing written: the new directory is gone


# ---- Ctrl-C, FIFOs, options, warnings ---------------------------------------------------------
def test_ctrl_c_during_start_up_is_one_line_and_exit_130(tmp_path, english, capsys, monkeypatch):
    import deeprnn.data.token_map as token_map

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(token_map, "iter_text", interrupted)  # while the text is being encoded
    assert _one_line(capsys, _train(english, tmp_path / "ck"), code=130) == "deeprnn train: interrupted"
    assert not (tmp_path / "ck" / ".lock").exists()


def test_second_ctrl_c_during_the_final_save_is_one_line_and_exit_130(tmp_path, english, capsys, monkeypatch):
    import deeprnn.models.loop as loop
    from deeprnn.models import checkpoint as ckpt_mod

    real_eval, real_write = loop.evaluate, ckpt_mod._write_npz

    def interrupting(*a, **k):  # the first Ctrl-C, during the validation at iteration 5
        def again(fh, arrays):
            raise KeyboardInterrupt  # the second, during the save that follows

        monkeypatch.setattr(ckpt_mod, "_write_npz", again)
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "evaluate", interrupting)
    err = _one_line(capsys, _train(english, tmp_path / "ck", "--iters", "10"), code=130)
    assert "interrupted again while saving at iteration 5; the last checkpoint is none" in err
    monkeypatch.setattr(loop, "evaluate", real_eval)
    monkeypatch.setattr(ckpt_mod, "_write_npz", real_write)


def test_a_fifo_nobody_writes_to_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "text.npz"
    os.mkfifo(fifo)
    assert "FIFO" in _one_line(capsys, ["train", str(fifo), "--checkpoint-dir", str(tmp_path / "ck")])
    assert "FIFO" in _one_line(capsys, ["sample", "--checkpoint", str(fifo)])
    assert "FIFO" in _one_line(capsys, ["explain", "--model", str(fifo)])


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "--hidden-size", "-3"], "argument --hidden-size: expected a positive integer, got -3"),
        (["train", "--hdden-size", "3"], "unrecognized arguments: --hdden-size"),
        (["sample", "--top-k", "x"], "argument --top-k: expected a positive integer, got 'x'"),
        (["explain", "--lang", "fr"], "argument --lang: invalid choice: 'fr'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_option_errors_are_one_line_with_the_message_first(capsys, argv, needle):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and err.rstrip().endswith("--help)")
    assert "usage:" not in err


def test_runtime_warnings_do_not_reach_the_terminal(capsys):
    err = _one_line(capsys, ["explain", "--weight-scale", "1e200", "--nonlinearity", "relu", "--no-color"])
    assert "overflow to inf or NaN" in err


# ---- a checkpoint is data: the text path it records ------------------------------------------------
def _meta_edit(path: Path, change) -> None:  # noqa: ANN001
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("__meta__").tobytes())
    change(meta)
    np.savez(path, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)


def test_resume_reads_the_recorded_text_only_if_its_hash_matches(tmp_path, english, capsys):
    ck = tmp_path / "ck"
    assert main(_train(english, ck, "--iters", "4")) == 0
    source = load_checkpoint(ck).meta["source"]
    assert source["bytes"] == english.stat().st_size and len(source["sha256"]) == 64
    assert main(["train", "--resume", "--checkpoint-dir", str(ck), "--iters", "6", "--quiet"]) == 0
    english.write_text(ENGLISH.replace("baker", "BAKER"), encoding="utf-8")  # the same size, other text
    err = _one_line(capsys, ["train", "--resume", "--checkpoint-dir", str(ck), "--iters", "8", "--quiet"])
    assert "no longer at" in err and "give the text again: deeprnn train TEXT --resume" in err


def test_a_crafted_source_path_is_never_read_or_echoed(tmp_path, english, capsys):
    ck = tmp_path / "ck"
    assert main(_train(english, ck, "--iters", "4")) == 0
    secret = tmp_path / "secret.txt"
    secret.write_text("PASSWORD=hunter2 " * 100)
    for change in (
        lambda m: m["source"].update(path=str(secret)),  # the hash is the training text's: no match
        lambda m: m["source"].update(path=str(secret), sha256="0" * 64, bytes=secret.stat().st_size),
        lambda m: [m["source"].pop("sha256"), m["source"].update(path=str(secret))],  # as an earlier format
    ):
        _meta_edit(ck / "latest.npz", change)
        err = _one_line(capsys, ["train", "--resume", "--checkpoint-dir", str(ck), "--iters", "6", "--quiet"])
        assert "hunter2" not in err and "PASSWORD" not in err and "give the text again" in err


def test_a_checkpoint_without_the_hash_resumes_when_the_text_is_given(tmp_path, english, capsys):
    ck = tmp_path / "ck"
    assert main(_train(english, ck, "--iters", "4")) == 0
    _meta_edit(ck / "latest.npz", lambda m: [m["source"].pop("sha256"), m["source"].pop("bytes")])
    err = _one_line(capsys, ["train", "--resume", "--checkpoint-dir", str(ck), "--iters", "6", "--quiet"])
    assert "does not record a hash of its training text, so no file is read for it" in err
    assert main(["train", str(english), "--resume", "--checkpoint-dir", str(ck), "--iters", "6", "--quiet"]) == 0
    assert load_checkpoint(ck).meta["source"]["sha256"]  # recorded from now on


# ---- sizes that do not fit ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--hidden-size", "100000"],
        ["train", "--embedding-dim", str(10**12)],
        ["sample", "--length", str(10**12)],
        ["explain", "--hidden-size", "20000"],
        ["explain", "--input-size", "1000", "--hidden-size", "1000", "--batch-size", "64", "--seq-len", "5000"],
    ],
)
def test_sizes_that_do_not_fit_are_refused_with_the_estimate(tmp_path, english, capsys, monkeypatch, argv):
    import deeprnn.memory as memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 8 << 30)
    ck = tmp_path / "ck"
    if argv[0] == "train":
        argv = [*argv, str(english), "--checkpoint-dir", str(ck), "--quiet"]
    elif argv[0] == "sample":
        assert main(_train(english, ck, "--iters", "2")) == 0
        argv = [*argv, "--checkpoint", str(ck)]
    err = _one_line(capsys, argv)
    assert "needs about" in err and "of memory, more than the 8 GiB available" in err


# ---- explain --model and --pictures ---------------------------------------------------------------
@pytest.mark.parametrize(
    "content,needle",
    [
        (b"", "it is empty"),
        (b"a text file, not numbers\n", "not a .npz archive: it starts with b'a text'"),
        ("npz-truncated", "corrupt or truncated"),
        ("raw-member", "is not a .npy array"),
    ],
)
def test_explain_model_bad_files_are_one_line(tmp_path, capsys, content, needle):
    import zipfile

    p = tmp_path / "rnn.npz"
    if content == "npz-truncated":
        np.savez(p, weight_ih_l0=np.zeros((4, 3)), weight_hh_l0=np.zeros((4, 4)))
        p.write_bytes(p.read_bytes()[:300])
    elif content == "raw-member":
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("weight_ih_l0", b"\x00" * 96)
    else:
        p.write_bytes(content)
    err = _one_line(capsys, ["explain", "--model", str(p)])
    assert needle in err and "allow_pickle" not in err and "rnn.npz" in err


def test_explain_model_with_shapes_that_do_not_fit_together(tmp_path, capsys):
    p = tmp_path / "rnn.npz"
    np.savez(p, weight_ih_l0=np.zeros((4, 3)), weight_hh_l0=np.zeros((5, 5)))
    assert "weight_hh_l0 (5, 5) (expected (4, 4))" in _one_line(capsys, ["explain", "--model", str(p)])
    np.savez(p, weight_ih_l0=np.zeros((4, 3)), weight_hh_l0=np.zeros((4, 4)), weight_ih_l9=np.zeros((4, 4)))
    assert "unexpected or missing keys" in _one_line(capsys, ["explain", "--model", str(p)])


def test_explain_pictures_pointing_at_a_file(tmp_path, capsys):
    (tmp_path / "f.png").write_bytes(b"x")
    for where in ("f.png", "f.png/sub"):
        err = _one_line(capsys, ["explain", "--pictures", str(tmp_path / where)])
        assert "is a file, expected a folder" in err


def test_sample_into_a_closed_pipe_ends_quietly(tmp_path, english):
    """More than a pipe's 64 KB buffer, into `head`: the write fails with EPIPE, quietly."""
    ck = tmp_path / "ck"
    assert main(_train(english, ck, "--iters", "2")) == 0
    prime = (ENGLISH * 4)[:100_000]  # the prime is printed too, and fed to the model in one pass
    env = {**os.environ, "PYTHONPATH": SRC}
    argv = [sys.executable, "-m", "deeprnn", "sample", "--checkpoint", str(ck), "--length", "1", "--prime", prime]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = proc.stdout.read(20)
    proc.stdout.close()  # the reader goes away
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0 and len(first) == 20
    assert err == ""
