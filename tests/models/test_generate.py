"""Sampling: validation of the arguments, reproducibility, and the decoding rule against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from deeprnn.data import Vocab
from deeprnn.models import RNNLanguageModel, sample_text
from deeprnn.models.generate import next_token

from ._texts import CHINESE, ENGLISH
from ._twin import torch_twin


def _model(text: str, level: str = "char", seed: int = 0, kind: str = "lstm") -> RNNLanguageModel:
    vocab = Vocab.from_text(text, level)
    return RNNLanguageModel(
        len(vocab), 12, 2, vocab=vocab, dtype=np.float64, generator=deeprnn.Generator(seed), kind=kind
    )


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_greedy_matches_torch_argmax_decoding(kind):
    """Token by token, the state (h, or the LSTM's (h, c)) carried as torch's module carries it."""
    model = _model(ENGLISH, kind=kind)
    vocab = model.vocab
    twin = torch_twin(model)
    out = model.sample("the ", 40, greedy=True)
    ids = torch.from_numpy(vocab.encode("the ")[:, None])  # (P, 1)
    expected = []
    with torch.no_grad():
        logits, h = twin(ids)
        for _ in range(40):
            tok = int(logits[-1, 0].argmax())
            expected.append(tok)
            logits, h = twin(torch.tensor([[tok]]), h)
    assert out == "the " + vocab.decode_text(expected)


def test_seed_reproducible_and_top_k_one_is_greedy():
    model = _model(ENGLISH)
    a = model.sample("the", 60, temperature=0.9, seed=5)
    assert a == model.sample("the", 60, temperature=0.9, seed=5)
    assert a != model.sample("the", 60, temperature=0.9, seed=6)
    assert model.sample("the", 30, top_k=1, seed=3) == model.sample("the", 30, greedy=True)
    assert len(a) == 3 + 60


def test_next_token_follows_tempered_softmax_and_top_k():
    logits = np.array([1.0, 2.0, 0.5, -1.0])
    rng = np.random.default_rng(0)
    n = 20000
    for tau in (0.5, 1.0, 2.0):
        counts = np.bincount([next_token(logits, tau, None, False, rng) for _ in range(n)], minlength=4)
        p = torch.softmax(torch.tensor(logits) / tau, 0).numpy()
        assert np.all(np.abs(counts / n - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-3), (
            tau,
            counts / n,
            p,
        )
    counts = np.bincount([next_token(logits, 1.0, 2, False, rng) for _ in range(n)], minlength=4)
    assert counts[2] == counts[3] == 0  # outside the top 2
    p2 = torch.softmax(torch.tensor(logits[:2]), 0).numpy()
    assert abs(counts[1] / n - p2[1]) < 0.02


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"length": -1}, "length"),
    ],
)
def test_bad_sampling_arguments(kw, match):
    model = _model(ENGLISH)
    args = {"length": 10, **kw}
    with pytest.raises(ValueError, match=match):
        model.sample("the", **args)


def test_prime_outside_vocabulary_lists_the_characters():
    model = _model(ENGLISH)
    with pytest.raises(ValueError, match=r"2 characters .*'Q', 'Z'"):
        model.sample("QtheZ", 5)
    with pytest.raises(ValueError, match="vocab"):
        RNNLanguageModel(5, 4).sample("a", 3)


def test_chinese_word_level_prime_and_sample():
    model = _model(CHINESE, "word")
    text = sample_text(model, model.vocab, "孩子们", 20, generator=deeprnn.Generator(1))
    assert text.startswith("孩子们") and len(text) > len("孩子们")
    with pytest.raises(ValueError, match="1 word not in the model's vocabulary"):
        model.sample("电脑", 3)


@pytest.mark.parametrize("temperature", [5e-324, 1e-310, 1e-300, 1e-30])
def test_tiny_temperatures_converge_to_greedy(temperature):
    """(z - max z) / tau, not z / tau: a denormal tau overflowed to inf - inf = NaN, and the
    draw then took the last vocabulary entry every time."""
    model = _model(ENGLISH)
    greedy = model.sample("the ", 40, greedy=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no floating-point warning on the way
        assert model.sample("the ", 40, temperature=temperature, seed=1) == greedy
        assert model.sample("the ", 40, temperature=temperature, top_k=3, seed=2) == greedy


def test_tiny_temperature_with_a_tie_draws_among_the_tied():
    logits = np.array([3.0, 1.0, 3.0, -2.0])
    rng = np.random.default_rng(0)
    drawn = {next_token(logits, 5e-324, None, False, rng) for _ in range(200)}
    assert drawn == {0, 2}


def test_huge_temperature_is_uniform():
    logits = np.array([30.0, 0.0, -30.0])
    rng = np.random.default_rng(0)
    counts = np.bincount([next_token(logits, 1e300, None, False, rng) for _ in range(3000)], minlength=3)
    assert counts.min() > 900
