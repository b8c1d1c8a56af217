"""Reading torch files: the zip format (torch >= 1.6) and the legacy pickle-stream format.

Both end in an unpickler (``unpickler.py``) whose ``persistent_load`` hands out storages read
here. Every size a file states is checked against the bytes it really holds before memory
is allocated or a view is made.
"""

from __future__ import annotations

import io
import numbers
import pickle
import struct
import sys
from typing import Any, BinaryIO

import numpy as np

from .allowlist import warn_bfloat16
from .archive import ArchiveReader, missing_record
from .dtypes import BFLOAT16
from .locations import resolver
from .rebuild import LoadedStorage, StorageType, Unsupported, widen_bfloat16
from .unpickler import FullUnpickler, WeightsUnpickler

__all__ = ["load_zip", "load_legacy", "LEGACY_MAGIC", "LEGACY_PROTOCOL"]

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


def _corrupt(what: str, detail: str) -> RuntimeError:
    return RuntimeError(f"deeprnn.load: {what} is corrupt: {detail}")


def _typed(raw: Any, dtype: np.dtype | str, big_endian: bool) -> np.ndarray:
    """The elements of a storage's bytes, native byte order; bfloat16 widened to float32."""
    if isinstance(dtype, str) and dtype == BFLOAT16:
        warn_bfloat16()
        return widen_bfloat16(np.frombuffer(raw, dtype=">u2" if big_endian else "<u2").astype(np.uint16))
    arr = np.frombuffer(raw, dtype=dtype)
    if big_endian != (sys.byteorder == "big") and dtype.itemsize > 1:
        arr = arr.byteswap()
    return arr


def _itemsize(dtype: np.dtype | str) -> int:
    return 2 if isinstance(dtype, str) else dtype.itemsize


def _unpickler(weights_only: bool) -> type[pickle.Unpickler]:
    return WeightsUnpickler if weights_only else FullUnpickler


def load_zip(reader: ArchiveReader, map_location: Any, weights_only: bool, encoding: str) -> Any:
    """Unpickle ``data.pkl`` of a torch zip archive, reading each storage record when first named."""
    what = reader.what
    big_endian = sys.byteorder == "big"
    if reader.has("byteorder"):
        order = bytes(reader.read("byteorder"))
        if order not in (b"little", b"big"):
            raise ValueError("Unknown endianness type: " + order.decode("utf-8", "replace"))
        big_endian = order == b"big"
    restore = resolver(map_location)
    loaded: dict[str, LoadedStorage] = {}

    def persistent_load(pid: Any) -> LoadedStorage:
        if not isinstance(pid, tuple) or len(pid) != 5:
            raise _corrupt(what, f"a storage id must be ('storage', type, key, location, numel), got {pid!r}")
        _, storage_type, key, location, numel = pid
        key = key.decode("ascii") if isinstance(key, bytes) else key
        location = location.decode("ascii") if isinstance(location, bytes) else location
        if isinstance(storage_type, Unsupported):
            raise storage_type.error()
        if not isinstance(storage_type, StorageType):
            raise _corrupt(what, f"a storage's type must be a torch storage class, got {storage_type!r}")
        if not isinstance(key, str) or not isinstance(location, str):
            raise _corrupt(what, f"a storage's key and location must be strings, got {key!r}, {location!r}")
        if not isinstance(numel, numbers.Integral) or isinstance(numel, bool) or numel < 0:
            raise _corrupt(what, f"storage {key}'s size must be an int >= 0, got {numel!r}")
        if key in loaded:
            return loaded[key]
        name = f"data/{key}"
        if not reader.has(name):
            raise RuntimeError(missing_record(name))
        nbytes = int(numel) * _itemsize(storage_type.dtype)
        if reader.nbytes(name) != nbytes:
            raise RuntimeError(
                f"record size ({reader.nbytes(name)} bytes) does not match expected size ({nbytes} bytes = "
                f"{nbytes} elements * 1 bytes/element) for dtype Byte"
            )
        storage = LoadedStorage(_typed(reader.read(name), storage_type.dtype, big_endian), location)
        loaded[key] = restore(storage, location)
        return loaded[key]

    data = io.BytesIO(reader.read("data.pkl"))
    return _unpickler(weights_only)(data, persistent_load, encoding=encoding).load()


def _read_exact(f: BinaryIO, n: int, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise _corrupt(what, f"it ends after {len(data)} of {n} bytes of storage data (truncated)")
    return data


def load_legacy(f: BinaryIO, size: int, map_location: Any, weights_only: bool, encoding: str, what: str) -> Any:
    """torch's pre-1.6 format: magic, protocol and system-info pickles, the object, the storage keys, the data."""

    def small_pickle() -> Any:
        return WeightsUnpickler(f, _no_storage, encoding=encoding).load()

    if small_pickle() != LEGACY_MAGIC:
        raise RuntimeError("Invalid magic number; corrupt file?")
    protocol = small_pickle()
    if protocol != LEGACY_PROTOCOL:
        raise RuntimeError(f"Invalid protocol version: {protocol}")
    sys_info = small_pickle()
    big_endian = isinstance(sys_info, dict) and sys_info.get("little_endian") is False
    restore = resolver(map_location)
    roots: dict[str, tuple[np.ndarray, np.dtype | str]] = {}
    views: dict[str, LoadedStorage] = {}
    claimed = [0]  # bytes of storage data the pickle has asked for: never more than the file holds

    def persistent_load(pid: Any) -> Any:
        if isinstance(pid, tuple) and pid and pid[0] == "module" and not weights_only:
            return pid[1]  # a pickled module's class (its source is not checked)
        if not isinstance(pid, tuple) or len(pid) != 6:
            raise _corrupt(what, f"a storage id must have 6 fields, got {pid!r}")
        _, storage_type, root_key, location, numel, view = pid
        if isinstance(storage_type, Unsupported):
            raise storage_type.error()
        if not isinstance(storage_type, StorageType) or not isinstance(root_key, str):
            raise _corrupt(what, f"bad storage id {pid!r}")
        if not isinstance(numel, numbers.Integral) or isinstance(numel, bool) or not 0 <= numel:
            raise _corrupt(what, f"storage {root_key}'s size must be an int >= 0, got {numel!r}")
        if root_key not in roots:
            claimed[0] += int(numel) * _itemsize(storage_type.dtype)
            if claimed[0] > size:
                raise _corrupt(what, f"its storages claim {claimed[0]} bytes, more than the whole file holds")
            dtype = np.dtype(np.float32) if isinstance(storage_type.dtype, str) else storage_type.dtype
            roots[root_key] = (np.zeros(int(numel), dtype=dtype), storage_type.dtype)
        root, dtype = roots[root_key]
        if dtype != storage_type.dtype or root.size != numel:
            raise _corrupt(what, f"storage {root_key} is named with two different types or sizes")
        if view is None:
            key, arr = root_key, root
        else:
            if not (isinstance(view, tuple) and len(view) == 3 and all(isinstance(v, int) for v in view[1:])):
                raise _corrupt(what, f"bad storage view {view!r}")
            key, offset, n = view
            if offset < 0 or n < 0 or offset + n > root.size:
                raise _corrupt(what, f"storage view {key} [{offset}, {offset + n}) lies outside its storage")
            arr = root[offset : offset + n]
        if key not in views:
            views[key] = restore(LoadedStorage(arr, location), location)
        return views[key]

    result = _unpickler(weights_only)(f, persistent_load, encoding=encoding).load()
    keys = small_pickle()
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _corrupt(what, "the list of storage keys is not a list of strings")
    fmt = ">q" if big_endian else "<q"
    for key in keys:
        if key not in roots:
            raise _corrupt(what, f"storage key {key!r} not found in the pickle")
        root, dtype = roots[key]
        (count,) = struct.unpack(fmt, _read_exact(f, 8, what))
        if count != root.size:
            raise _corrupt(what, f"storage {key} holds {count} elements, the pickle says {root.size}")
        raw = _read_exact(f, count * _itemsize(dtype), what)
        root[...] = _typed(raw, dtype, big_endian)
    return result


def _no_storage(pid: Any) -> Any:
    raise pickle.UnpicklingError("unsupported persistent id encountered")
