"""Sampling through the compiled loop (kernels/compiled/sample.py) against torch's twin of the model.

The reference drives torch's model step by step and draws each token from torch's logits with
next_token and an identical generator; the compiled loop computes every layer, the head, the
softmax and the draw itself.  The token sequences must be the same.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from deeprnn.autograd.random import resolve
from deeprnn.data import Vocab
from deeprnn.kernels import backend
from deeprnn.models import RNNLanguageModel, generate
from deeprnn.models.generate import next_token, sample_ids

from ._texts import ENGLISH
from ._twin import torch_twin

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def compiled_path():
    saved = backend._chosen
    backend.set_backend("numba")
    yield
    backend._chosen = saved


def _reference(model, prime, n, temperature, top_k, greedy, seed, banned, dtype):
    twin = torch_twin(model, dtype)
    rng = resolve(deeprnn.Generator(seed))
    out = []
    with torch.no_grad():
        logits, h = twin(torch.from_numpy(prime[:, None]))
        for _ in range(n):
            tok = next_token(logits[-1, 0].numpy(), temperature, top_k, greedy, rng, banned)
            out.append(tok)
            logits, h = twin(torch.tensor([[tok]]), h)
    return np.array(out)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("embedding_dim", [None, 7])
@pytest.mark.parametrize("mode", ["greedy", "temperature", "top_k"])
def test_compiled_sampling_matches_torch_driven_reference(dtype, layers, nonlinearity, embedding_dim, mode):
    vocab = Vocab.from_text(ENGLISH, "char")
    model = RNNLanguageModel(
        len(vocab), 16, layers, nonlinearity, embedding_dim=embedding_dim, vocab=vocab, dtype=dtype,
        generator=deeprnn.Generator(3), kind="rnn",
    )  # fmt: skip
    prime = vocab.encode("the ")
    args = {"greedy": (1.0, None, True), "temperature": (0.8, None, False), "top_k": (1.3, 5, False)}[mode]
    banned = 2
    ours = sample_ids(model, prime, 50, *args, generator=deeprnn.Generator(11), banned=banned)
    ref = _reference(model, prime, 50, *args, 11, banned, torch.float64 if dtype == np.float64 else torch.float32)
    np.testing.assert_array_equal(ours, ref)
    assert banned not in ours


@pytest.mark.parametrize("length", [1, 7, 14, 30])
def test_chunks_and_generator_state_as_the_numpy_path(monkeypatch, length):
    """Chunk by chunk (7 tokens here), the compiled loop takes the same uniforms in the same order."""
    monkeypatch.setattr(generate, "_CHUNK", 7)
    vocab = Vocab.from_text(ENGLISH, "char")
    model = RNNLanguageModel(
        len(vocab), 8, 2, vocab=vocab, dtype=np.float64, generator=deeprnn.Generator(0), kind="rnn"
    )
    after = {}
    for name in ("numba", "numpy"):
        backend.set_backend(name)
        gen = deeprnn.Generator(5)
        ids = sample_ids(model, vocab.encode("a"), length, temperature=0.9, generator=gen)
        empty_prime = sample_ids(model, vocab.encode(""), length, top_k=4, generator=gen)
        after[name] = (ids, empty_prime, resolve(gen).random())
    for ours, ref in zip(after["numba"], after["numpy"]):
        np.testing.assert_array_equal(ours, ref)
