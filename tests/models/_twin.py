"""A PyTorch twin of the language model (one-hot|Embedding -> nn.RNN|LSTM|GRU -> nn.Linear) with copied weights."""

from __future__ import annotations

import numpy as np
import torch

KINDS = ("rnn", "lstm", "gru")


class TorchLM(torch.nn.Module):
    def __init__(
        self,
        vocab_size,
        hidden_size,
        num_layers,
        nonlinearity="tanh",
        embedding_dim=None,
        dtype=torch.float64,
        batch_first=False,
        kind="rnn",
    ):
        super().__init__()
        self.vocab_size = vocab_size
        self.batch_first = batch_first
        self.embedding = None if embedding_dim is None else torch.nn.Embedding(vocab_size, embedding_dim, dtype=dtype)
        rnn_in = vocab_size if embedding_dim is None else embedding_dim
        common = dict(dtype=dtype, batch_first=batch_first)
        if kind == "rnn":
            self.rnn = torch.nn.RNN(rnn_in, hidden_size, num_layers, nonlinearity=nonlinearity, **common)
        else:
            self.rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(rnn_in, hidden_size, num_layers, **common)
        self.head = torch.nn.Linear(hidden_size, vocab_size, dtype=dtype)

    def forward(self, ids, h=None):
        if self.embedding is None:
            x = torch.nn.functional.one_hot(ids, self.vocab_size).to(self.head.weight.dtype)
        else:
            x = self.embedding(ids)
        out, h_n = self.rnn(x, h)
        return self.head(out), h_n


def torch_twin(model, dtype=torch.float64) -> TorchLM:
    """A TorchLM with ``model``'s architecture and weights (cast to ``dtype``)."""
    c = model.config
    twin = TorchLM(
        c.vocab_size,
        c.hidden_size,
        c.num_layers,
        c.nonlinearity,
        c.embedding_dim,
        dtype,
        batch_first=model.batch_first,
        kind=c.kind,
    )
    state = {
        k: torch.from_numpy(np.array(v.detach().numpy(), dtype=np.float64)).to(dtype)
        for k, v in model.state_dict().items()
    }
    twin.load_state_dict(state, strict=True)
    return twin
