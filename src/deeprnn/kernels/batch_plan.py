"""Which rows of a batch are active at each time step: padded (T, N) or packed sequences.

A packed batch holds N sequences sorted longest first; at step t only the first
``b_t = batch_sizes[t]`` of them are still running (b_0 = N >= b_1 >= ... >= b_{T-1}).
The kernels keep every whole-sequence array as R = sum_t b_t rows, step after step:
step t occupies rows ``off_t .. off_t + b_t`` (off_t = b_0 + ... + b_{t-1}), exactly
``PackedSequence.data``.  A padded (T, N) batch is the special case b_t = N, R = T*N,
whose rows are the (T, N) array reshaped.

A *segment* is a maximal run of steps with the same b.  Inside a segment, step t's rows
are a (b, .) block and the previous step's are the block just before it, so the time
loops run over a (T_s, b, .) view exactly as over a padded batch; a padded batch is a
single segment.  Between segments only the boundary rows change: a sequence ends (the
forward direction hands its state to h_n) or, going backwards in time, one starts (the
reverse direction starts it from its initial state).

State buffers ("ext") hold the initial states beside the sequence rows, so that the
states h_prev that multiply W_hh are, for a padded batch, a plain slice:

    rows 0 .. N          forward direction's initial state
    rows N .. N + R      the sequence rows (step after step, as above)
    rows N + R .. 2N + R the reverse direction's initial state (bidirectional only)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["BatchPlan", "Segment"]


@dataclass(frozen=True)
class Segment:
    """Steps t0 .. t1-1, each with the same b active rows; `nxt` = b_{t1} (0 after the last step)."""

    t0: int
    t1: int
    b: int
    nxt: int
    row0: int  # packed row of step t0's first row

    @property
    def steps(self) -> int:
        return self.t1 - self.t0


class BatchPlan:
    """The row layout of a batch of T steps, N sequences and R rows in all.

    Args:
        T: steps.  N: sequences (= b_0).
        batch_sizes: None for a padded batch (every b_t = N), or T non-increasing ints >= 1.
    """

    def __init__(self, T: int, N: int, batch_sizes: np.ndarray | None = None) -> None:
        self.T = T
        self.N = N
        self._prev_index: dict[bool, np.ndarray] = {}
        if batch_sizes is None:  # one segment: no per-step bookkeeping (this runs on every call)
            self.padded = True
            self.R = T * N
            self.segments = [Segment(0, T, N, 0, 0)]
            self._sizes = None
            return
        sizes = np.asarray(batch_sizes, dtype=np.int64)
        assert sizes.shape == (T,) and T >= 1 and sizes[0] == N
        assert np.all(sizes[1:] <= sizes[:-1]) and sizes[-1] >= 1, "batch_sizes must be non-increasing and >= 1"
        self.padded = bool(sizes[-1] == N)
        self._sizes = sizes
        offsets = self.offsets
        self.R = int(offsets[-1])
        starts = [0, *(np.flatnonzero(sizes[1:] != sizes[:-1]) + 1).tolist()]  # first step of each segment
        ends = [*starts[1:], T]
        self.segments = [
            Segment(t0, t1, int(sizes[t0]), int(sizes[t1]) if t1 < T else 0, int(offsets[t0]))
            for t0, t1 in zip(starts, ends)
        ]

    @property
    def batch_sizes(self) -> np.ndarray:
        """(T,) active rows per step."""
        return np.full(self.T, self.N, dtype=np.int64) if self._sizes is None else self._sizes

    @property
    def offsets(self) -> np.ndarray:
        """(T+1,) the first row of each step (and R at the end)."""
        if self._sizes is None:
            return np.arange(self.T + 1, dtype=np.int64) * self.N
        return np.concatenate([[0], np.cumsum(self._sizes)]).astype(np.int64)

    @staticmethod
    @lru_cache(maxsize=256)
    def padded_plan(T: int, N: int) -> BatchPlan:
        """The plan of a padded (T, N) batch, made once per shape (it holds no per-call state)."""
        return BatchPlan(T, N)

    # ---- views ---------------------------------------------------------------------
    def ext_rows(self, num_dirs: int) -> int:
        """Rows of a state buffer: the initial states of each direction beside the R sequence rows."""
        return self.R + num_dirs * self.N

    def seq_view(self, rows: np.ndarray, seg: Segment, cols: slice | None = None) -> np.ndarray:
        """(T_s, b, W) view of a segment in an (R, W) row array, optionally only columns `cols`."""
        if seg.steps * seg.b != rows.shape[0]:
            rows = rows[seg.row0 : seg.row0 + seg.steps * seg.b]
        block = rows.reshape(seg.steps, seg.b, rows.shape[1])
        return block if cols is None else block[:, :, cols]

    def step_rows(self, rows: np.ndarray, t: int, count: int | None = None) -> np.ndarray:
        """The first `count` (default b_t) rows of step t in an (R, .) row array."""
        if self._sizes is None:
            start, b = t * self.N, self.N
        else:
            start, b = int(self.offsets[t]), int(self._sizes[t])
        return rows[start : start + (b if count is None else count)]

    # ---- states at the segment boundaries -----------------------------------------
    def initial(self, ext: np.ndarray, reverse: bool) -> np.ndarray:
        """(N, .) view of the initial-state rows of a direction in a state buffer."""
        start = self.N + self.R if reverse else 0
        return ext[start : start + self.N]

    def seq(self, ext: np.ndarray) -> np.ndarray:
        """(R, .) view of the sequence rows of a state buffer."""
        return ext[self.N : self.N + self.R]

    def segment_order(self, reverse: bool, backward: bool = False) -> list[Segment]:
        """Segments in the order a time loop visits them (the reverse direction goes from T-1 down to 0)."""
        later_first = reverse != backward
        return self.segments[::-1] if later_first else self.segments

    def prev_for_segment(self, ext: np.ndarray, seg: Segment, reverse: bool, scratch: np.ndarray) -> np.ndarray:
        """(b, .) state before the segment's first visited step: h_{t0-1} forward, h_{t1} reverse.

        A reverse-direction segment after which fewer sequences run (b_{t1} < b) starts its
        extra rows from their initial state: those rows are assembled in `scratch`.
        """
        seq = self.seq(ext)
        if not reverse:
            if seg.t0 == 0:
                return self.initial(ext, False)[: seg.b]
            return self.step_rows(seq, seg.t0 - 1, seg.b)
        if seg.t1 == self.T:
            return self.initial(ext, True)[: seg.b]
        out = scratch[: seg.b]
        out[: seg.nxt] = self.step_rows(seq, seg.t1)
        out[seg.nxt :] = self.initial(ext, True)[seg.nxt : seg.b]
        return out

    def final_states(self, ext: np.ndarray, reverse: bool, out: np.ndarray) -> None:
        """out (N, .) <- each sequence's last state: at its own last step forward, at t = 0 reverse."""
        seq = self.seq(ext)
        if reverse or self._sizes is None:
            out[...] = self.step_rows(seq, 0 if reverse else self.T - 1)
            return
        for seg in self.segments:  # the sequences nxt .. b end at step t1 - 1
            out[seg.nxt : seg.b] = self.step_rows(seq, seg.t1 - 1)[seg.nxt :]

    def prev_rows(self, ext: np.ndarray, reverse: bool) -> np.ndarray:
        """(R, .) the state before each row's step (h_prev): a slice when padded, else a gather.

        Forward: row j of step t follows row j of step t-1 (the initial state at t = 0).
        Reverse: it follows row j of step t+1, or the initial state where the sequence ends at t.
        """
        N, R = self.N, self.R
        if self.padded:
            return ext[2 * N : 2 * N + R] if reverse else ext[0:R]
        index = self._prev_index.get(reverse)
        if index is None:
            sizes, offsets = self._sizes, self.offsets
            step = np.repeat(np.arange(self.T), sizes)  # (R,) the step of each row
            j = np.arange(R) - offsets[step]  # (R,) its row within the step
            if not reverse:
                index = np.where(step == 0, j, N + offsets[np.maximum(step - 1, 0)] + j)
            else:
                nxt = np.append(sizes[1:], 0)[step]  # b_{t+1} of each row's step
                index = np.where(j < nxt, N + offsets[np.minimum(step + 1, self.T)] + j, N + R + j)
            index = index.astype(np.intp)
            self._prev_index[reverse] = index
        return np.take(ext, index, axis=0)
