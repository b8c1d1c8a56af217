"""Sampling text from a trained language model, one token at a time.

At each step the model maps the last token and its state to logits z (V,), and the next
token is drawn from

    p_i = exp(z_i / tau) / sum_j exp(z_j / tau)         tau = temperature > 0

restricted to the ``top_k`` largest z when given (the others get probability 0), or is
``argmax z`` when ``greedy``.  tau < 1 sharpens the distribution, tau > 1 flattens it.
The draw uses an explicit ``deeprnn.Generator``, so a seed gives the same text every time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.random import Generator, resolve
from ..data import tokenize
from ..kernels.backend import use_compiled_sampler
from ..nn.rnn_function import weight_arrays
from .char_rnn import state_arrays
from .footprint import check_sampling_memory

if TYPE_CHECKING:
    from ..data import Vocab
    from .char_rnn import RNNLanguageModel

__all__ = ["sample_ids", "sample_text", "next_token", "check_sampling"]


def check_sampling(length: int, temperature: float, top_k: int | None) -> None:
    """Raise ValueError for a nonsensical length, temperature or top_k."""
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"length must be a non-negative integer, got {length!r}")
    if not isinstance(temperature, (int, float)) or not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")


def next_token(
    logits: np.ndarray,
    temperature: float,
    top_k: int | None,
    greedy: bool,
    rng: np.random.Generator,
    banned: int | None = None,
) -> int:
    """Pick a token id from logits (V,) as described in the module docstring."""
    z = logits.astype(np.float64)  # (V,)
    if banned is not None and z.shape[0] > 1:
        z[banned] = -np.inf
    if greedy:
        return int(np.argmax(z))
    if top_k is not None and top_k < z.shape[0]:
        kth = np.partition(z, -top_k)[-top_k]
        z = np.where(z < kth, -np.inf, z)
    # Shift before dividing: (z - max z) / tau is 0 for the most likely tokens and <= 0 for the
    # rest, so a tiny (even denormal) tau sends the others to -inf and the draw to argmax,
    # where z / tau would overflow to inf - inf = NaN.
    with np.errstate(over="ignore"):
        z = (z - z.max()) / temperature
    p = np.exp(z)  # (V,) unnormalised, 1 at the maximum
    cdf = np.cumsum(p)
    u = rng.random() * cdf[-1]
    return int(min(np.searchsorted(cdf, u, side="right"), z.shape[0] - 1))


def sample_ids(
    model: RNNLanguageModel,
    prime_ids: np.ndarray,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
    generator: Generator | None = None,
    banned: int | None = None,
) -> np.ndarray:
    """Feed ``prime_ids`` (P,) then draw ``length`` more ids; returns the (length,) new ids.

    With an empty prime the first token is drawn uniformly from the vocabulary (and counts
    as one of the ``length``).
    """
    check_sampling(length, temperature, top_k)
    rng = resolve(generator) if generator is not None else np.random.default_rng()
    was_training = model.training
    model.eval()
    out = np.empty(length, dtype=np.int64)
    try:
        with no_grad():
            prime = np.asarray(prime_ids, dtype=np.int64).reshape(-1)
            start = 0
            if prime.size == 0:
                if length == 0:
                    return out
                prime = np.array([rng.integers(model.vocab_size)], dtype=np.int64)
                out[0] = prime[0]
                start = 1
            logits, h = _step(model, prime, None, batch_first=model.batch_first)
            if start < length and _compiled(model):
                _sample_compiled(model, logits, h, out[start:], rng, temperature, top_k, greedy, banned)
                return out
            for i in range(start, length):
                tok = next_token(logits, temperature, top_k, greedy, rng, banned)
                out[i] = tok
                if i + 1 < length:
                    logits, h = _step(model, np.array([tok]), h, batch_first=model.batch_first)
    finally:
        model.train(was_training)
    return out


# The compiled loop draws this many tokens per call: the uniforms of a chunk are drawn at once.
_CHUNK = 4096


def _sample_compiled(model, logits, h, out, rng, temperature, top_k, greedy, banned) -> None:
    """Fill out (n,) with sample_ids' tokens through kernels/compiled/sample.py, chunk by chunk.

    Each chunk takes its uniforms from the generator in one call: the same numbers, in the same
    order, as next_token's one call per token (so the generator ends in the same state).
    """
    from ..kernels.compiled.sample import CompiledSampler  # imports numba

    weights = weight_arrays(model.rnn._weight_groups())
    emb = None if model.embedding is None else model.embedding.weight._data
    head_b = None if model.head.bias is None else model.head.bias._data
    states = tuple(s[:, 0] for s in state_arrays(h))  # (h,) or (h, c), each (L, H)
    nonlinearity = getattr(model.rnn, "nonlinearity", "tanh")
    sampler = CompiledSampler(model.kind, logits, states, weights, nonlinearity, emb, model.head.weight._data, head_b)
    for lo in range(0, len(out), _CHUNK):
        chunk = out[lo : lo + _CHUNK]
        uniforms = None if greedy else rng.random(len(chunk))
        sampler.draw(chunk, uniforms, temperature, top_k, greedy, banned, last=lo + _CHUNK >= len(out))


def _compiled(model: RNNLanguageModel) -> bool:
    """Whether sampling runs kernels/compiled/sample.py: every kind at batch 1 under kernels/backend.py's
    sampler rule (numba installed, H^2 within the kind's bound), but an LSTM with projections (NumPy)."""
    if model.rnn.proj_size:
        return False
    return use_compiled_sampler(model.kind, model.hidden_size, model.dtype)


def _step(model: RNNLanguageModel, ids: np.ndarray, h, batch_first: bool):
    """Run ids (P,) through the model; returns the last logits (V,) and the state."""
    x = ids[None, :] if batch_first else ids[:, None]  # (1, P) or (P, 1)
    logits, h = model(x, h)  # (P, 1, V) or (1, P, V)
    last = logits._data[0, -1] if batch_first else logits._data[-1, 0]
    return last, h


def sample_text(
    model: RNNLanguageModel,
    vocab: Vocab,
    prime: str,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
    generator: Generator | None = None,
) -> str:
    """Continue the text ``prime`` by ``length`` tokens; returns prime + continuation.

    Raises ValueError listing the prime's characters (or words) outside the vocabulary.
    """
    check_sampling(length, temperature, top_k)
    check_sampling_memory(vocab, length)
    if not isinstance(prime, str):
        raise TypeError(f"prime must be a str, got {type(prime).__name__}")
    tokens = tokenize(prime, vocab.level, vocab.segmenter) if prime else []
    missing = list(dict.fromkeys(t for t in tokens if t not in vocab.stoi))
    if missing:
        kind = ("character" if vocab.level == "char" else "word") + ("s" if len(missing) > 1 else "")
        shown = ", ".join(repr(t) for t in missing[:20]) + (" ..." if len(missing) > 20 else "")
        raise ValueError(
            f"the prime has {len(missing)} {kind} not in the model's vocabulary ({len(vocab)} tokens): {shown}"
        )
    ids = vocab.encode(tokens, unknown="error")
    new = sample_ids(model, ids, length, temperature, top_k, greedy, generator, banned=vocab.unk_id)
    return prime + vocab.decode_text(new)
