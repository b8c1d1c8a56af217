"""The language model: one-hot (or embedded) tokens -> deep RNN, LSTM or GRU -> linear head.

For token ids x_t (as char-rnn / min-char-rnn, with a stack of L layers):

    e_t      = onehot(x_t)  or  E[x_t]                          (V,) or (E,)
    h_t^1    = cell(e_t, h_{t-1}^1)                             the kind's step (nn/rnn.py)
    h_t^l    = cell(drop(h_t^{l-1}), h_{t-1}^l)                 l = 2..L
    logits_t = drop(h_t^L) W_out^T + b_out                      (V,)
    p(x_{t+1} | x_<=t) = softmax(logits_t)

where ``cell`` is the kind's recurrence, as char-rnn's ``-model``: 'rnn' the Elman RNN
(h = act(x W_ih^T + b_ih + h W_hh^T + b_hh)), 'lstm' (gates i, f, g, o and a cell state c)
or 'gru' (gates r, z, n).  The state carried from one step (and one batch) to the next is
h, or the pair (h, c) for the LSTM, as torch's modules return it.

Shapes, with T = time steps, N = batch, V = vocabulary, H = hidden size, L = layers:
    ids     (T, N) int, or (N, T) with batch_first
    state   h (L, N, H), or (h, c) each (L, N, H) for the LSTM; zeros by default
    logits  (T, N, V) (batch_first: (N, T, V))

Token ids go straight into the kernel for every kind (layer 0 looks up columns of W_ih,
the one-hot product without the one-hot matrix).  Parameter names follow PyTorch
(``rnn.weight_ih_l0``, ``head.weight``, ...), so a torch model ``Embedding|one-hot ->
nn.RNN|nn.LSTM|nn.GRU -> nn.Linear`` loads the same state dict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.random import Generator
from ..autograd.tensor import Tensor
from ..nn import GRU, LSTM, RNN, Dropout, Embedding, Linear, Module, rnn_function
from .config import A_KIND, ModelConfig

if TYPE_CHECKING:
    from ..data import Vocab

__all__ = ["RNNLanguageModel", "CharRNN", "detach_state", "state_arrays", "state_tensors", "GATES"]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
"""Gates per kind: the rows of W_ih and W_hh are GATES[kind] * hidden_size."""

_DEFAULT = ModelConfig()


def detach_state(state: Any) -> Any:
    """The carried state without its graph: a Tensor, or a tuple (h, c) of them; None stays None."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def state_arrays(state: Any) -> tuple[np.ndarray, ...]:
    """The state's arrays, (h,) or (h, c), each (L, N, H); () for None."""
    if state is None:
        return ()
    parts = state if isinstance(state, tuple) else (state,)
    return tuple(s._data for s in parts)


def state_tensors(arrays: tuple[np.ndarray, ...], kind: str) -> Any:
    """The state the model takes for these arrays: h for 'rnn' and 'gru', (h, c) for 'lstm'."""
    tensors = tuple(Tensor._wrap(a) for a in arrays)
    return tensors if kind == "lstm" else tensors[0]


class RNNLanguageModel(Module):
    """``RNNLanguageModel(vocab_size, hidden_size=128, num_layers=2, nonlinearity='tanh',
    dropout=0.0, embedding_dim=None, generator=None, batch_first=False, vocab=None, dtype=None,
    kind='gru')``.

    ``kind`` is 'rnn' (Elman, with ``nonlinearity``), 'lstm' or 'gru'.
    ``embedding_dim=None`` feeds one-hot vectors (char-rnn); an int adds ``nn.Embedding``.
    ``dropout`` acts between the recurrent layers and on the last layer's output.  ``generator``
    (a ``deeprnn.Generator``) drives the initialisation and the dropout masks.
    ``forward(ids, state=None) -> (logits, state_n)``, the state h (L, N, H), or (h, c) for the
    LSTM.  ``sample(prime, length, ...)`` needs a ``vocab`` (given here, assigned later, or
    passed to ``sample``).
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = _DEFAULT.hidden_size,
        num_layers: int = _DEFAULT.num_layers,
        nonlinearity: str = _DEFAULT.nonlinearity,
        dropout: float = _DEFAULT.dropout,
        embedding_dim: int | None = None,
        generator: Generator | None = None,
        batch_first: bool = False,
        vocab: Vocab | None = None,
        dtype: Any = None,
        kind: str = _DEFAULT.kind,
    ) -> None:
        config = ModelConfig(
            vocab_size, hidden_size, num_layers, nonlinearity, float(dropout), embedding_dim, kind
        ).validate()
        if vocab is not None and len(vocab) != vocab_size:
            raise ValueError(f"vocab has {len(vocab)} entries but vocab_size is {vocab_size}")
        super().__init__()
        self.config = config
        self.kind = kind
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
        between = dropout if num_layers > 1 else 0.0
        common = dict(dropout=between, dtype=self.dtype, generator=generator)
        if kind == "rnn":
            self.rnn = RNN(rnn_in, hidden_size, num_layers, nonlinearity=nonlinearity, **common)
        else:
            self.rnn = (LSTM if kind == "lstm" else GRU)(rnn_in, hidden_size, num_layers, **common)
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
            kind=c.kind,
        )

    @staticmethod
    def parameter_count(config: ModelConfig) -> int:
        """How many parameter arrays (state-dict entries) ``config`` describes, by arithmetic."""
        return (0 if config.embedding_dim is None else 1) + 4 * config.num_layers + 2

    @staticmethod
    def parameter_numel(config: ModelConfig) -> int:
        """How many numbers the parameters of ``config`` hold, by arithmetic (any num_layers)."""
        V, H, E, L = config.vocab_size, config.hidden_size, config.embedding_dim, config.num_layers
        G = GATES[config.kind] * H  # rows of every W_ih, W_hh and bias
        first_in = V if E is None else E
        return (0 if E is None else V * E) + G * first_in + (L - 1) * G * H + L * (G * H + 2 * G) + V * H + V

    @staticmethod
    def parameter_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
        """``{state-dict name: shape}`` for ``config``, without building the model (V, E, H, L as above)."""
        V, H, E = config.vocab_size, config.hidden_size, config.embedding_dim
        G = GATES[config.kind] * H
        shapes: dict[str, tuple[int, ...]] = {} if E is None else {"embedding.weight": (V, E)}
        for k in range(config.num_layers):
            shapes[f"rnn.weight_ih_l{k}"] = (G, (V if E is None else E) if k == 0 else H)
            shapes[f"rnn.weight_hh_l{k}"] = (G, H)
            shapes[f"rnn.bias_ih_l{k}"] = (G,)
            shapes[f"rnn.bias_hh_l{k}"] = (G,)
        shapes["head.weight"] = (V, H)
        shapes["head.bias"] = (V,)
        return shapes

    @property
    def state_names(self) -> tuple[str, ...]:
        """The carried states: ('h',), or ('h', 'c') for the LSTM."""
        return ("h", "c") if self.kind == "lstm" else ("h",)

    def init_hidden(self, batch_size: int) -> Any:
        """Zeros: the state at the start of a text, h (L, N, H) or (h, c) for the LSTM."""
        shape = (self.num_layers, batch_size, self.hidden_size)
        return state_tensors(tuple(np.zeros(shape, dtype=self.dtype) for _ in self.state_names), self.kind)

    def _ids(self, ids: Any) -> np.ndarray:
        arr = ids._data if isinstance(ids, Tensor) else np.asarray(ids)
        if arr.ndim != 2:
            raise ValueError(f"expected token ids of shape (T, N) (or (N, T) with batch_first), got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"expected integer token ids, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.vocab_size):
            raise IndexError(f"token ids must be in [0, {self.vocab_size}), got values in [{arr.min()}, {arr.max()}]")
        return arr.T if self.batch_first else arr  # (T, N)

    def _states(self, state: Any, N: int) -> tuple[Tensor, ...] | None:
        """The given state as a tuple of (L, N, H) tensors, checked; None for zeros."""
        if state is None:
            return None
        expected = (self.num_layers, N, self.hidden_size)
        if self.kind == "lstm":
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                got = f"a {type(state).__name__}" + (f" of {len(state)}" if isinstance(state, (tuple, list)) else "")
                raise ValueError(f"an LSTM's state is a pair (h, c), each of shape {expected}; got {got}")
            parts = tuple(state)
        else:
            if isinstance(state, (tuple, list)):
                raise ValueError(
                    f"{A_KIND[self.kind]}'s state is one tensor h of shape {expected}, got a {type(state).__name__}"
                )
            parts = (state,)
        for name, s in zip(self.state_names, parts):
            if not isinstance(s, Tensor) or tuple(s.shape) != expected:
                got = tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__
                raise ValueError(f"expected hidden state {name} of shape {expected}, got {got}")
        return parts

    def forward(self, ids: Any, h: Any = None) -> tuple[Tensor, Any]:
        """ids (T, N) -> logits (T, N, V), and the state: h_n (L, N, H), or (h_n, c_n) for the LSTM."""
        x = self._ids(ids)  # (T, N) time-major
        T, N = x.shape
        states = self._states(h, N)
        if self.embedding is None:
            masks = self.rnn._dropout_masks(T, N, self.dtype)
            # Token ids straight into the kernel: layer 0 gathers columns of W_ih (one-hot input).
            out, final = rnn_function.recurrent(
                self.rnn.mode,
                Tensor._wrap(np.ascontiguousarray(x)),
                states if states is not None else (None,) * len(self.state_names),
                self.rnn._weight_groups(),
                self.num_layers,
                bidirectional=False,
                dropout_masks=masks,
            )  # (T, N, H), ((L, N, H),) or ((L, N, H), (L, N, H))
            state_n = final if self.kind == "lstm" else final[0]
        else:
            emb = self.embedding(Tensor._wrap(np.ascontiguousarray(x)))  # (T, N, E)
            hx = None if states is None else (states if self.kind == "lstm" else states[0])
            out, state_n = self.rnn(emb, hx)  # (T, N, H)
        logits = self.head(self.drop(out))  # (T, N, V)
        if self.batch_first:
            logits = logits.transpose(0, 1)  # (N, T, V)
        return logits, state_n

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
        return f"{self.config.name}" + (", one-hot input" if self.embedding is None else "")


CharRNN = RNNLanguageModel
"""The char-rnn name for :class:`RNNLanguageModel` (the same class)."""
