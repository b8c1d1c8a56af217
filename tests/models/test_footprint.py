"""The memory estimates: they cover what training and sampling use, and refuse what cannot fit."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import deeprnn.memory as memory
from deeprnn.data import Vocab
from deeprnn.models import ModelConfig, RNNLanguageModel, TrainConfig, sample_text
from deeprnn.models.footprint import sampling_bytes, training_bytes
from deeprnn.models.trainer import train

from ._texts import ENGLISH


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_parameter_count_and_shapes_by_arithmetic(kind):
    for cfg in (ModelConfig(30, 16, 3, kind=kind), ModelConfig(30, 16, 1, embedding_dim=5, kind=kind)):
        model = RNNLanguageModel.from_config(cfg)
        shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        assert RNNLanguageModel.parameter_shapes(cfg) == shapes
        assert RNNLanguageModel.parameter_count(cfg) == len(shapes)
        assert RNNLanguageModel.parameter_numel(cfg) == sum(int(np.prod(s)) for s in shapes.values())
    assert RNNLanguageModel.parameter_count(ModelConfig(30, 16, 10**7, kind=kind)) == 4 * 10**7 + 2  # no loop


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_training_estimate_covers_a_run(tmp_path, kind):
    config = TrainConfig(
        model=ModelConfig(hidden_size=96, num_layers=2, kind=kind),
        seq_len=32,
        batch_size=16,
        iters=3,
        eval_every=3,
        eval_batches=1,
        sample_every=10_000,
        checkpoint_every=3,
        checkpoint_dir=None,
    )
    text = ENGLISH * 3
    vocab_size = len(set(text))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        train(config, text, quiet=True)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    cfg = ModelConfig(vocab_size=vocab_size, hidden_size=96, num_layers=2, kind=kind)
    estimate = training_bytes(cfg, "adam", 32, 16, "float32")
    text_and_ids = 10 * len(text)  # the tokens (and their batches) are not part of the model's estimate
    assert peak - text_and_ids <= estimate <= 4 * peak, (peak, estimate)


def test_training_too_large_is_refused_before_the_model_is_built(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 30)
    built = []
    monkeypatch.setattr(RNNLanguageModel, "from_config", classmethod(lambda cls, *a, **k: built.append(1)))
    config = TrainConfig(
        model=ModelConfig(hidden_size=100_000, kind="lstm"), iters=1, checkpoint_dir=str(tmp_path / "ck")
    )
    with pytest.raises(memory.MemoryLimitError, match=r"training a 2 x 100000 LSTM .* needs about .* TiB .* 1 GiB"):
        train(config, ENGLISH, quiet=True)
    config.model.kind, config.model.nonlinearity = "rnn", "relu"
    with pytest.raises(memory.MemoryLimitError, match=r"training a 2 x 100000 relu RNN .* needs about .* GiB .* 1 GiB"):
        train(config, ENGLISH, quiet=True)
    assert built == [] and not (tmp_path / "ck").exists()


def test_sampling_too_long_is_refused_before_it_starts(monkeypatch):
    vocab = Vocab.from_text(ENGLISH)
    model = RNNLanguageModel(len(vocab), 8, 1, vocab=vocab)
    assert sampling_bytes(vocab, 10**12) > 10**13
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 30)
    with pytest.raises(memory.MemoryLimitError, match="sampling 1,000,000,000,000 tokens needs about"):
        sample_text(model, vocab, "the", 10**12)
    assert len(sample_text(model, vocab, "the", 100)) == 103


def test_available_memory_is_known_here():
    free = memory.available_bytes()
    assert free is not None and free > 0
    assert memory.format_bytes(1536) == "1.5 KiB" and memory.format_bytes(1000) == "1,000 bytes"
