"""Contiguous mini-batches for truncated backpropagation through time (char-rnn style)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from .errors import DataError

__all__ = ["BPTTBatches", "BPTTStep", "fingerprint_ids"]


def fingerprint_ids(ids: np.ndarray, block: int = 1 << 16) -> int:
    """The fingerprint a saved position must match: the CRC-32 of the ids' int64 bytes, whatever
    their dtype (so ids kept as uint8 give what int64 ids always gave), 64K ids at a time."""
    crc = 0
    for i in range(0, ids.shape[0], block):
        crc = zlib.crc32(np.ascontiguousarray(ids[i : i + block], dtype=np.int64), crc)
    return crc


class BPTTStep(NamedTuple):
    """One step of :meth:`BPTTBatches.next_batch`.

    ``x``/``y``: int64 arrays, shape ``(seq_len, batch)`` or ``(batch, seq_len)``;
    ``reset``: True on the first batch of an epoch (start from a fresh hidden state);
    ``epoch``/``index``: where this batch sits.
    """

    x: np.ndarray
    y: np.ndarray
    reset: bool
    epoch: int
    index: int


class BPTTBatches:
    """Cut a token-id stream into ``batch_size`` contiguous streams and walk them.

    With ``n`` ids, each stream holds ``L = (n - 1) // batch_size`` consecutive inputs:
    stream ``b`` is ``ids[b*L : (b+1)*L]`` and its targets are the same slice shifted
    by one, ``ids[b*L + 1 : (b+1)*L + 1]`` (next-token prediction). Batch ``k`` is
    time steps ``k*seq_len .. (k+1)*seq_len - 1`` of every stream, so row ``b`` of
    batch ``k+1`` continues exactly where row ``b`` of batch ``k`` stopped: carry the
    hidden state from one batch to the next (detached) and reset it at each epoch.

    Shapes: ``x``, ``y`` int64 of shape ``(seq_len, batch_size)`` (default, like
    ``nn.RNN``) or ``(batch_size, seq_len)`` with ``batch_first=True``.

    Iterating (``for x, y in batches``) yields the rest of the current epoch and then
    stops; the next ``for`` loop is the next epoch, so reset the hidden state at the top
    of each loop. For step-based training use :meth:`next_batch`, which wraps around
    epochs and flags the first batch of each with ``reset=True``.

    ``len(batches)`` is the number of batches per epoch: ``L // seq_len``, or
    ``ceil(L / seq_len)`` with ``drop_last=False`` (the last batch is then shorter in time).

    :meth:`state_dict` / :meth:`load_state_dict` save and restore the position
    (epoch, batch index) so training can resume mid-epoch with the identical batches.
    (To resume *exactly*, also save the model's hidden state carried between batches.)
    """

    def __init__(
        self,
        ids: Any,
        batch_size: int,
        seq_len: int,
        batch_first: bool = False,
        drop_last: bool = True,
    ) -> None:
        arr = np.asarray(ids)
        if arr.ndim != 1:
            raise DataError(f"ids must be a 1-D array of token ids, got shape {arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise DataError(f"ids must be integers, got dtype {arr.dtype}")
        for name, v in (("batch_size", batch_size), ("seq_len", seq_len)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise DataError(f"{name} must be a positive int, got {v!r}")
        self.batch_size = int(batch_size)
        self.seq_len = int(seq_len)
        self.batch_first = bool(batch_first)
        self.drop_last = bool(drop_last)
        n = arr.shape[0]
        need = self.batch_size * self.seq_len + 1
        if n < need:
            raise DataError(
                f"text too short: batch_size={self.batch_size} streams of seq_len={self.seq_len} "
                f"need at least batch_size*seq_len + 1 = {need} tokens (inputs + one shifted "
                f"target), got {n}; use a longer text or smaller batch_size/seq_len"
            )
        # The ids stay in their own dtype (a vocab's compact uint8/uint16 ids: 1-2 bytes a token);
        # x and y are views of them, and each batch is converted to int64 when it is taken.
        arr = np.ascontiguousarray(arr)
        self.n_tokens = n
        self.stream_len = (n - 1) // self.batch_size
        used = self.batch_size * self.stream_len
        self._x = arr[:used].reshape(self.batch_size, self.stream_len)
        self._y = arr[1 : used + 1].reshape(self.batch_size, self.stream_len)
        full, rest = divmod(self.stream_len, self.seq_len)
        self.num_batches = full + (1 if rest and not self.drop_last else 0)
        self._ids = arr
        self._fingerprint: int | None = None  # computed when a state is first saved or checked
        self.epoch = 0
        self.index = 0

    def __len__(self) -> int:
        return self.num_batches

    @property
    def fingerprint(self) -> int:
        """CRC-32 of the ids (as int64), which a saved position must match (computed once)."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint_ids(self._ids)
        return self._fingerprint

    def __repr__(self) -> str:
        return (
            f"BPTTBatches(n_tokens={self.n_tokens}, batch_size={self.batch_size}, "
            f"seq_len={self.seq_len}, batches_per_epoch={self.num_batches}, "
            f"epoch={self.epoch}, index={self.index})"
        )

    def batch(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``k`` of an epoch as ``(x, y)`` (does not move the position)."""
        if not 0 <= k < self.num_batches:
            raise DataError(f"batch index must be in 0..{self.num_batches - 1}, got {k}")
        sl = slice(k * self.seq_len, (k + 1) * self.seq_len)
        x, y = self._x[:, sl], self._y[:, sl]
        if not self.batch_first:
            x, y = x.T, y.T
        return np.ascontiguousarray(x, dtype=np.int64), np.ascontiguousarray(y, dtype=np.int64)

    def next_batch(self) -> BPTTStep:
        """Return the batch at the current position and advance (wrapping to the next
        epoch after the last batch)."""
        x, y = self.batch(self.index)
        step = BPTTStep(x, y, self.index == 0, self.epoch, self.index)
        self.index += 1
        if self.index == self.num_batches:
            self.epoch += 1
            self.index = 0
        return step

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        epoch = self.epoch
        while self.epoch == epoch:
            step = self.next_batch()
            yield step.x, step.y

    def state_dict(self) -> dict[str, int | bool]:
        """JSON-safe position: the next batch to be produced is ``(epoch, index)``."""
        return {
            "epoch": self.epoch,
            "index": self.index,
            "batch_size": self.batch_size,
            "seq_len": self.seq_len,
            "n_tokens": self.n_tokens,
            "drop_last": self.drop_last,
            "fingerprint": self.fingerprint,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a position saved by :meth:`state_dict` on the same ids and geometry."""
        if not isinstance(state, dict):
            raise DataError(f"BPTTBatches state must be a dict, got {type(state).__name__}")
        mine = self.state_dict()
        missing = [k for k in mine if k not in state]
        if missing:
            raise DataError(f"BPTTBatches state is missing keys {missing}; got {sorted(state)}")
        diff = [
            f"{k}: saved {state[k]!r}, now {mine[k]!r}"
            for k in ("batch_size", "seq_len", "n_tokens", "drop_last", "fingerprint")
            if state[k] != mine[k]
        ]
        if diff:
            raise DataError(
                "cannot resume: the saved batch position was made for different data or "
                "batch geometry (" + "; ".join(diff) + ")"
            )
        epoch, index = state["epoch"], state["index"]
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (epoch, index)):
            raise DataError(f"saved position must be integers, got epoch={epoch!r}, index={index!r}")
        if epoch < 0 or not 0 <= index < self.num_batches:
            raise DataError(
                f"saved position out of range: epoch={epoch}, index={index} "
                f"(expected epoch >= 0 and 0 <= index < {self.num_batches})"
            )
        self.epoch, self.index = int(epoch), int(index)
