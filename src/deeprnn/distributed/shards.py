"""Which of the batch's N streams each of the K processes trains on, and how the carried hidden
state is gathered for a checkpoint and cut again on resume.

The global batch (``--batch-size N``) means the same for any K: the token stream is cut into
N contiguous streams exactly as in one process (``data.BPTTBatches``), and process r takes a
contiguous block of them, ``n_r = N // K`` streams plus one for the first ``N % K`` processes.
The hidden state carried between batches has its streams on axis 1, ``(L, N, H)``; each
process carries its block ``(L, n_r, H)``.  A checkpoint stores the whole ``(L, N, H)``, so a
run saved with K processes resumes with any K' <= N.  The hidden state may be one tensor or a
tuple of them (an LSTM's ``(h, c)``); each is cut and joined on axis 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .communicator import Communicator
from .messages import gather_arrays

__all__ = ["stream_share", "check_streams", "take_streams", "gather_streams"]

STREAM_AXIS = 1


def stream_share(n_streams: int, size: int, rank: int, allow_empty: bool = False) -> slice:
    """The block of streams process ``rank`` of ``size`` trains on: ``slice(start, stop)``.

    ``allow_empty``: more processes than streams is allowed (the last ones get empty blocks),
    as for a validation tail too short for one stream per process.
    """
    if not allow_empty:
        check_streams(n_streams, size)
    if not 0 <= rank < size:
        raise ValueError(f"rank must be in 0..{size - 1}, got {rank}")
    base, extra = divmod(n_streams, size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


def check_streams(n_streams: int, size: int) -> None:
    """Raise ValueError unless each of ``size`` processes gets at least one of ``n_streams``."""
    if size > n_streams:
        raise ValueError(
            f"{size} processes cannot share a batch of {n_streams} streams: each process needs at least one "
            f"stream; use --batch-size {size} or more, or fewer processes"
        )


def _map(hidden: Any, fn: Any) -> Any:
    if isinstance(hidden, tuple):
        return tuple(fn(h) for h in hidden)
    return fn(hidden)


def take_streams(hidden: Any, share: slice) -> Any:
    """This process's block of a whole hidden state: arrays ``(L, N, H) -> (L, n_r, H)`` (copies)."""
    return _map(hidden, lambda h: np.ascontiguousarray(np.asarray(h)[:, share]))


def gather_streams(comm: Communicator, hidden: Any, what: str = "the gather of the hidden state") -> Any:
    """The whole hidden state on rank 0 (None elsewhere), from every process's block.

    ``hidden``: an array ``(L, n_r, H)`` or a tuple of them; the result has the same structure
    with ``(L, N, H)`` arrays, streams in rank order.
    """
    parts = list(hidden) if isinstance(hidden, tuple) else [hidden]
    got = gather_arrays(comm, {str(i): np.ascontiguousarray(p) for i, p in enumerate(parts)}, what)
    if got is None:
        return None
    joined = [np.concatenate([g[str(i)] for g in got], axis=STREAM_AXIS) for i in range(len(parts))]
    return tuple(joined) if isinstance(hidden, tuple) else joined[0]
