"""Ordinary PyTorch RNN programs run unchanged under ``import deeprnn as torch`` and print torch's numbers.

Each program in programs/ is written for PyTorch in the style of a popular tutorial or example (see the
comment at its top). The harness runs it twice, with real torch and with deeprnn (only its import lines
changed), from the same random draws, and the test compares what both computed through the oracle.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _compat_harness import run_program, to_deeprnn

import deeprnn
from oracle import assert_close


def both(name, monkeypatch, tmp_path):
    ours, ours_out = run_program(name, deeprnn, monkeypatch, tmp_path / "deeprnn")
    monkeypatch.undo()
    theirs, theirs_out = run_program(name, torch, monkeypatch, tmp_path / "torch")
    return ours, theirs, ours_out, theirs_out


@pytest.fixture
def tmp_dirs(tmp_path):
    (tmp_path / "deeprnn").mkdir()
    (tmp_path / "torch").mkdir()
    return tmp_path


def test_only_the_import_lines_change() -> None:
    src = "import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\nx = torch.zeros(2)\n"
    ours = "import deeprnn as torch\nimport deeprnn.nn as nn\nfrom deeprnn.utils.data import DataLoader\n"
    assert to_deeprnn(src) == ours + "x = torch.zeros(2)\n"


def test_rnn_regressor_carrying_hidden_state_through_data(monkeypatch, tmp_dirs) -> None:
    ours, theirs, out, ref_out = both("rnn_regressor.py", monkeypatch, tmp_dirs)
    assert len(ours["losses"]) == 60
    assert_close(np.array(ours["losses"], np.float32), np.array(theirs["losses"], np.float32), what="losses")
    assert_close(np.array(ours["predictions"]), np.array(theirs["predictions"]), what="predictions")
    assert out.splitlines()[:4] == ref_out.splitlines()[:4]  # the printed module repr


def test_char_rnn_classifier_from_linear_and_cat(monkeypatch, tmp_dirs) -> None:
    ours, theirs, _, _ = both("char_rnn_classify.py", monkeypatch, tmp_dirs)
    assert_close(np.array(ours["losses"], np.float32), np.array(theirs["losses"], np.float32), what="losses")
    assert ours["guesses"] == theirs["guesses"]
    assert_close(ours["confusion"], theirs["confusion"], what="confusion matrix")


def test_char_rnn_generator_accumulating_loss_in_place(monkeypatch, tmp_dirs) -> None:
    ours, theirs, _, _ = both("char_rnn_generate.py", monkeypatch, tmp_dirs)
    assert_close(np.array(ours["losses"], np.float32), np.array(theirs["losses"], np.float32), what="losses")
    assert ours["samples"] == theirs["samples"]


def test_word_language_model_with_manual_sgd_and_save_load(monkeypatch, tmp_dirs) -> None:
    ours, theirs, out, ref_out = both("word_lm.py", monkeypatch, tmp_dirs)
    assert_close(np.array(ours["losses"], np.float32), np.array(theirs["losses"], np.float32), what="train losses")
    assert_close(np.array(ours["val_losses"], np.float32), np.array(theirs["val_losses"], np.float32), what="val")
    assert_close(np.float32(ours["test_loss"]), np.float32(theirs["test_loss"]), what="test loss after reload")
    # The checkpoint deeprnn wrote is torch's format: torch loads it with weights_only=True.
    state = torch.load(tmp_dirs / "deeprnn" / "model.pt", weights_only=True)
    assert set(state) == set(theirs["model"].state_dict())


def test_packed_sequence_classifier(monkeypatch, tmp_dirs) -> None:
    ours, theirs, _, _ = both("packed_classifier.py", monkeypatch, tmp_dirs)
    assert_close(np.array(ours["losses"], np.float32), np.array(theirs["losses"], np.float32), what="losses")
    assert ours["accuracy"] == theirs["accuracy"] and ours["padding_is_zero"] and theirs["padding_is_zero"]


def test_lstmcell_predictor_with_lbfgs_in_float64(monkeypatch, tmp_dirs) -> None:
    ours, theirs, _, _ = both("lstmcell_lbfgs.py", monkeypatch, tmp_dirs)
    assert len(ours["losses"]) == len(theirs["losses"]) > 3  # LBFGS evaluated the closure as often
    assert_close(np.array(ours["losses"]), np.array(theirs["losses"]), what="closure losses")
    assert_close(np.array(ours["test_losses"]), np.array(theirs["test_losses"]), what="test losses")
    assert_close(ours["y"], theirs["y"], what="predicted future")


def test_lstm_classifier_over_a_dataloader(monkeypatch, tmp_dirs) -> None:
    ours, theirs, _, _ = both("dataloader_classifier.py", monkeypatch, tmp_dirs)
    assert len(ours["losses"]) == 20
    assert_close(np.array(ours["losses"], np.float32), np.array(theirs["losses"], np.float32), what="losses")
    assert ours["accuracy"] == theirs["accuracy"]


def test_lstm_part_of_speech_tagger(monkeypatch, tmp_dirs) -> None:
    ours, theirs, _, _ = both("lstm_tagger.py", monkeypatch, tmp_dirs)
    assert len(ours["losses"]) == 600
    assert_close(np.array(ours["losses"], np.float32), np.array(theirs["losses"], np.float32), what="losses")
    assert ours["pred"] == theirs["pred"]


def test_seq2seq_with_attention(monkeypatch, tmp_dirs) -> None:
    ours, theirs, _, _ = both("seq2seq.py", monkeypatch, tmp_dirs)
    assert_close(np.array(ours["losses"], np.float32), np.array(theirs["losses"], np.float32), what="epoch losses")
    assert ours["decoded"] == theirs["decoded"]
