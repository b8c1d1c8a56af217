"""The language model against an equivalent PyTorch model with copied weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from deeprnn.models import RNNLanguageModel
from oracle import assert_close

from ._twin import torch_twin

CASES = [
    # vocab, hidden, layers, nonlinearity, embedding_dim, batch_first
    (11, 7, 1, "tanh", None, False),
    (13, 9, 2, "tanh", None, False),
    (13, 9, 3, "relu", None, True),
    (17, 8, 2, "tanh", 5, False),
    (17, 8, 1, "relu", 6, True),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("V,H,L,act,E,bf", CASES)
@pytest.mark.parametrize("given_h0", [False, True])
def test_forward_backward_match_torch(V, H, L, act, E, bf, dtype, given_h0):
    T, N = 6, 3
    model = RNNLanguageModel(V, H, L, act, embedding_dim=E, batch_first=bf, dtype=dtype, generator=deeprnn.Generator(3))
    twin = torch_twin(model, torch.float64 if dtype == np.float64 else torch.float32)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, V, (N, T) if bf else (T, N))
    target = rng.integers(0, V, ids.shape)
    h0 = rng.standard_normal((L, N, H)).astype(dtype) * 0.5 if given_h0 else None

    h_ours = None if h0 is None else deeprnn.tensor(h0, requires_grad=True)
    logits, h_n = model(ids, h_ours)
    loss = deeprnn.nn.functional.cross_entropy(logits.reshape(-1, V), deeprnn.tensor(target.reshape(-1)))
    (loss + (h_n * h_n).sum() * 0.1).backward()

    h_torch = None if h0 is None else torch.tensor(h0, requires_grad=True)
    t_logits, t_hn = twin(torch.from_numpy(ids), h_torch)
    t_loss = torch.nn.functional.cross_entropy(t_logits.reshape(-1, V), torch.from_numpy(target.reshape(-1)))
    (t_loss + (t_hn * t_hn).sum() * 0.1).backward()

    assert logits.dtype == dtype
    assert_close(logits.detach().numpy(), t_logits, what="logits")
    assert_close(h_n.detach().numpy(), t_hn, what="h_n")
    assert_close(loss.detach().numpy(), t_loss, what="loss")
    t_params = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        assert_close(p.grad.detach().numpy(), t_params[name].grad, what=f"grad {name}")
    if given_h0:
        assert_close(h_ours.grad.detach().numpy(), h_torch.grad, what="grad h0")


def test_onehot_gather_equals_dense_onehot_through_nn_rnn():
    """The gather path gives the same numbers (and gradients) as feeding one-hot rows to nn.RNN."""
    V, H, L, T, N = 9, 6, 2, 5, 4
    model = RNNLanguageModel(V, H, L, dtype=np.float64, generator=deeprnn.Generator(1))
    ids = np.random.default_rng(2).integers(0, V, (T, N))
    out_fast, hn_fast = model(ids)
    out_fast.sum().backward()
    fast = {n: p.grad.detach().numpy().copy() for n, p in model.named_parameters()}
    model.zero_grad()
    onehot = np.eye(V)[ids]  # (T, N, V)
    out, hn = model.rnn(deeprnn.tensor(onehot))
    model.head(out).sum().backward()
    np.testing.assert_array_equal(model.head(out).detach().numpy(), out_fast.detach().numpy())
    np.testing.assert_array_equal(hn.detach().numpy(), hn_fast.detach().numpy())
    for n, p in model.named_parameters():
        np.testing.assert_allclose(fast[n], p.grad.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=n)


def test_bad_ids_and_hidden_are_rejected():
    model = RNNLanguageModel(5, 4, 2)
    with pytest.raises(IndexError, match=r"\[0, 5\)"):
        model(np.array([[0, 5]]))
    with pytest.raises(ValueError, match="shape"):
        model(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="hidden state"):
        model(np.zeros((2, 3), dtype=np.int64), deeprnn.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="hidden_size"):
        RNNLanguageModel(5, 0)
