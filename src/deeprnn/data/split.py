"""Train/validation splits of a token-id stream: a held-out tail, or char-rnn's split of every stream.

`train_val_split` holds out the last fraction of the ids, one contiguous tail.  char-rnn does
something else (util/CharSplitLMMinibatchLoader.lua): it views the text as ``batch_size``
rows, cuts the rows into chunks of ``seq_len`` columns and holds out the last 5% of the
*chunks*, so its validation text is the tail of every row: ``batch_size`` pieces spread over
the whole text, each right after the training text of its row.  `stream_split` gives that
layout, for `MappedBPTTBatches(ids, N, T, layout=...)`, so that a figure measured by char-rnn
can be measured the same way here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .errors import DataError

__all__ = ["StreamLayout", "stream_split", "train_val_split"]


def train_val_split(ids: Any, val_fraction: float = 0.1, seq_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Split ``ids`` (shape ``(n,)``) into a head for training and a tail for validation.

    The split is one contiguous tail: ``val = ids[n - n_val:]`` with
    ``n_val = round(n * val_fraction)``; no shuffling, so it is deterministic.  (char-rnn holds
    out the tail of each of its streams instead: `stream_split`.)

    Args:
        ids: 1-D token ids.
        val_fraction: ``0 <= val_fraction < 1``; 0 gives an empty validation part.
        seq_len: if given, each non-empty part must hold at least one training sequence
            of ``seq_len`` inputs plus its shifted target, i.e. ``seq_len + 1`` ids.

    Returns:
        ``(train, val)``: views of ``ids`` of shapes ``(n - n_val,)`` and ``(n_val,)``.
    """
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise DataError(f"ids must be 1-D, got shape {arr.shape}")
    try:
        f = float(val_fraction)
    except (TypeError, ValueError):
        raise DataError(f"val_fraction must be a number in [0, 1), got {val_fraction!r}") from None
    if not (0.0 <= f < 1.0):
        raise DataError(f"val_fraction must satisfy 0 <= val_fraction < 1, got {val_fraction!r}")
    n = arr.shape[0]
    n_val = int(round(n * f))
    if f > 0 and n_val == 0:
        n_val = 1
    train, val = arr[: n - n_val], arr[n - n_val :]
    if seq_len is not None:
        if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
            raise DataError(f"seq_len must be a positive int, got {seq_len!r}")
        need = int(seq_len) + 1
        for name, part in (("training", train), ("validation", val)):
            if (name == "training" or f > 0) and len(part) < need:
                raise DataError(
                    f"the {name} part has {len(part)} tokens (of {n}, val_fraction={f}) but "
                    f"one sequence of seq_len={seq_len} needs {need} (inputs + shifted "
                    f"target); use a longer text, a shorter seq_len or another val_fraction"
                )
    return train, val


class StreamLayout(NamedTuple):
    """Where N streams lie in a 1-D id array: stream b's inputs are
    ``ids[b*stride + offset : b*stride + offset + length]`` and its targets the same shifted by one."""

    stride: int
    offset: int
    length: int


def stream_split(n: int, batch_size: int, seq_len: int, val_fraction: float) -> tuple[StreamLayout, StreamLayout]:
    """char-rnn's train/validation split of ``n`` ids cut into ``batch_size`` streams (module docstring).

    The ids are cut into N = batch_size rows of R = T * floor((n - 1) / (N T)) ids (T = seq_len;
    the rest is dropped, and the last target exists), i.e. B = R / T chunks of T per row; the first
    ``floor(B * (1 - val_fraction))`` chunks of every row train, the others validate, as char-rnn's
    ``ntrain = floor(nbatches * 0.95)``.  (char-rnn drops ``n mod (N T)`` ids and wraps the very last
    target to the first id; here one more id is kept instead, so no target wraps.)

    Returns:
        ``(train, val)`` layouts for `MappedBPTTBatches` over the whole ids, with the same N streams.
    """
    for name, v in (("batch_size", batch_size), ("seq_len", seq_len), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise DataError(f"{name} must be a positive int, got {v!r}")
    try:
        f = float(val_fraction)
    except (TypeError, ValueError):
        raise DataError(f"val_fraction must be a number in (0, 1), got {val_fraction!r}") from None
    if not (0.0 < f < 1.0):
        raise DataError(f"val_fraction must satisfy 0 < val_fraction < 1 to split the streams, got {val_fraction!r}")
    N, T = int(batch_size), int(seq_len)
    chunks = (int(n) - 1) // (N * T)  # B: chunks of T per row
    n_train = int(np.floor(chunks * (1.0 - f)))
    if n_train < 1 or n_train == chunks:
        raise DataError(
            f"{n} ids make {chunks} chunk(s) of seq_len={T} in each of batch_size={N} streams; "
            f"val_fraction={f} needs at least one chunk for training and one for validation in each "
            f"stream; use a longer text or a smaller batch_size/seq_len"
        )
    R = chunks * T
    return StreamLayout(R, 0, n_train * T), StreamLayout(R, n_train * T, R - n_train * T)
