"""The language model, for every kind (rnn, lstm, gru), against an equivalent PyTorch model with copied weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from deeprnn.models import ModelConfig, RNNLanguageModel, TrainConfig
from oracle import assert_close

from ._twin import KINDS, torch_twin

CASES = [
    # vocab, hidden, layers, nonlinearity, embedding_dim, batch_first
    (11, 7, 1, "tanh", None, False),
    (13, 9, 2, "tanh", None, False),
    (13, 9, 3, "relu", None, True),
    (17, 8, 2, "tanh", 5, False),
    (17, 8, 1, "relu", 6, True),
]


def _states(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "kind,V,H,L,act,E,bf", [(k, *c) for k in KINDS for c in CASES if k == "rnn" or c[3] == "tanh"]
)  # nonlinearity belongs to the Elman RNN
@pytest.mark.parametrize("given_h0", [False, True])
def test_forward_backward_match_torch(kind, V, H, L, act, E, bf, dtype, given_h0):
    T, N = 6, 3
    model = RNNLanguageModel(
        V, H, L, act, embedding_dim=E, batch_first=bf, dtype=dtype, generator=deeprnn.Generator(3), kind=kind
    )
    twin = torch_twin(model, torch.float64 if dtype == np.float64 else torch.float32)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, V, (N, T) if bf else (T, N))
    target = rng.integers(0, V, ids.shape)
    count = 2 if kind == "lstm" else 1
    h0 = [rng.standard_normal((L, N, H)).astype(dtype) * 0.5 for _ in range(count)] if given_h0 else None

    ours = None if h0 is None else tuple(deeprnn.tensor(a, requires_grad=True) for a in h0)
    logits, state_n = model(ids, None if ours is None else (ours if kind == "lstm" else ours[0]))
    loss = deeprnn.nn.functional.cross_entropy(logits.reshape(-1, V), deeprnn.tensor(target.reshape(-1)))
    (loss + sum((s * s).sum() for s in _states(state_n)) * 0.1).backward()

    theirs = None if h0 is None else tuple(torch.tensor(a, requires_grad=True) for a in h0)
    t_logits, t_state = twin(
        torch.from_numpy(ids), None if theirs is None else (theirs if kind == "lstm" else theirs[0])
    )
    t_loss = torch.nn.functional.cross_entropy(t_logits.reshape(-1, V), torch.from_numpy(target.reshape(-1)))
    (t_loss + sum((s * s).sum() for s in _states(t_state)) * 0.1).backward()

    assert logits.dtype == dtype and len(_states(state_n)) == count
    assert_close(logits.detach().numpy(), t_logits, what="logits")
    for name, s, t in zip("hc", _states(state_n), _states(t_state)):
        assert_close(s.detach().numpy(), t, what=f"{name}_n")
    assert_close(loss.detach().numpy(), t_loss, what="loss")
    t_params = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        assert_close(p.grad.detach().numpy(), t_params[name].grad, what=f"grad {name}")
    if given_h0:
        for name, a, b in zip("hc", ours, theirs):
            assert_close(a.grad.detach().numpy(), b.grad, what=f"grad {name}0")


@pytest.mark.parametrize("kind", KINDS)
def test_onehot_gather_equals_dense_onehot_through_the_module(kind):
    """The gather path gives the same numbers (and gradients) as feeding one-hot rows to nn.RNN/LSTM/GRU."""
    V, H, L, T, N = 9, 6, 2, 5, 4
    model = RNNLanguageModel(V, H, L, dtype=np.float64, generator=deeprnn.Generator(1), kind=kind)
    ids = np.random.default_rng(2).integers(0, V, (T, N))
    out_fast, hn_fast = model(ids)
    out_fast.sum().backward()
    fast = {n: p.grad.detach().numpy().copy() for n, p in model.named_parameters()}
    model.zero_grad()
    onehot = np.eye(V)[ids]  # (T, N, V)
    out, hn = model.rnn(deeprnn.tensor(onehot))
    model.head(out).sum().backward()
    np.testing.assert_array_equal(model.head(out).detach().numpy(), out_fast.detach().numpy())
    for a, b in zip(_states(hn), _states(hn_fast)):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for n, p in model.named_parameters():
        np.testing.assert_allclose(fast[n], p.grad.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=n)


def test_bad_ids_and_hidden_are_rejected():
    model = RNNLanguageModel(5, 4, 2, kind="rnn")
    with pytest.raises(IndexError, match=r"\[0, 5\)"):
        model(np.array([[0, 5]]))
    with pytest.raises(ValueError, match="shape"):
        model(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"^expected hidden state h of shape \(2, 3, 4\), got \(1, 3, 4\)$"):
        model(np.zeros((2, 3), dtype=np.int64), deeprnn.zeros(1, 3, 4))
    with pytest.raises(ValueError, match=r"^an RNN's state is one tensor h of shape \(2, 3, 4\), got a tuple$"):
        model(np.zeros((2, 3), dtype=np.int64), (deeprnn.zeros(2, 3, 4), deeprnn.zeros(2, 3, 4)))
    with pytest.raises(ValueError, match="hidden_size"):
        RNNLanguageModel(5, 0)


def test_lstm_state_is_a_pair_and_each_part_is_checked():
    model = RNNLanguageModel(5, 4, 2, kind="lstm")
    ids = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(
        ValueError, match=r"^an LSTM's state is a pair \(h, c\), each of shape \(2, 3, 4\); got a Tensor$"
    ):
        model(ids, deeprnn.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"got a tuple of 1$"):
        model(ids, (deeprnn.zeros(2, 3, 4),))
    with pytest.raises(ValueError, match=r"^expected hidden state c of shape \(2, 3, 4\), got \(2, 3, 5\)$"):
        model(ids, (deeprnn.zeros(2, 3, 4), deeprnn.zeros(2, 3, 5)))
    h, c = model.init_hidden(3)
    assert h.shape == c.shape == (2, 3, 4)
    _, (h_n, c_n) = model(ids, (h, c))
    assert h_n.shape == c_n.shape == (2, 3, 4)


def test_kind_and_nonlinearity_are_validated():
    with pytest.raises(ValueError, match=r"^kind must be one of \('rnn', 'lstm', 'gru'\), got 'transformer'$"):
        RNNLanguageModel(5, 4, 1, kind="transformer")
    with pytest.raises(
        ValueError, match=r"nonlinearity applies only to kind 'rnn'.*got nonlinearity='relu' with kind='gru'"
    ):
        RNNLanguageModel(5, 4, 1, "relu", kind="gru")
    assert RNNLanguageModel(5).config == ModelConfig(5)  # one set of defaults: a 2 x 128 GRU (lm_kinds.py)
    assert (ModelConfig().kind, ModelConfig().num_layers, ModelConfig().hidden_size) == ("gru", 2, 128)


def test_a_config_without_a_kind_is_an_rnn():
    """Checkpoints of format 1 (before LSTM and GRU) store no kind: they load as the Elman RNN they were."""
    old = {
        "vocab_size": 5,
        "hidden_size": 4,
        "num_layers": 2,
        "nonlinearity": "relu",
        "dropout": 0.0,
        "embedding_dim": None,
    }
    assert ModelConfig.from_dict(old).kind == "rnn"
    assert TrainConfig.from_dict({**TrainConfig().to_dict(), "model": old}).model.kind == "rnn"
    assert ModelConfig.from_dict(ModelConfig(5, kind="gru").to_dict()).kind == "gru"
