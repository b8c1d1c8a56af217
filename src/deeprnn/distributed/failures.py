"""Failing together: an error in one process must end the job on every process, with one message.

MPI gives no help here: if one process raises and exits while the others wait in a collective,
they wait for ever (measured: mpiexec kills the job when a process *dies*, but a Python
exception runs mpi4py's ``MPI_Finalize``, which blocks).  Three patterns cover the trainer:

* `root_first`: work that only rank 0 does (read the checkpoint, build the vocabulary, encode
  the corpus); its success or its error is broadcast, so the other processes stop with it.
* `fail_together`: local work that every process does (no collective inside); afterwards the
  processes agree whether all succeeded, and the ones that did not report their own error.
* `abort_on_error`: the training loop; an error on one process (other than the stops that all
  processes take together) prints a message and aborts the whole job (``MPI_Abort``).

On every process but the one that failed, the error is a silent `PeerFailedError`.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .communicator import Communicator, PeerFailedError
from .messages import all_succeeded, bcast_json

__all__ = ["PeerFailedError", "root_first", "fail_together", "abort_on_error"]

T = TypeVar("T")


def root_first(comm: Communicator, fn: Callable[[], T], what: str) -> T | None:
    """Run ``fn()`` on rank 0 only; return its result there and None elsewhere.

    If ``fn`` raises, rank 0 re-raises it and every other process raises `PeerFailedError`.
    The others wait for rank 0 without a time limit (``fn`` may take long: a corpus to encode).
    """
    if comm.size == 1:
        return fn()
    result, error = None, None
    if comm.is_root:
        try:
            result = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below, after telling the others
            error = e
    failed = bcast_json(comm, error is not None, what, wait_for_root=True)
    if error is not None:
        raise error
    if failed:
        raise PeerFailedError(f"process 0 failed in {what}")
    return result


def _describe(error: BaseException | None) -> str | None:
    return None if error is None else f"{type(error).__name__}: {error}"


@contextmanager
def fail_together(comm: Communicator, what: str) -> Iterator[None]:
    """Run the enclosed local work (no collectives inside) on every process, then agree.

    If any block raised, every process raises: rank 0 its own error, another process its own
    error too unless it is the same as rank 0's (then, like the processes that did not fail, a
    silent `PeerFailedError`), so that an error every process meets is reported once.
    """
    error: BaseException | None = None
    try:
        yield
    except BaseException as e:  # noqa: BLE001 - re-raised below, after telling the others
        if comm.size == 1:
            raise
        error = e
    if comm.size == 1:
        return
    if all_succeeded(comm, error is None, what):
        return
    root_error = bcast_json(comm, _describe(error) if comm.is_root else None, what)
    if error is not None and (comm.is_root or _describe(error) != root_error):
        raise error
    raise PeerFailedError(f"another process failed in {what}")


@contextmanager
def abort_on_error(comm: Communicator, collective: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Abort the whole job if the enclosed block raises on this process.

    ``collective``: exception types that every process raises at the same point (a stop agreed
    through an Allreduce); they propagate normally.  Anything else ends the job, after printing
    the error with this process's rank and a traceback.
    """
    try:
        yield
    except collective:
        raise
    except BaseException as e:  # noqa: BLE001 - the job ends here
        if comm.size == 1:
            raise
        detail = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        comm.abort(f"deeprnn: {comm.describe()} stopped the job: {type(e).__name__}: {e}\n{detail}")
