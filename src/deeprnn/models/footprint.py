"""What training and sampling will need in memory, estimated from the sizes before allocating.

Both are refused at once (``deeprnn.memory.check_memory``) when the estimate exceeds the free
memory, instead of failing inside an allocation, or being killed, after the start-up work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..memory import check_memory
from .char_rnn import RNNLanguageModel
from .config import ModelConfig

if TYPE_CHECKING:
    from ..data import Vocab

__all__ = ["training_bytes", "check_training_memory", "sampling_bytes", "check_sampling_memory"]

# Arrays of optimiser state per parameter: Adam's two moments, RMSprop's and Adagrad's one.
_OPTIMIZER_STATE = {"sgd": 0, "adagrad": 1, "rmsprop": 1, "adam": 2, "adamw": 2}
# Numbers a training step keeps per hidden unit, layer and time step, by kind (see training_bytes).
_PER_UNIT = {"rnn": 6, "gru": 12, "lstm": 16}


def training_bytes(model: ModelConfig, optimizer: str, seq_len: int, batch_size: int, dtype: str) -> int:
    """Bytes to train ``model`` (vocab_size set) on (T, N) = (seq_len, batch_size) batches, about.

    P parameters are held four ways (the weights, their gradients, the optimiser's k state
    arrays, and the copies a checkpoint is written from: (3 + 2k) P numbers); a step keeps
    about 6 numbers per hidden unit and time step for the Elman RNN (the states, the
    pre-activations, their gradients and the pooled buffers), 12 for the GRU (its 3 gates,
    W_hn h + b_hn and their gradients besides) and 16 for the LSTM (4 gates, c, tanh(c) and
    their gradients), and 4 per logit (logits, softmax, gradients).
    """
    s = np.dtype(dtype).itemsize
    k = _OPTIMIZER_STATE.get(optimizer, 2)
    P = RNNLanguageModel.parameter_numel(model)
    steps = seq_len * batch_size
    E = model.embedding_dim or 0
    per_unit = _PER_UNIT[model.kind]
    acts = steps * (per_unit * model.num_layers * model.hidden_size + 4 * model.vocab_size + 2 * E)
    return s * ((3 + 2 * k) * P + acts)


def check_training_memory(model: ModelConfig, optimizer: str, seq_len: int, batch_size: int, dtype: str) -> None:
    """Raise MemoryLimitError when `training_bytes` exceeds the free memory."""
    check_memory(
        training_bytes(model, optimizer, seq_len, batch_size, dtype),
        f"training a {model.num_layers} x {model.hidden_size} {model.name} over {model.vocab_size:,} tokens"
        + (f" with {model.embedding_dim:,}-dimensional embeddings" if model.embedding_dim else ""),
        "use a smaller --hidden-size, --num-layers, --embedding-dim, --batch-size or --seq-len",
    )


def sampling_bytes(vocab: Vocab, length: int) -> int:
    """Bytes to sample ``length`` tokens and hold them as text, about: an int64 id and a list
    entry per token (16 bytes), and up to 4 bytes per character twice (the str and its encoding)."""
    chars = sum(len(t) for t in vocab.itos) / max(len(vocab), 1)
    return int(length * (16 + 8 * chars))


def check_sampling_memory(vocab: Vocab, length: int) -> None:
    """Raise MemoryLimitError when `sampling_bytes` exceeds the free memory."""
    check_memory(sampling_bytes(vocab, length), f"sampling {length:,} tokens", "ask for a smaller --length")
