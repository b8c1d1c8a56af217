"""A watchdog that stops a process stuck in a collective operation.

MPI's collectives block until every process has joined.  If one process died without the
launcher noticing, or hangs (a stopped process, a dead network link, a deadlock), the others
would wait for ever.  Each collective therefore runs inside ``watchdog.guard(what)``; one
thread per process sleeps until the guard's deadline and, if the collective has not finished
by then, calls ``on_expire(what, timeout)``, which prints a message and aborts the job.

The blocking collective itself stays as fast as MPI makes it (mpi4py releases the GIL while
it waits): polling a non-blocking ``Iallreduce`` instead measured 1.6x slower for a 1 MB
buffer between two processes here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Watchdog"]

_UNSET: Any = object()  # "the watchdog's own timeout"


class Watchdog:
    """Calls ``on_expire(what, timeout)`` when a ``guard(what)`` block lasts over ``timeout`` seconds.

    ``timeout=None`` disables it (guards cost nothing then).  The thread is a daemon, started
    by the first guard; ``on_expire`` runs in that thread and is expected not to return
    (it aborts the job).
    """

    def __init__(self, timeout: float | None, on_expire: Callable[[str, float], None]) -> None:
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a number of seconds > 0 or None, got {timeout!r}")
        self.timeout = timeout
        self._on_expire = on_expire
        self._cond = threading.Condition()
        self._what: str | None = None
        self._deadline = 0.0
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, what: str, timeout: Any = _UNSET) -> Iterator[None]:
        """Watch the enclosed block; ``timeout`` overrides the default (None: unguarded)."""
        limit = self.timeout if timeout is _UNSET else timeout
        if limit is None:
            yield
            return
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deeprnn-watchdog", daemon=True)
                self._thread.start()
            self._what, self._limit = what, limit
            self._deadline = time.monotonic() + limit
            self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                self._what = None

    def _run(self) -> None:
        with self._cond:
            while True:
                if self._what is None:
                    self._cond.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining <= 0:
                    what, limit = self._what, self._limit
                    break
                self._cond.wait(remaining)
        self._on_expire(what, limit)
