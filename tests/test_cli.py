"""The command line: end-to-end training and sampling, Ctrl-C, resume, and every bad-input case."""

from __future__ import annotations

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
from _texts import CHINESE, ENGLISH  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")
SMALL = [
    "--hidden-size",
    "24",
    "--num-layers",
    "2",
    "--seq-len",
    "12",
    "--batch-size",
    "4",
    "--eval-every",
    "10",
    "--eval-batches",
    "4",
    "--sample-every",
    "1000",
    "--quiet",
]


@pytest.fixture
def english(tmp_path):
    p = tmp_path / "english.txt"
    p.write_text(ENGLISH, encoding="utf-8")
    return p


def _run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "deeprnn", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=timeout,
    )


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_train_then_sample_end_to_end_subprocess(tmp_path, english, kind):
    ck = tmp_path / "ck"
    # gated cells start slower: the LSTM needs 100 steps at 1e-2 for the loss to fall by 0.5 here
    lr, iters = {"rnn": ("3e-3", 60), "lstm": ("1e-2", 100), "gru": ("1e-2", 60)}[kind]
    r = _run(
        "train", str(english), *SMALL, "--model", kind, "--lr", lr, "--iters", str(iters), "--checkpoint-dir", str(ck),
        "--seed", "3",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert f"done: {iters} iterations" in r.stdout
    meta = load_checkpoint(ck).meta
    assert meta["iteration"] == iters and meta["source"]["kind"] == "file" and meta["model_config"]["kind"] == kind
    losses = load_checkpoint(ck).arrays["history/train_loss"]
    assert losses[-10:].mean() < losses[:5].mean() - 0.5  # the loss falls
    assert (ck / "loss.png").exists() and (ck / "best.npz").exists()
    s = _run(
        "sample",
        "--checkpoint",
        str(ck),
        "--prime",
        "the ",
        "--length",
        "80",
        "--temperature",
        "0.8",
        "--seed",
        "1",
    )
    assert s.returncode == 0, s.stderr
    assert s.stdout.startswith("the ") and len(s.stdout.rstrip("\n")) == 84
    assert (
        s.stdout
        == _run(
            "sample",
            "--checkpoint",
            str(ck / "latest.npz"),
            "--prime",
            "the ",
            "--length",
            "80",
            "--temperature",
            "0.8",
            "--seed",
            "1",
        ).stdout
    )  # same seed, same text


def test_progress_output_has_loss_val_ppl_and_rate(tmp_path, english, capsys):
    rc = main(
        [
            "train",
            str(english),
            *[a for a in SMALL if a != "--quiet"],
            "--iters",
            "20",
            "--sample-every",
            "10",
            "--checkpoint-dir",
            str(tmp_path / "ck"),
        ]
    )
    assert rc == 0
    err = capsys.readouterr().err
    for word in ("loss", "val", "ppl", "char/s", "sample at iteration 10"):
        assert word in err


def test_chinese_cli_char_and_word(tmp_path, capsys):
    p = tmp_path / "zh.txt"
    p.write_text(CHINESE, encoding="utf-8")
    for level in ("char", "word"):
        ck = tmp_path / level
        assert (
            main(
                [
                    "train",
                    str(p),
                    *SMALL,
                    "--seq-len",
                    "8",
                    "--iters",
                    "30",
                    "--level",
                    level,
                    "--checkpoint-dir",
                    str(ck),
                ]
            )
            == 0
        )
        capsys.readouterr()
        assert (
            main(
                [
                    "sample",
                    "--checkpoint",
                    str(ck),
                    "--prime",
                    "老板",
                    "--length",
                    "20",
                    "--seed",
                    "1",
                ]
            )
            == 0
        )
        out = capsys.readouterr().out
        assert out.startswith("老板") and any("\u4e00" <= c <= "\u9fff" for c in out[2:])


def test_gbk_file_with_encoding_option(tmp_path, capsys):
    p = tmp_path / "zh_gbk.txt"
    p.write_bytes(CHINESE.encode("gbk"))
    assert main(["train", str(p), *SMALL, "--iters", "3", "--checkpoint-dir", str(tmp_path / "ck")]) == 1
    assert "cannot decode" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                str(p),
                *SMALL,
                "--iters",
                "3",
                "--encoding",
                "gbk",
                "--checkpoint-dir",
                str(tmp_path / "ck"),
            ]
        )
        == 0
    )


def test_keyboard_interrupt_saves_exits_130_and_resume_is_exact(tmp_path, english, monkeypatch, capsys):
    import deeprnn.models.loop as trainer_mod

    args = ["train", str(english), *SMALL, "--iters", "24", "--seed", "5"]
    assert main([*args, "--checkpoint-dir", str(tmp_path / "a")]) == 0
    real = trainer_mod.evaluate
    calls = {"n": 0}

    def interrupting(*a, **k):  # Ctrl-C arriving during the second validation (iteration 20)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(trainer_mod, "evaluate", interrupting)
    assert main([*args, "--checkpoint-dir", str(tmp_path / "b")]) == 130
    err = capsys.readouterr().err
    assert "interrupted at iteration 20" in err and "--resume" in err
    monkeypatch.setattr(trainer_mod, "evaluate", real)
    assert load_checkpoint(tmp_path / "b").meta["iteration"] == 20
    assert main(["train", "--resume", "--checkpoint-dir", str(tmp_path / "b"), "--quiet"]) == 0  # TEXT remembered
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    assert b.meta["iteration"] == 24
    for k, v in a.model_state().items():
        np.testing.assert_array_equal(v, b.model_state()[k], err_msg=k)


def test_real_sigint_saves_and_exits_130(tmp_path, english):
    ck = tmp_path / "ck"
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deeprnn",
            "train",
            str(english),
            *SMALL,
            "--iters",
            "100000",
            "--checkpoint-every",
            "5",
            "--checkpoint-dir",
            str(ck),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 60
        while not (ck / "latest.npz").exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (ck / "latest.npz").exists(), "training never saved a checkpoint"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted at iteration" in err
    it = load_checkpoint(ck).meta["iteration"]
    assert f"interrupted at iteration {it}" in err  # the saved state is the one reported


# ---- bad input: one line on stderr, non-zero exit --------------------------------------------
@pytest.fixture
def clean_cwd(tmp_path, monkeypatch):
    """An empty working directory: `deeprnn train` checks its default --checkpoint-dir (./checkpoints) before
    the text, so a checkout where the README's main command already ran would answer about that instead."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _error(capsys, argv, code=1):
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(argv))
    assert e.value.code == code
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err


def test_missing_file(tmp_path, capsys, clean_cwd):
    err = _error(capsys, ["train", str(tmp_path / "nope.txt"), "--quiet"])
    assert "not found" in err and "nope.txt" in err and len(err.splitlines()) == 1


def test_empty_file(tmp_path, capsys, clean_cwd):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    assert "empty" in _error(capsys, ["train", str(p), "--quiet"])


def test_text_shorter_than_one_sequence(tmp_path, capsys):
    p = tmp_path / "short.txt"
    p.write_text("to be or not", encoding="utf-8")
    err = _error(capsys, ["train", str(p), "--quiet", "--checkpoint-dir", str(tmp_path / "ck")])
    assert "seq_len" in err or "seq-len" in err


def test_undecodable_bytes(tmp_path, capsys, clean_cwd):
    p = tmp_path / "latin.txt"
    p.write_bytes("café olé ".encode("latin-1") * 50)
    err = _error(capsys, ["train", str(p), "--quiet"])
    assert "cannot decode" in err and "utf-8" in err


def test_corrupt_checkpoint(tmp_path, capsys):
    p = tmp_path / "latest.npz"
    p.write_bytes(b"PK\x03\x04garbage")
    err = _error(capsys, ["sample", "--checkpoint", str(p)])
    assert str(p) in err and "corrupt" in err
    err = _error(capsys, ["train", "--resume", "--checkpoint-dir", str(tmp_path), "--quiet"])
    assert str(p) in err


def test_other_version_checkpoint(tmp_path, english, capsys):
    ck = tmp_path / "ck"
    assert main(["train", str(english), *SMALL, "--iters", "2", "--checkpoint-dir", str(ck)]) == 0
    p = ck / "latest.npz"
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    meta["format_version"] = 0
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(p, **arrays)
    err = _error(capsys, ["sample", "--checkpoint", str(ck)])
    assert "version 0 is not supported" in err and "latest.npz" in err


def test_missing_checkpoint(tmp_path, capsys):
    assert "not found" in _error(capsys, ["sample", "--checkpoint", str(tmp_path / "none")])


def test_prime_outside_vocabulary(tmp_path, english, capsys):
    ck = tmp_path / "ck"
    assert main(["train", str(english), *SMALL, "--iters", "2", "--checkpoint-dir", str(ck)]) == 0
    err = _error(capsys, ["sample", "--checkpoint", str(ck), "--prime", "ROMEO:"])
    assert "not in the model's vocabulary" in err and "'R'" in err and "'O'" in err


def test_architecture_change_on_resume(tmp_path, english, capsys):
    ck = tmp_path / "ck"
    assert main(["train", str(english), *SMALL, "--model", "lstm", "--iters", "2", "--checkpoint-dir", str(ck)]) == 0
    err = _error(capsys, ["train", "--resume", "--checkpoint-dir", str(ck), "--hidden-size", "8", "--quiet"])
    assert "--hidden-size 8 differs" in err
    err = _error(capsys, ["train", "--resume", "--checkpoint-dir", str(ck), "--model", "gru", "--quiet"])
    assert err == (
        "deeprnn train: error: --model gru differs from the checkpoint's lstm; "
        "the architecture cannot change on --resume"
    )


def test_the_default_model_is_a_gru_and_resume_keeps_the_kind(tmp_path, english, capsys):
    # A GRU of 2 x 128 by default: the kind that learns most in the main command's budget (lm_kinds.py)
    ck = tmp_path / "ck"
    assert main(["train", str(english), *SMALL, "--iters", "3", "--checkpoint-dir", str(ck)]) == 0
    assert load_checkpoint(ck).meta["model_config"]["kind"] == "gru"
    assert "cell" not in load_checkpoint(ck).arrays and load_checkpoint(ck).arrays["hidden"].shape == (2, 4, 24)
    assert main(["train", "--resume", "--iters", "5", "--checkpoint-dir", str(ck), "--quiet"]) == 0
    meta = load_checkpoint(ck).meta
    assert meta["iteration"] == 5 and meta["model_config"]["kind"] == "gru"
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(ck), "--prime", "the ", "--length", "30", "--seed", "2"]) == 0
    assert capsys.readouterr().out.startswith("the ")


def test_nonlinearity_with_a_gated_model_exits_2(capsys):
    err = _error(capsys, ["train", "--model", "lstm", "--nonlinearity", "relu", "--quiet"], code=2)
    assert err == (
        "deeprnn train: error: --nonlinearity applies only to --model rnn (an LSTM has its own gates) "
        "(see deeprnn train --help)"
    )
    err = _error(capsys, ["train", "--nonlinearity", "tanh", "--quiet"], code=2)  # the default model is an LSTM
    assert "--nonlinearity applies only to --model rnn" in err


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "--hidden-size", "-3"], "--hidden-size"),
        (["train", "--num-layers", "0"], "--num-layers"),
        (["train", "--seq-len", "abc"], "--seq-len"),
        (["train", "--lr", "0"], "--lr"),
        (["train", "--lr", "-1e-3"], "--lr"),
        (["train", "--val-fraction", "1"], "--val-fraction"),
        (["train", "--val-fraction", "-0.1"], "--val-fraction"),
        (["train", "--dropout", "1.5"], "--dropout"),
        (["train", "--optimizer", "lbfgs"], "--optimizer"),
        (["train", "--model", "transformer"], "--model"),
        (["train", "--iters", "5", "--epochs", "1"], "not allowed with"),
        (["sample", "--temperature", "0"], "--temperature"),
        (["sample", "--temperature", "-1"], "--temperature"),
        (["sample", "--top-k", "0"], "--top-k"),
        (["sample", "--length", "-5"], "--length"),
    ],
)
def test_nonsensical_options_exit_2(capsys, argv, needle):
    assert needle in _error(capsys, argv, code=2)


def test_unknown_corpus_and_encoding(capsys, clean_cwd):
    assert "unknown corpus" in _error(capsys, ["train", "--corpus", "klingon", "--quiet"])
    assert "encoding" in _error(capsys, ["train", "x.txt", "--encoding", "nope", "--quiet"])


def test_no_text_trains_on_the_embedded_corpus(tmp_path, capsys):
    ck = tmp_path / "ck"
    assert main(["train", *SMALL, "--iters", "3", "--checkpoint-dir", str(ck)]) == 0
    meta = load_checkpoint(ck).meta
    assert meta["source"] == {"kind": "corpus", "name": "shakespeare"}
    assert len(meta["vocab"]["itos"]) > 50  # the corpus' full character set
