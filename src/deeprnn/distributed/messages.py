"""JSON values and named arrays sent between the processes: data, never pickles.

A message of arrays is an 8-byte header length, a JSON header (names, dtypes, shapes) and the
arrays' bytes one after another, so a receiver rebuilds exactly the arrays that were sent.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .communicator import Communicator

__all__ = [
    "encode_arrays",
    "decode_arrays",
    "bcast_json",
    "gather_json",
    "bcast_arrays",
    "gather_arrays",
    "all_succeeded",
]


def encode_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    """Serialise named numeric arrays (no object dtype) to bytes."""
    header = []
    for name, a in arrays.items():
        if not isinstance(a, np.ndarray) or a.dtype.hasobject:
            raise TypeError(f"array {name!r}: expected a numeric ndarray, got {type(a).__name__}")
        header.append([name, a.dtype.str, list(a.shape)])
    head = json.dumps(header).encode("utf-8")
    parts = [len(head).to_bytes(8, "little"), head]
    parts += [np.ascontiguousarray(a).tobytes() for a in arrays.values()]
    return b"".join(parts)


def decode_arrays(data: bytes) -> dict[str, np.ndarray]:
    """Inverse of `encode_arrays` (each array a fresh, writeable copy)."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    out, offset = {}, 8 + n
    for name, dtype, shape in header:
        dt = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        out[name] = np.frombuffer(data, dtype=dt, count=count, offset=offset).reshape(shape).copy()
        offset += count * dt.itemsize
    if offset != len(data):
        raise ValueError(f"array message of {len(data)} bytes holds {offset} bytes of arrays")
    return out


def bcast_json(comm: Communicator, obj: Any, what: str = "a broadcast", wait_for_root: bool = False) -> Any:
    """Rank 0's JSON-safe ``obj`` on every process (others pass anything, e.g. None)."""
    data = json.dumps(obj).encode("utf-8") if comm.is_root else None
    return json.loads(comm.bcast_bytes(data, what, wait_for_root=wait_for_root).decode("utf-8"))


def gather_json(comm: Communicator, obj: Any, what: str = "a gather") -> list[Any] | None:
    """Every process's JSON-safe ``obj``, in rank order, on rank 0; None elsewhere."""
    parts = comm.gather_bytes(json.dumps(obj).encode("utf-8"), what)
    return None if parts is None else [json.loads(p.decode("utf-8")) for p in parts]


def bcast_arrays(comm: Communicator, arrays: dict[str, np.ndarray] | None, what: str = "a broadcast") -> dict:
    """Rank 0's named arrays on every process (others pass None)."""
    data = encode_arrays(arrays) if comm.is_root and arrays is not None else None
    return decode_arrays(comm.bcast_bytes(data, what))


def gather_arrays(comm: Communicator, arrays: dict[str, np.ndarray], what: str = "a gather") -> list[dict] | None:
    """Every process's named arrays, in rank order, on rank 0; None elsewhere."""
    parts = comm.gather_bytes(encode_arrays(arrays), what)
    return None if parts is None else [decode_arrays(p) for p in parts]


def all_succeeded(comm: Communicator, ok: bool, what: str = "a check") -> bool:
    """True on every process if ``ok`` is True on every process (one small Allreduce)."""
    failures = np.array([0.0 if ok else 1.0])
    return bool(comm.allreduce_sum_(failures, what)[0] == 0)
