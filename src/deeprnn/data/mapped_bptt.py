"""Truncated-BPTT batches read straight from a token-id array, such as a memory map, without a copy.

`MappedBPTTBatches` has `BPTTBatches`' geometry, batches, position and saved state, but reads
each batch's ``N x (T + 1)`` ids by indexing the array it was given, so a memory map is read
only where a batch lies (one byte per token for a uint8 map) and never made contiguous.  It
can also read just a block of the N streams (``streams=slice(a, b)``), which is what one of K
data-parallel processes trains on: ``x`` and ``y`` then have ``b - a`` columns, while
``batch_size`` stays the global N.  With ``layout`` (`split.StreamLayout`) the N streams are
parts of rows instead of the whole array cut in N, as char-rnn's split of every stream
(`split.stream_split`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .bptt import BPTTBatches, fingerprint_ids
from .errors import DataError
from .split import StreamLayout

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
        layout: where the streams lie (`StreamLayout`: stream b's inputs are
            ``ids[b*stride + offset : b*stride + offset + length]``); default: stride = offset +
            length = (n - 1) // N, offset 0, the whole array cut into N streams.
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
        layout: StreamLayout | None = None,
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
        if layout is None:
            self.layout = None
            stride = self.stream_len = (n - 1) // self.batch_size
            offset = 0
        else:
            stride, offset, self.stream_len = (int(v) for v in layout)
            last = (self.batch_size - 1) * stride + offset + self.stream_len  # the last stream's last target
            if min(stride, offset, self.stream_len - self.seq_len) < 0 or last >= n:
                raise DataError(
                    f"layout {tuple(layout)} (stride, offset, length) does not fit {self.batch_size} streams "
                    f"of at least seq_len={self.seq_len} inputs and their targets in {n} ids"
                )
            self.layout = StreamLayout(stride, offset, self.stream_len)
        full, rest = divmod(self.stream_len, self.seq_len)
        self.num_batches = full + (1 if rest and not self.drop_last else 0)
        self._ids = arr
        self._starts = np.arange(self.streams.start, self.streams.stop, dtype=np.int64) * stride + offset
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
        text = super().__repr__()[:-1].replace("BPTTBatches(", "MappedBPTTBatches(", 1) + f", streams={self.streams}"
        return text + (f", layout={tuple(self.layout)})" if self.layout is not None else ")")

    def state_dict(self) -> dict:
        """`BPTTBatches.state_dict`, with the layout when one was given (a resume must use the same)."""
        state = super().state_dict()
        if self.layout is not None:
            state["layout"] = list(self.layout)
        return state

    def load_state_dict(self, state: dict) -> None:
        """`BPTTBatches.load_state_dict`; the saved layout (or its absence) must be this one's."""
        mine = list(self.layout) if self.layout is not None else None
        saved = state.get("layout") if isinstance(state, dict) else None
        if saved != mine:
            raise DataError(f"cannot resume: the saved batch position was made for stream layout {saved}, now {mine}")
        super().load_state_dict(state)

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
