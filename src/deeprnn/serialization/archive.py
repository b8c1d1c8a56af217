"""torch's zip container: writing it as torch does, and reading it defensively.

Layout (what torch 2.13 writes): every record is stored uncompressed under one top-level
folder (``archive/`` for a buffer, the file's stem for a path), its data aligned to 64 bytes
by an ``FB`` padding field in the local header, followed by a data descriptor:

    <prefix>/data.pkl                 the pickle (protocol 2) with persistent storage ids
    <prefix>/.format_version          b"1"
    <prefix>/.storage_alignment       b"64"
    <prefix>/byteorder                b"little"
    <prefix>/data/<key>               the raw bytes of storage <key>, for key = 0, 1, ...
    <prefix>/version                  b"3\\n"
    <prefix>/.data/serialization_id   40 decimal digits

Reading checks the archive before trusting it: one top-level folder, no duplicate names,
only stored or deflated records, no record larger than the file itself, and no deflated
record that would inflate more than ``MAX_INFLATION`` times (a zip bomb).
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from collections.abc import Iterable
from typing import Any, BinaryIO

__all__ = ["ALIGNMENT", "MAX_INFLATION", "ArchiveReader", "missing_record", "write_archive", "serialization_id"]

ALIGNMENT = 64
MAX_INFLATION = 200
_SMALL = 1 << 20  # records up to 1 MiB may inflate without limit (a few bytes of pickle compress well)
_CHUNK = 1 << 24


def missing_record(name: str) -> str:
    """torch's message for a record that the pickle names but the archive lacks."""
    return (
        f"PytorchStreamReader failed locating file {name}: file not found. This is an internal miniz error. "
        "If you are seeing this error, there is a high likelihood that your checkpoint file is corrupted. "
        "This can happen if the checkpoint was not saved properly, was transferred incorrectly, "
        "or the file was modified after saving."
    )


class _Unseekable:
    """A write-only view of a file: zipfile then writes data descriptors, as torch's writer (miniz) does."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._pos = 0

    def write(self, data: Any) -> int:
        self._fh.write(data)
        n = memoryview(data).nbytes
        self._pos += n
        return n

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        self._fh.flush()


def serialization_id() -> str:
    """A random 40-digit id, as torch writes in ``.data/serialization_id``."""
    return str(int.from_bytes(os.urandom(16), "little")).zfill(40)[-40:]


def write_archive(fh: BinaryIO, prefix: str, records: Iterable[tuple[str, Any]]) -> None:
    """Write ``records`` ((name, bytes-like), in order) under ``prefix/`` to ``fh``, torch's layout."""
    out = _Unseekable(fh)
    with zipfile.ZipFile(out, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:  # type: ignore[arg-type]
        for name, data in records:
            full = f"{prefix}/{name}"
            info = zipfile.ZipInfo(full, date_time=(1980, 1, 1, 0, 0, 0))
            size = memoryview(data).nbytes
            zip64 = size * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's rule; it then adds a 20-byte field
            header = 30 + len(full.encode("utf-8")) + 4 + (20 if zip64 else 0)
            pad = -(out.tell() + header) % ALIGNMENT
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            zf.writestr(info, data)
    fh.flush()


class ArchiveReader:
    """The records of a torch zip archive, by name relative to its top-level folder."""

    def __init__(self, fh: BinaryIO, size: int, what: str) -> None:
        self.what = what
        self.size = size
        try:
            self.zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
            raise RuntimeError(
                f"PytorchStreamReader failed reading zip archive: {what} is truncated or corrupt ({err})"
            ) from None
        infos = self.zf.infolist()
        if not infos:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {what} is an empty zip archive")
        first = infos[0].filename
        if "/" not in first:
            raise RuntimeError(f"file in archive is not in a subdirectory: {first}")
        self.prefix = first.split("/", 1)[0]
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise RuntimeError(f"deeprnn.load: {what} is corrupt: it holds two records of the same name")
        self.records: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            self._check(info)
            if info.filename.startswith(self.prefix + "/"):
                self.records[info.filename[len(self.prefix) + 1 :]] = info

    def _check(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise RuntimeError(
                f"deeprnn.load: record {name} of {self.what} uses zip compression method {info.compress_type}; "
                "torch files are stored (method 0) or deflated (8)"
            )
        if info.compress_size > self.size or (info.compress_type == zipfile.ZIP_STORED and info.file_size > self.size):
            raise RuntimeError(
                f"deeprnn.load: record {name} claims {max(info.compress_size, info.file_size)} bytes, more than "
                f"the whole file ({self.size} bytes): {self.what} is truncated or corrupt"
            )
        if info.file_size > _SMALL and info.file_size > MAX_INFLATION * max(info.compress_size, 1):
            raise RuntimeError(
                f"deeprnn.load: record {name} would inflate {info.compress_size} bytes to {info.file_size} "
                f"(more than {MAX_INFLATION}x): refusing what looks like a zip bomb"
            )

    def has(self, name: str) -> bool:
        return name in self.records

    def nbytes(self, name: str) -> int:
        return self.records[name].file_size

    def read(self, name: str) -> bytearray:
        """The record's bytes, in a new writable buffer; CRC-checked by zipfile."""
        info = self.records.get(name)
        if info is None:
            raise RuntimeError(missing_record(name))
        buf = bytearray(info.file_size)
        view = memoryview(buf)
        try:
            with self.zf.open(info) as src:
                pos = 0
                while pos < info.file_size:
                    chunk = src.read(min(_CHUNK, info.file_size - pos))
                    if not chunk:
                        break
                    view[pos : pos + len(chunk)] = chunk
                    pos += len(chunk)
                if pos != info.file_size or src.read(1):
                    raise zipfile.BadZipFile(f"record {name} holds {pos} bytes, its header says {info.file_size}")
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as err:
            raise RuntimeError(
                f"PytorchStreamReader failed reading file {name}: {self.what} is truncated or corrupt ({err})"
            ) from None
        return buf
