"""Truncated-BPTT batches read straight from a token-id array, such as a memory map, without a copy.

`MappedBPTTBatches` has `BPTTBatches`' geometry, batches, position and saved state, but reads
each batch's ``N x (T + 1)`` ids by indexing the array it was given, so a memory map is read
only where a batch lies (one byte per token for a uint8 map) and never made contiguous.  It
can also read just a block of the N streams (``streams=slice(a, b)``), which is what one of K
data-parallel processes trains on: ``x`` and ``y`` then have ``b - a`` columns, while
``batch_size`` stays the global N.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .bptt import BPTTBatches, fingerprint_ids
from .errors import DataError

__all__ = ["MappedBPTTBatches", "fingerprint_ids"]


class MappedBPTTBatches(BPTTBatches):
    """`BPTTBatches` over ``ids`` read on demand (an ``np.memmap`` stays on disk).

    Args:
        ids: 1-D integer array (any unsigned or signed dtype), not copied.
        batch_size, seq_len, batch_first, drop_last: as `BPTTBatches` (``batch_size`` is N,
            the number of streams the ids are cut into).
        streams: the block of streams to read, ``slice(a, b)`` with ``0 <= a < b <= N``
            (default all): ``x``, ``y`` have shape ``(T, b - a)`` (or ``(b - a, T)``).
        fingerprint: the ids' fingerprint if already known (see `fingerprint_ids`), or a function
            that computes it (``TokenMap.fingerprint``, which remembers it); in both other cases
            it is computed the first time the state is saved or loaded.
    """

    def __init__(
        self,
        ids: Any,
        batch_size: int,
        seq_len: int,
        batch_first: bool = False,
        drop_last: bool = True,
        *,
        streams: slice | None = None,
        fingerprint: int | Callable[[], int] | None = None,
    ) -> None:
        arr = ids if isinstance(ids, np.ndarray) else np.asarray(ids)
        if arr.ndim != 1:
            raise DataError(f"ids must be a 1-D array of token ids, got shape {arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise DataError(f"ids must be integers, got dtype {arr.dtype}")
        for name, v in (("batch_size", batch_size), ("seq_len", seq_len)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise DataError(f"{name} must be a positive int, got {v!r}")
        self.batch_size, self.seq_len = int(batch_size), int(seq_len)
        self.batch_first, self.drop_last = bool(batch_first), bool(drop_last)
        n = arr.shape[0]
        need = self.batch_size * self.seq_len + 1
        if n < need:
            raise DataError(
                f"text too short: batch_size={self.batch_size} streams of seq_len={self.seq_len} "
                f"need at least batch_size*seq_len + 1 = {need} tokens (inputs + one shifted "
                f"target), got {n}; use a longer text or smaller batch_size/seq_len"
            )
        s = slice(0, self.batch_size) if streams is None else streams
        if s.step not in (None, 1) or not 0 <= s.start < s.stop <= self.batch_size:
            raise DataError(f"streams must be a slice(a, b) with 0 <= a < b <= {self.batch_size}, got {streams!r}")
        self.streams = slice(s.start, s.stop)
        self.n_tokens = n
        self.stream_len = (n - 1) // self.batch_size
        full, rest = divmod(self.stream_len, self.seq_len)
        self.num_batches = full + (1 if rest and not self.drop_last else 0)
        self._ids = arr
        self._starts = np.arange(self.streams.start, self.streams.stop, dtype=np.int64) * self.stream_len
        self._given_fingerprint = fingerprint
        self.epoch = 0
        self.index = 0

    @property
    def _fingerprint(self) -> int:  # read by BPTTBatches.state_dict
        if self._given_fingerprint is None:
            self._given_fingerprint = fingerprint_ids(self._ids)
        elif callable(self._given_fingerprint):
            self._given_fingerprint = int(self._given_fingerprint())
        return self._given_fingerprint

    def __repr__(self) -> str:
        return super().__repr__()[:-1].replace("BPTTBatches(", "MappedBPTTBatches(", 1) + f", streams={self.streams})"

    def batch(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``k`` of an epoch as int64 ``(x, y)`` (does not move the position)."""
        if not 0 <= k < self.num_batches:
            raise DataError(f"batch index must be in 0..{self.num_batches - 1}, got {k}")
        t0 = k * self.seq_len
        T = min(self.seq_len, self.stream_len - t0)
        window = self._ids[self._starts[:, None] + (t0 + np.arange(T + 1))].astype(np.int64)  # (n, T + 1)
        x, y = window[:, :T], window[:, 1:]
        if not self.batch_first:
            x, y = x.T, y.T
        return np.ascontiguousarray(x), np.ascontiguousarray(y)
