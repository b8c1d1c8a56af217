"""Files: atomic writes, and reading ``.npz`` archives as data only.

Writes: the bytes go to a temporary file ``.NAME.XXXX.tmp`` in the target's directory, are
flushed and fsynced, and the temporary file is renamed over the target, so a reader (or a
crash) sees the old file or the new one, never half of one.  The file gets the permissions
an ordinary ``open(path, "w")`` would give (0666 less the umask), not the temporary file's
0600.  A process killed with SIGKILL mid-write leaves its temporary file behind:
``stale_temporaries`` finds those, for the next run to remove.

Reads: ``read_npz`` accepts only what ``numpy.savez`` writes, a zip archive of ``.npy``
arrays of plain numeric dtypes, and checks every member's header against the archive's own
sizes before reading any data (see its docstring): it never unpickles, never follows a path,
and never inflates a member past the size its header declares.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = [
    "atomic_write",
    "atomic_write_text",
    "stale_temporaries",
    "check_regular_file",
    "file_digest",
    "NpzError",
    "read_npz",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(fh)`` on a temporary binary file, then move it over ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (best effort: not every platform can open a dir)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    data = text.encode(encoding)
    return atomic_write(path, lambda fh: fh.write(data))


def stale_temporaries(directory: str | os.PathLike[str], names: tuple[str, ...]) -> list[Path]:
    """The temporary files that `atomic_write` would make for ``names`` in ``directory``
    (``.NAME.XXXXXXXX.tmp``), left there by a process that died mid-write."""
    d = Path(directory)
    pattern = re.compile("|".join(rf"\.{re.escape(n)}\.[A-Za-z0-9_]+\.tmp" for n in names))
    try:
        entries = list(d.iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if pattern.fullmatch(p.name) and p.is_file() and not p.is_symlink())


# ---- reading --------------------------------------------------------------------------------
def check_regular_file(path: str | os.PathLike[str]) -> os.stat_result:
    """``os.stat(path)``, refusing what is not a regular file: reading a FIFO nobody writes to
    would wait for ever, and a device such as /dev/zero never ends.

    Raises FileNotFoundError, IsADirectoryError, or OSError (EINVAL) naming what the path is.
    """
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, expected a file", str(path))
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise OSError(errno.EINVAL, f"is {kind}, expected a regular file", str(path))
    return st


def file_digest(path: str | os.PathLike[str]) -> tuple[int, str]:
    """(size in bytes, SHA-256 hex digest) of a regular file, read in 1 MiB blocks."""
    check_regular_file(path)
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


# ---- reading .npz archives -------------------------------------------------------------------
class NpzError(ValueError):
    """A file that is not a plain ``.npz`` archive of numeric arrays; the message says why."""


# Kinds of dtype an archive may hold: booleans, integers, floats, complex numbers.
_KINDS = "biufc"
# A member may inflate to at most this many times its compressed size (Apache POI's rule for
# zip bombs, its "minimum inflate ratio" of 0.01) once it is larger than _GRACE bytes.
_MAX_RATIO = 100
_GRACE = 16 << 20
_HEADER_LIMIT = 10000  # numpy's own limit on a .npy header, in bytes


def _short(name: str) -> str:
    r = repr(name)
    return r if len(r) <= 80 else r[:77] + "..."


def _member_header(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Check one member's .npy header against the archive; returns the bytes of its data."""
    name = _short(info.filename)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise NpzError(f"entry {name} uses zip compression method {info.compress_type}; numpy.savez writes 0 or 8")
    if info.file_size > _GRACE and info.file_size > _MAX_RATIO * max(info.compress_size, 1):
        raise NpzError(
            f"entry {name} would inflate from {info.compress_size:,} to {info.file_size:,} bytes, more than "
            f"{_MAX_RATIO} times: refused as a zip bomb"
        )
    with z.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
        except ValueError:
            raise NpzError(f"entry {name} is raw bytes, not a .npy array") from None
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=_HEADER_LIMIT)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=_HEADER_LIMIT)
        else:
            raise NpzError(f"entry {name} is a .npy array of format version {version}, expected 1.0 or 2.0")
        header = f.tell()
    if dtype.hasobject or dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise NpzError(f"entry {name} has dtype {dtype}; only plain numbers (bool, int, float, complex) are read")
    count = 1
    for n in shape:
        count *= int(n)
    if header + count * dtype.itemsize != info.file_size:
        raise NpzError(
            f"entry {name} declares shape {tuple(shape)} of {dtype} ({count * dtype.itemsize:,} bytes of data) "
            f"but holds {info.file_size - header:,}: corrupt or crafted"
        )
    return count * dtype.itemsize


def read_npz(path: str | os.PathLike[str], *, check_size: Callable[[int], None] | None = None) -> dict[str, np.ndarray]:
    """The arrays of a ``numpy.savez`` archive, keyed by name (without ``.npy``), read as data only.

    Before any array is read, every member is checked: it must be a ``.npy`` array (version
    1.0 or 2.0) of a plain numeric dtype, whose header's shape accounts exactly for the
    member's size in the archive; names are unique; a member larger than 16 MiB may not
    inflate more than 100 times its compressed size.  ``check_size(total)`` is then called with
    the total bytes of all arrays, so the caller may refuse what would not fit in memory.

    Raises:
        FileNotFoundError, IsADirectoryError, PermissionError: as ``open``; OSError for a FIFO
            or a device (see `check_regular_file`).
        NpzError: anything else about the file (not a zip archive, truncated, a failed CRC,
            a raw or pickled member, a header that does not match its member, ...).
    """
    p = Path(path)
    check_regular_file(p)
    with open(p, "rb") as fh:  # our own handle, so a failed parse cannot leak it
        head = fh.read(6)
        if head.startswith(b"\x93NUMPY"):
            raise NpzError("is a single .npy array, not a .npz archive")
        if not head.startswith(b"PK"):
            # np.load would try it as a pickle and suggest allow_pickle: never right for data
            what = "it is empty" if not head else f"it starts with {head!r}"
            raise NpzError(f"not a .npz archive: {what}, expected a zip archive (b'PK...'); corrupt or another file?")
        fh.seek(0)
        try:
            with zipfile.ZipFile(fh) as z:
                infos = z.infolist()
                dup = sorted(n for n, c in Counter(i.filename for i in infos).items() if c > 1)
                if dup:
                    raise NpzError(f"the archive holds entries named twice: {', '.join(map(_short, dup[:3]))}")
                total = 0
                for info in infos:
                    if not info.filename.endswith(".npy"):
                        raise NpzError(
                            f"entry {_short(info.filename)} is not a .npy array (numpy.savez names them NAME.npy)"
                        )
                    total += _member_header(z, info)
                if check_size is not None:
                    check_size(total)
                arrays = {}
                for info in infos:
                    with z.open(info) as f:
                        arrays[info.filename[: -len(".npy")]] = np.lib.format.read_array(
                            f, allow_pickle=False, max_header_size=_HEADER_LIMIT
                        )
        except NpzError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, RuntimeError) as e:
            raise NpzError(f"not a readable .npz archive (corrupt or truncated?): {type(e).__name__}: {e}") from None
    return arrays
