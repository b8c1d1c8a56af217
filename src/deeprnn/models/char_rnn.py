"""The language model: one-hot (or embedded) tokens -> deep Elman RNN -> linear head.

For token ids x_t (as char-rnn / min-char-rnn, with a stack of L layers):

    e_t      = onehot(x_t)  or  E[x_t]                          (V,) or (E,)
    h_t^1    = act(e_t W_ih^1T + b_ih^1 + h_{t-1}^1 W_hh^1T + b_hh^1)
    h_t^l    = act(drop(h_t^{l-1}) W_ih^lT + b_ih^l + h_{t-1}^l W_hh^lT + b_hh^l)   l = 2..L
    logits_t = drop(h_t^L) W_out^T + b_out                      (V,)
    p(x_{t+1} | x_<=t) = softmax(logits_t)

Shapes, with T = time steps, N = batch, V = vocabulary, H = hidden size, L = layers:
    ids     (T, N) int, or (N, T) with batch_first
    h       (L, N, H), zeros by default
    logits  (T, N, V) (batch_first: (N, T, V))

Parameter names follow PyTorch (``rnn.weight_ih_l0``, ``head.weight``, ...), so a torch
model ``Embedding|one-hot -> nn.RNN -> nn.Linear`` loads the same state dict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.random import Generator
from ..autograd.tensor import Tensor
from ..nn import RNN, Dropout, Embedding, Linear, Module, rnn_function
from .config import ModelConfig

if TYPE_CHECKING:
    from ..data import Vocab

__all__ = ["RNNLanguageModel", "CharRNN"]


class RNNLanguageModel(Module):
    """``RNNLanguageModel(vocab_size, hidden_size=256, num_layers=2, nonlinearity='tanh',
    dropout=0.0, embedding_dim=None, generator=None, batch_first=False, vocab=None)``.

    ``embedding_dim=None`` feeds one-hot vectors (char-rnn); an int adds ``nn.Embedding``.
    ``dropout`` acts between RNN layers and on the last layer's output.  ``generator``
    (a ``deeprnn.Generator``) drives the initialisation and the dropout masks.
    ``forward(ids, h=None) -> (logits, h_n)``.  ``sample(prime, length, ...)`` needs a
    ``vocab`` (given here, assigned later, or passed to ``sample``).
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 256,
        num_layers: int = 2,
        nonlinearity: str = "tanh",
        dropout: float = 0.0,
        embedding_dim: int | None = None,
        generator: Generator | None = None,
        batch_first: bool = False,
        vocab: Vocab | None = None,
        dtype: Any = None,
    ) -> None:
        config = ModelConfig(
            vocab_size, hidden_size, num_layers, nonlinearity, float(dropout), embedding_dim
        ).validate()
        if vocab is not None and len(vocab) != vocab_size:
            raise ValueError(f"vocab has {len(vocab)} entries but vocab_size is {vocab_size}")
        super().__init__()
        self.config = config
        self.vocab = vocab
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.batch_first = bool(batch_first)
        self.generator = generator
        self.dtype = np.dtype(dtype or np.float32)
        if embedding_dim is None:
            self.embedding = None
            rnn_in = vocab_size
        else:
            self.embedding = Embedding(vocab_size, embedding_dim, dtype=self.dtype, generator=generator)
            rnn_in = embedding_dim
        self.rnn = RNN(
            rnn_in,
            hidden_size,
            num_layers,
            nonlinearity=nonlinearity,
            dropout=dropout if num_layers > 1 else 0.0,
            dtype=self.dtype,
            generator=generator,
        )
        self.drop = Dropout(dropout, generator=generator)
        self.head = Linear(hidden_size, vocab_size, dtype=self.dtype, generator=generator)

    @classmethod
    def from_config(
        cls,
        config: ModelConfig,
        generator: Generator | None = None,
        vocab: Vocab | None = None,
        dtype: Any = None,
    ) -> RNNLanguageModel:
        c = config.validate()
        return cls(
            c.vocab_size,
            c.hidden_size,
            c.num_layers,
            c.nonlinearity,
            c.dropout,
            c.embedding_dim,
            generator=generator,
            vocab=vocab,
            dtype=dtype,
        )

    @staticmethod
    def parameter_count(config: ModelConfig) -> int:
        """How many parameter arrays (state-dict entries) ``config`` describes, by arithmetic."""
        return (0 if config.embedding_dim is None else 1) + 4 * config.num_layers + 2

    @staticmethod
    def parameter_numel(config: ModelConfig) -> int:
        """How many numbers the parameters of ``config`` hold, by arithmetic (any num_layers)."""
        V, H, E, L = config.vocab_size, config.hidden_size, config.embedding_dim, config.num_layers
        first_in = V if E is None else E
        return (0 if E is None else V * E) + H * first_in + (L - 1) * H * H + L * (H * H + 2 * H) + V * H + V

    @staticmethod
    def parameter_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
        """``{state-dict name: shape}`` for ``config``, without building the model (V, E, H, L as above)."""
        V, H, E = config.vocab_size, config.hidden_size, config.embedding_dim
        shapes: dict[str, tuple[int, ...]] = {} if E is None else {"embedding.weight": (V, E)}
        for k in range(config.num_layers):
            shapes[f"rnn.weight_ih_l{k}"] = (H, (V if E is None else E) if k == 0 else H)
            shapes[f"rnn.weight_hh_l{k}"] = (H, H)
            shapes[f"rnn.bias_ih_l{k}"] = (H,)
            shapes[f"rnn.bias_hh_l{k}"] = (H,)
        shapes["head.weight"] = (V, H)
        shapes["head.bias"] = (V,)
        return shapes

    def init_hidden(self, batch_size: int) -> Tensor:
        """Zeros (L, N, H): the state at the start of a text."""
        return Tensor._wrap(np.zeros((self.num_layers, batch_size, self.hidden_size), dtype=self.dtype))

    def _ids(self, ids: Any) -> np.ndarray:
        arr = ids._data if isinstance(ids, Tensor) else np.asarray(ids)
        if arr.ndim != 2:
            raise ValueError(f"expected token ids of shape (T, N) (or (N, T) with batch_first), got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"expected integer token ids, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.vocab_size):
            raise IndexError(f"token ids must be in [0, {self.vocab_size}), got values in [{arr.min()}, {arr.max()}]")
        return arr.T if self.batch_first else arr  # (T, N)

    def forward(self, ids: Any, h: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """ids (T, N) -> logits (T, N, V), h_n (L, N, H)."""
        x = self._ids(ids)  # (T, N) time-major
        T, N = x.shape
        if h is not None and tuple(h.shape) != (self.num_layers, N, self.hidden_size):
            raise ValueError(
                f"expected hidden state of shape {(self.num_layers, N, self.hidden_size)}, got {tuple(h.shape)}"
            )
        if self.embedding is None:
            masks = self.rnn._dropout_masks(T, N, self.dtype)
            # Token ids straight into the kernel: layer 0 gathers columns of W_ih (one-hot input).
            out, h_n = rnn_function.rnn(
                Tensor._wrap(np.ascontiguousarray(x)),
                h,
                self.rnn._weight_groups(),
                self.rnn.nonlinearity,
                self.num_layers,
                bidirectional=False,
                batch_first=False,
                batched=True,
                dropout_masks=masks,
            )  # (T, N, H), (L, N, H)
        else:
            emb = self.embedding(Tensor._wrap(np.ascontiguousarray(x)))  # (T, N, E)
            out, h_n = self.rnn(emb, h)  # (T, N, H)
        logits = self.head(self.drop(out))  # (T, N, V)
        if self.batch_first:
            logits = logits.transpose(0, 1)  # (N, T, V)
        return logits, h_n

    def sample(
        self,
        prime: str,
        length: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        greedy: bool = False,
        seed: int | None = None,
        vocab: Vocab | None = None,
    ) -> str:
        """Continue ``prime`` by ``length`` tokens; returns prime + continuation as text.

        ``temperature`` (> 0) divides the logits; ``top_k`` keeps the k most likely tokens;
        ``greedy`` takes the most likely token; ``seed`` makes the draw reproducible.
        """
        from .generate import sample_text

        v = vocab if vocab is not None else self.vocab
        if v is None:
            raise ValueError("sample() needs the vocabulary: pass vocab=... or set model.vocab")
        return sample_text(
            self,
            v,
            prime,
            length,
            temperature=temperature,
            top_k=top_k,
            greedy=greedy,
            generator=None if seed is None else Generator(seed),
        )

    def extra_repr(self) -> str:
        return "one-hot input" if self.embedding is None else ""


CharRNN = RNNLanguageModel
"""The char-rnn name for :class:`RNNLanguageModel` (the same class)."""
