"""The checkpoint directory of a training run: checked, locked and cleaned before the first step.

`RunDirectory.open(path, resume=..., overwrite=...)` does, in this order, what must hold before
any training time is spent:

1. the directory exists or can be created, and a file can be written in it (a path that is a
   file, lies under a file, is read-only or in /proc fails here, not at the first save);
2. no other process trains into it: a lock file ``.lock``, held with ``flock`` for the whole
   run, names the holder.  The kernel drops a ``flock`` when its process dies, however it dies,
   so the lock of a run killed with SIGKILL is recognised as stale and taken over;
3. the temporary files that a killed run left mid-write (``.latest.npz.XXXX.tmp``, ...) are
   removed;
4. a fresh run (not ``resume``) refuses a directory that already holds a checkpoint, unless
   ``overwrite`` is given, in which case that run's checkpoints and loss curve are removed.

``close()`` (or leaving the ``with`` block) releases the lock.  Where ``fcntl`` does not exist
(Windows) the lock is the file alone, and a lock whose process id is no longer running counts
as stale.
"""

from __future__ import annotations

import errno
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from ..fileio import stale_temporaries
from .checkpoint import CheckpointError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["RunDirectory", "RunDirectoryError", "DirectoryLocked", "RUN_FILES", "LOCK_NAME"]

RUN_FILES = ("latest.npz", "best.npz", "loss.png")  # what a run writes into its directory
CHECKPOINT_FILES = ("latest.npz", "best.npz")
LOCK_NAME = ".lock"
_PROBE = "write-test"  # the preflight's own temporary file: .write-test.XXXX.tmp


class RunDirectoryError(CheckpointError):
    """The checkpoint directory cannot be used for this run; the message says why and what to do."""


class DirectoryLocked(RunDirectoryError):
    """Another live process is training into the directory."""


def _reason(e: OSError) -> str:
    return {
        errno.EEXIST: "a file is in the way (expected a directory)",
        errno.ENOTDIR: "a file is in the way (expected a directory)",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the filesystem is read-only",
        errno.ENOSPC: "no space left on the device",
        errno.ENOENT: "it cannot be created there",
    }.get(e.errno or 0, e.strerror or type(e).__name__)


def _holder(text: str) -> dict[str, str]:
    """The ``key=value`` lines of a lock file (pid, host, started)."""
    out = {}
    for line in text.splitlines()[:8]:
        k, _, v = line.partition("=")
        out[k.strip()] = "".join(c if c.isprintable() else "?" for c in v.strip()[:100])  # shown on a terminal
    return out


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _remove_empty(directories: list[Path]) -> None:
    """rmdir each of ``directories`` (innermost first) while it is empty."""
    for d in directories:
        try:
            d.rmdir()
        except OSError:
            return


class RunDirectory:
    """A checkpoint directory held by this process for one training run (see the module docstring)."""

    def __init__(self, path: Path, lock_fd: int | None, stale_holder: dict[str, str] | None = None) -> None:
        self.path = path
        self._fd = lock_fd
        self.stale_holder = stale_holder  # pid, host, started of a dead run whose lock was taken over
        self.removed_temporaries: list[Path] = []  # files a killed run left mid-write, removed
        self._created: list[Path] = []  # directories made by `open`, innermost first

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, resume: bool = False, overwrite: bool = False) -> RunDirectory:
        """Check, lock and clean ``path`` for a run; see the module docstring.

        Raises:
            RunDirectoryError: the directory cannot be created or written, or (a fresh run
                without ``overwrite``) it already holds a checkpoint.
            DirectoryLocked: another live process trains into it.
        """
        p = Path(path)
        where = f"checkpoint directory {str(p)!r}"
        if resume and not p.is_dir():
            raise RunDirectoryError(f"{where} does not exist: there is no run to --resume")
        created = [a for a in (p, *p.parents) if not a.exists()]  # removed again if the run writes nothing
        try:
            p.mkdir(parents=True, exist_ok=True)
            if not p.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(p))
            fd, probe = tempfile.mkstemp(prefix=f".{_PROBE}.", suffix=".tmp", dir=p)
            try:
                os.write(fd, b"deeprnn")
                os.fsync(fd)
            finally:
                os.close(fd)
                Path(probe).unlink(missing_ok=True)
        except OSError as e:
            raise RunDirectoryError(f"cannot write checkpoints to {where}: {_reason(e)}") from None
        try:
            fd, stale = cls._lock(p, where)
        except BaseException:
            _remove_empty(created)
            raise
        run = cls(p, fd, stale)
        run._created = created
        try:
            for tmp in stale_temporaries(p, RUN_FILES + (_PROBE,)):
                tmp.unlink(missing_ok=True)
                run.removed_temporaries.append(tmp)
            existing = [p / n for n in CHECKPOINT_FILES if (p / n).exists()]
            if existing and not resume:
                if not overwrite:
                    raise RunDirectoryError(
                        f"{where} already holds a checkpoint ({existing[0].name}) of another run; "
                        "continue it with --resume, start over with --force (deletes it), "
                        "or choose another --checkpoint-dir"
                    )
                for name in RUN_FILES:
                    (p / name).unlink(missing_ok=True)
        except BaseException:
            run.close()
            raise
        return run

    @staticmethod
    def _lock(p: Path, where: str) -> tuple[int, dict[str, str] | None]:
        """Open and lock ``.lock``; returns its descriptor and what a dead holder had written."""
        lock = p / LOCK_NAME
        for _ in range(10):  # retried only when the file is replaced under us
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise RunDirectoryError(f"cannot lock {where}: {_reason(e)}") from None
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        info = _holder(os.read(fd, 4096).decode("utf-8", "replace"))
                        raise DirectoryLocked(
                            f"{where} is in use by another training run (pid {info.get('pid', '?')} on "
                            f"{info.get('host', '?')}, since {info.get('started', '?')}); wait for it to finish "
                            "or choose another --checkpoint-dir"
                        ) from None
                    # The holder before us may have unlinked the file after we opened it: lock the live one.
                    st, now = os.fstat(fd), os.stat(lock) if lock.exists() else None
                    if now is None or (st.st_ino, st.st_dev) != (now.st_ino, now.st_dev):
                        os.close(fd)
                        continue
                    info = _holder(os.read(fd, 4096).decode("utf-8", "replace"))
                else:  # pragma: no cover - no flock: the process id decides
                    info = _holder(os.read(fd, 4096).decode("utf-8", "replace"))
                    pid = info.get("pid", "")
                    if pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
                        raise DirectoryLocked(f"{where} is in use by another training run (pid {pid})")
                text = f"pid={os.getpid()}\nhost={socket.gethostname()}\nstarted={time.strftime('%Y-%m-%d %H:%M:%S')}\n"
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                os.write(fd, text.encode())
                return fd, (info if info.get("pid") else None)
            except BaseException:
                os.close(fd)
                raise
        raise RunDirectoryError(f"cannot lock {where}: the lock file keeps changing")

    def close(self) -> None:
        """Release the lock (and remove the lock file); safe to call twice.  Directories that
        `open` created are removed again if the run left nothing in them (it failed early)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.unlink(self.path / LOCK_NAME)  # while still holding the lock: nobody else has it
        except OSError:
            pass
        os.close(fd)  # drops the flock
        _remove_empty(self._created)

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r}, locked={self._fd is not None})"
