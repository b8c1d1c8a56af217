"""The processes of one job, as the trainer needs them: a rank, a size and a few collectives.

Two implementations share one interface, so the training loop has a single code path:

* ``SingleProcess``: rank 0 of 1.  Every collective returns its input; nothing is imported.
* ``MPICommunicator``: a wrapper of an mpi4py communicator.  Every collective runs under a
  `Watchdog`: a process that waits longer than ``timeout`` seconds for the others prints
  which operation it was in and aborts the whole job (``MPI_Abort``), so that nobody waits for
  ever on a process that died or hangs.

Arrays travel as raw buffers (``Allreduce``, ``Bcast``, ``Gatherv``), never pickled.
Rank 0 is the root of every broadcast and gather.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, NoReturn

import numpy as np

from .watchdog import Watchdog

ABORT_GRACE_S = 0.5  # seconds between printing an abort's message and MPI_Abort (see MPICommunicator.abort)

__all__ = ["Communicator", "SingleProcess", "MPICommunicator", "PeerFailedError"]


class PeerFailedError(RuntimeError):
    """Another process of the job failed; it reports its own error, so this one stays silent."""


class Communicator:
    """Interface: ``rank`` (0 .. size-1), ``size``, and the collectives the trainer uses.

    Every method is collective (all processes call it, in the same order) unless said otherwise.
    ``what`` names the operation for the watchdog's message ("the gradient Allreduce of
    iteration 12").
    """

    rank: int = 0
    size: int = 1

    @property
    def is_root(self) -> bool:
        """True on rank 0, the process that broadcasts, gathers and writes files."""
        return self.rank == 0

    def allreduce_sum_(self, buf: np.ndarray, what: str = "an Allreduce") -> np.ndarray:
        """Replace the contiguous array ``buf`` by its element-wise sum over all processes."""
        raise NotImplementedError

    def bcast_(self, buf: np.ndarray, what: str = "a broadcast") -> np.ndarray:
        """Overwrite the contiguous ``buf`` with rank 0's (same shape and dtype everywhere)."""
        raise NotImplementedError

    def bcast_bytes(self, data: bytes | None, what: str = "a broadcast", wait_for_root: bool = False) -> bytes:
        """Rank 0's ``data`` on every process (others pass None).

        ``wait_for_root=True``: wait however long rank 0 takes to get there, with no timeout
        (it may be encoding a large corpus first, with its progress bar showing that it lives).
        """
        raise NotImplementedError

    def gather_bytes(self, data: bytes, what: str = "a gather") -> list[bytes] | None:
        """Every process's ``data``, in rank order, on rank 0; None elsewhere."""
        raise NotImplementedError

    def abort(self, message: str, code: int = 1) -> NoReturn:
        """Not collective: print ``message`` on stderr and end every process of the job."""
        raise NotImplementedError

    def describe(self) -> str:
        """``"process r of K"``, for messages."""
        return f"process {self.rank} of {self.size}"


class SingleProcess(Communicator):
    """The job is this process alone: collectives return their input unchanged."""

    def allreduce_sum_(self, buf: np.ndarray, what: str = "an Allreduce") -> np.ndarray:
        return buf

    def bcast_(self, buf: np.ndarray, what: str = "a broadcast") -> np.ndarray:
        return buf

    def bcast_bytes(self, data: bytes | None, what: str = "a broadcast", wait_for_root: bool = False) -> bytes:
        if data is None:
            raise ValueError("bcast_bytes: rank 0 must pass the data, got None")
        return data

    def gather_bytes(self, data: bytes, what: str = "a gather") -> list[bytes] | None:
        return [data]

    def abort(self, message: str, code: int = 1) -> NoReturn:
        print(message, file=sys.stderr, flush=True)
        raise SystemExit(code)

    def __repr__(self) -> str:
        return "SingleProcess()"


def _contiguous(buf: np.ndarray, what: str) -> None:
    if not isinstance(buf, np.ndarray) or not buf.flags.c_contiguous or not buf.flags.writeable:
        got = type(buf).__name__ if not isinstance(buf, np.ndarray) else "a non-contiguous or read-only array"
        raise ValueError(f"{what}: expected a writeable C-contiguous NumPy array, got {got}")


class MPICommunicator(Communicator):
    """An mpi4py communicator (``MPI.COMM_WORLD``) whose collectives are watched by a `Watchdog`."""

    def __init__(self, comm: Any, timeout: float | None) -> None:
        from mpi4py import MPI

        self._MPI = MPI
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.timeout = timeout
        self.watchdog = Watchdog(timeout, self._expired)

    def __repr__(self) -> str:
        return f"MPICommunicator(rank={self.rank}, size={self.size}, timeout={self.timeout})"

    def _expired(self, what: str, limit: float) -> None:
        self.abort(
            f"deeprnn: {self.describe()} waited {limit:g} s for the others in {what}: another process died or "
            "hangs. Stopping the whole job; the checkpoints already written are complete (every save is atomic)."
        )

    def abort(self, message: str, code: int = 1) -> NoReturn:
        try:
            print(message, file=sys.stderr, flush=True)
            # This process's stderr is a pipe to mpiexec's proxy, which forwards it; Abort tears the
            # proxies down, and on a busy machine it could do so before the message was forwarded (a CI
            # run once lost it: the job ended with code 1 and no output).  Half a second lets it through.
            time.sleep(ABORT_GRACE_S)
        finally:
            try:
                self.comm.Abort(code)
            finally:  # Abort does not return; if the MPI library fails, end this process at least
                os._exit(code)

    def allreduce_sum_(self, buf: np.ndarray, what: str = "an Allreduce") -> np.ndarray:
        _contiguous(buf, what)
        with self.watchdog.guard(what):
            self.comm.Allreduce(self._MPI.IN_PLACE, buf, op=self._MPI.SUM)
        return buf

    def bcast_(self, buf: np.ndarray, what: str = "a broadcast") -> np.ndarray:
        _contiguous(buf, what)
        with self.watchdog.guard(what):
            self.comm.Bcast(buf, root=0)
        return buf

    def bcast_bytes(self, data: bytes | None, what: str = "a broadcast", wait_for_root: bool = False) -> bytes:
        if self.is_root and data is None:
            raise ValueError("bcast_bytes: rank 0 must pass the data, got None")
        n = np.array([len(data) if data is not None else 0], dtype=np.int64)
        with self.watchdog.guard(what, None) if wait_for_root else self.watchdog.guard(what):
            self.comm.Bcast(n, root=0)
        buf = np.frombuffer(bytearray(data), dtype=np.uint8) if self.is_root else np.empty(int(n[0]), np.uint8)
        with self.watchdog.guard(what):
            self.comm.Bcast(buf, root=0)
        return buf.tobytes()

    def gather_bytes(self, data: bytes, what: str = "a gather") -> list[bytes] | None:
        MPI = self._MPI
        send = np.frombuffer(bytearray(data), dtype=np.uint8)
        sizes = np.zeros(self.size, dtype=np.int64) if self.is_root else None
        with self.watchdog.guard(what):
            self.comm.Gather(np.array([send.size], dtype=np.int64), sizes, root=0)
            if not self.is_root:
                self.comm.Gatherv(send, None, root=0)
                return None
            assert sizes is not None
            offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            recv = np.empty(int(sizes.sum()), dtype=np.uint8)
            self.comm.Gatherv(send, [recv, sizes.tolist(), offsets.tolist(), MPI.BYTE], root=0)
        return [recv[o : o + s].tobytes() for o, s in zip(offsets.tolist(), sizes.tolist())]
