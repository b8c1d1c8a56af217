"""``deeprnn explain`` from the shell: examples, configurations, languages, formats, pictures, errors."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from deeprnn.cli import main


def test_seed_example_prints_its_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "two-layer", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "weight_ih_l1" in out and "(4, 2, 5)" in out and "(2, 2, 5)" in out
    assert "\x1b[" not in out


def test_configuration_backward_in_chinese_html_with_pictures(tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    pics = tmp_path / "pics"
    code = main(
        [
            "explain",
            "--bidirectional",
            "--num-layers",
            "2",
            "--nonlinearity",
            "relu",
            "--backward",
            "--lang",
            "zh",
            "--format",
            "html",
            "--output",
            str(report),
            "--pictures",
            str(pics),
        ]
    )
    assert code == 0
    html = report.read_text(encoding="utf-8")
    for term in ("隐层", "权重矩阵", "偏差", "时间步", "weight_hh_l1_reverse"):
        assert term in html
    HTMLParser().feed(html)
    assert sorted(p.name for p in pics.glob("*.png")) == ["gradient_norms.png", "hidden_states.png", "unrolled.png"]


def test_unbatched_batch_first_markdown(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    assert main(["explain", "--unbatched", "--seq-len", "3", "--format", "markdown", "--output", str(out)]) == 0
    assert "(3, 5)" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--nonlinearity", "gelu"], "Unknown nonlinearity 'gelu'. Select from 'tanh' or 'relu'."),
        (["two-layer", "--model", "m.npz"], "give either an example or --model, not both"),
        (["--model", "missing.npz"], "missing.npz"),
    ],
)
def test_bad_input_exits_1_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_size_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["explain", "--hidden-size", "0"])
    assert e.value.code == 2
    assert "expected a positive integer, got 0" in capsys.readouterr().err


def test_saved_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    import deeprnn

    rnn = deeprnn.nn.RNN(4, 3, 2, bidirectional=True)
    path = tmp_path / "rnn.npz"
    np.savez(path, **{k: v.numpy() for k, v in rnn.state_dict().items()})
    assert main(["explain", "--model", str(path), "--backward", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "weight_ih_l1_reverse" in out and "(3, 6)" in out


@pytest.mark.parametrize("mode, title", [("lstm", "Explaining an LSTM"), ("gru", "Explaining a GRU")])
def test_mode_lstm_and_gru(mode: str, title: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--mode", mode, "--backward", "--bidirectional", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert title in out and "weight_hh_l1_reverse" in out and "MISMATCH" not in out
    assert ("(20, 3)" if mode == "lstm" else "(15, 3)") in out  # weight_ih_l0: G*H_out x H_in, H_out = 5


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_saved_lstm_and_gru_models_are_detected(mode: str, tmp_path: Path, capsys) -> None:
    import numpy as np

    import deeprnn

    cls = deeprnn.nn.LSTM if mode == "lstm" else deeprnn.nn.GRU
    path = tmp_path / f"{mode}.npz"
    np.savez(path, **{k: v.numpy() for k, v in cls(4, 3, 2).state_dict().items()})
    assert main(["explain", "--model", str(path), "--backward", "--no-color"]) == 0
    assert f"nn.{mode.upper()}" in capsys.readouterr().out
    other = "gru" if mode == "lstm" else "lstm"
    assert main(["explain", "--model", str(path), "--mode", other]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"mode '{other}' expects weight_hh_l0" in err and f"(nn.{mode.upper()})" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["two-layer", "--mode", "lstm"], "example 'two-layer' is an nn.RNN, not --mode lstm"),
        (["--mode", "gru", "--nonlinearity", "relu"], "--nonlinearity is for --mode rnn only"),
    ],
)
def test_bad_mode_combinations_exit_1(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_unknown_mode_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["explain", "--mode", "cnn"])
    assert e.value.code == 2 and "invalid choice: 'cnn'" in capsys.readouterr().err


def test_lstm_example_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "two-layer-lstm", "--lang", "zh", "--backward", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "遗忘门" in out and "细胞状态" in out and "(4, 2, 5)" in out
