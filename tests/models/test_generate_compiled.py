"""Sampling through the compiled loop (kernels/compiled/sample.py), every kind, against two references.

The draws: a torch-driven reference steps torch's twin of the model token by token and draws each
token from torch's logits with next_token and an identical generator; the compiled loop computes
every layer, the head, the softmax and the draw itself.  The token sequences must be the same.

The step: started from the NumPy model's logits and state, one compiled step (the draw and the
network) must give next_token's token for the same uniform, and the NumPy model's logits and state
for that token, at the oracle's tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from deeprnn.autograd.grad_mode import no_grad
from deeprnn.autograd.random import resolve
from deeprnn.data import Vocab
from deeprnn.kernels import backend
from deeprnn.models import RNNLanguageModel, generate
from deeprnn.models.char_rnn import state_arrays
from deeprnn.models.generate import next_token, sample_ids
from oracle import assert_close

from ._texts import ENGLISH
from ._twin import torch_twin

pytest.importorskip("numba")

# (kind, nonlinearity): the RNN with each activation, the LSTM and the GRU.
NETS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
MODES = {"greedy": (1.0, None, True), "temperature": (0.8, None, False), "top_k": (1.3, 5, False)}


@pytest.fixture(autouse=True)
def compiled_path():
    saved = backend._chosen
    backend.set_backend("numba")
    yield
    backend._chosen = saved


def _model(net, layers, embedding_dim, dtype, hidden=16):
    kind, nonlinearity = net
    vocab = Vocab.from_text(ENGLISH, "char")
    return RNNLanguageModel(
        len(vocab), hidden, layers, nonlinearity, embedding_dim=embedding_dim, vocab=vocab, dtype=dtype,
        generator=deeprnn.Generator(3), kind=kind,
    )  # fmt: skip


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
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("net", NETS, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
@pytest.mark.parametrize("embedding_dim", [None, 7])
@pytest.mark.parametrize("mode", list(MODES))
def test_compiled_sampling_matches_torch_driven_reference(dtype, layers, net, embedding_dim, mode):
    model = _model(net, layers, embedding_dim, dtype)
    vocab = model.vocab
    assert generate._compiled(model)
    prime = vocab.encode("the ")
    args = MODES[mode]
    banned = 2
    ours = sample_ids(model, prime, 50, *args, generator=deeprnn.Generator(11), banned=banned)
    ref = _reference(model, prime, 50, *args, 11, banned, torch.float64 if dtype == np.float64 else torch.float32)
    np.testing.assert_array_equal(ours, ref)
    assert banned not in ours


class _Uniform:
    """A stand-in generator whose random() returns one given uniform (next_token draws one per token)."""

    def __init__(self, u):
        self.u = u

    def random(self):
        return self.u


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("net", NETS, ids=["rnn-tanh", "rnn-relu", "lstm", "gru"])
@pytest.mark.parametrize("embedding_dim", [None, 7])
def test_one_compiled_step_is_next_token_and_the_numpy_model_step(dtype, layers, net, embedding_dim):
    """From the NumPy model's logits and state: the token, then the logits and the state (h, or (h, c))."""
    from deeprnn.kernels.compiled.sample import CompiledSampler

    backend.set_backend("numpy")  # the reference: the NumPy model, step by step
    model = _model(net, layers, embedding_dim, dtype).eval()
    weights = [tuple(None if w is None else w._data for w in g) for g in model.rnn._weight_groups()]
    emb = None if model.embedding is None else model.embedding.weight._data
    head = (model.head.weight._data, model.head.bias._data)
    rng = np.random.default_rng(7)
    with no_grad():
        logits, h = generate._step(model, model.vocab.encode("the "), None, batch_first=False)
        for i in range(24):
            temperature, top_k, greedy = MODES[list(MODES)[i % 3]]
            u = rng.random()
            states = tuple(s[:, 0] for s in state_arrays(h))
            sampler = CompiledSampler(net[0], logits, states, weights, net[1], emb, *head)
            tok = sampler.draw(np.empty(1, np.int64), None if greedy else [u], temperature, top_k, greedy, 2, False)
            assert tok[0] == next_token(logits, temperature, top_k, greedy, _Uniform(u), 2), f"step {i}"
            logits, h = generate._step(model, tok, h, batch_first=False)
            assert_close(sampler.logits[0], logits, dtype, what=f"logits, step {i}")
            for name, ours, ref in zip(model.state_names, sampler.states, state_arrays(h)):
                assert_close(ours, ref[:, 0], dtype, what=f"{name}, step {i}")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("length", [1, 7, 14, 30])
def test_chunks_and_generator_state_as_the_numpy_path(monkeypatch, kind, length):
    """Chunk by chunk (7 tokens here), the compiled loop takes the same uniforms in the same order."""
    monkeypatch.setattr(generate, "_CHUNK", 7)
    vocab = Vocab.from_text(ENGLISH, "char")
    model = RNNLanguageModel(len(vocab), 8, 2, vocab=vocab, dtype=np.float64, generator=deeprnn.Generator(0), kind=kind)
    after = {}
    for name in ("numba", "numpy"):
        backend.set_backend(name)
        gen = deeprnn.Generator(5)
        ids = sample_ids(model, vocab.encode("a"), length, temperature=0.9, generator=gen)
        empty_prime = sample_ids(model, vocab.encode(""), length, top_k=4, generator=gen)
        after[name] = (ids, empty_prime, resolve(gen).random())
    for ours, ref in zip(after["numba"], after["numpy"]):
        np.testing.assert_array_equal(ours, ref)


def test_auto_samples_every_kind_compiled_under_the_backend_rule():
    """At batch 1: N H^2 <= 2^17 for the RNN (H <= 362), 2^18 for the LSTM and GRU (H <= 512)."""
    backend.set_backend("auto")
    for kind, inside, outside in (("rnn", 362, 363), ("lstm", 512, 513), ("gru", 512, 513)):
        net = (kind, "tanh")
        assert generate._compiled(_model(net, 1, 4, np.float32, hidden=inside)), kind
        assert not generate._compiled(_model(net, 1, 4, np.float32, hidden=outside)), kind
    backend.set_backend("numpy")
    assert not generate._compiled(_model(("lstm", "tanh"), 1, None, np.float32))


def test_the_sampler_refuses_projections_and_the_model_falls_back():
    from deeprnn.kernels.compiled.sample import CompiledSampler

    model = _model(("lstm", "tanh"), 1, None, np.float64)
    w_ih, w_hh, b_ih, b_hh = (w._data for w in model.rnn._weight_groups()[0])
    w_hr = np.zeros((16, 16))
    with pytest.raises(ValueError, match="projections"):
        CompiledSampler("lstm", np.zeros(len(model.vocab)), (np.zeros((1, 16)),) * 2,
                        [(w_ih, w_hh, b_ih, b_hh, w_hr)], "tanh", None, model.head.weight._data, None)  # fmt: skip
    model.rnn.proj_size = 8  # what an LSTM with projections has; the LM never builds one
    assert not generate._compiled(model)
