"""Contiguous train/validation split of a token-id stream."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DataError

__all__ = ["train_val_split"]


def train_val_split(ids: Any, val_fraction: float = 0.1, seq_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Split ``ids`` (shape ``(n,)``) into a head for training and a tail for validation.

    The split is contiguous, as in char-rnn: ``val = ids[n - n_val:]`` with
    ``n_val = round(n * val_fraction)``; no shuffling, so it is deterministic.

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
