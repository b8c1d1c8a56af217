"""Saving side: which storage each tensor lives in, at which offset and strides (torch's layout).

NumPy arrays that are views of one another (``x``, ``x[:, 1]``, ``x.T``) share memory
through their ``.base`` chain, as torch tensors share a storage. Every saved tensor whose
chain ends at the same array is written as a view into ONE storage record, so the loaded
tensors share memory again. The record holds only the bytes the saved views span (torch
writes its whole storage; NumPy has no storage object, and a deeprnn tensor may be a small
view of a large pooled buffer). Saving is two passes: the first finds each storage's span,
the second writes offsets relative to it.

A view torch cannot express (negative strides, strides that are not a multiple of the
element size, non-native byte order) is written as a contiguous copy of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dtypes import storage_name, torch_dtype_name

__all__ = ["StorageRegistry", "Placement"]

try:  # NumPy >= 2
    from numpy.lib.array_utils import byte_bounds as _byte_bounds
except ImportError:  # pragma: no cover - NumPy 1.x
    _byte_bounds = np.byte_bounds


def _root(arr: np.ndarray) -> np.ndarray:
    """The last ndarray of ``arr``'s ``.base`` chain: the array that owns (or wraps) the memory."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _element_strides(arr: np.ndarray) -> tuple[int, ...] | None:
    """Strides in elements, or None if torch cannot express them (size-1 dims get the C stride)."""
    item = arr.dtype.itemsize
    out, contiguous = [], 1
    for n, s in reversed(list(zip(arr.shape, arr.strides))):
        if n == 1:
            out.append(contiguous)
        elif s < 0 or s % item:
            return None
        else:
            out.append(s // item)
        contiguous *= n
    return tuple(reversed(out))


class _ByteSpan:
    """Exposes the bytes [lo, lo + n) of an array's memory as a uint8 array (kept alive by ``owner``)."""

    def __init__(self, owner: np.ndarray, lo: int, n: int) -> None:
        self.__array_interface__ = {"data": (lo, True), "shape": (n,), "typestr": "|u1", "version": 3}
        self.owner = owner


@dataclass
class _Storage:
    key: str
    root: np.ndarray
    dtype: np.dtype
    lo: int
    hi: int
    copy: bool = False  # a private contiguous copy (root is that copy)


@dataclass
class Placement:
    """Where one tensor goes: its storage key and torch's (storage type, numel, offset, size, stride)."""

    key: str
    storage_class: str  # 'FloatStorage', ..., or 'UntypedStorage' for the newer dtypes
    dtype_name: str | None  # set for UntypedStorage (the dtype argument of _rebuild_tensor_v3)
    numel: int  # elements for a typed storage, bytes for an untyped one
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


@dataclass
class StorageRegistry:
    """Collects the storages of one ``save``; ``spans`` carries the first pass's extents into the second."""

    spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # id(root) -> (lo, hi) seen in pass 1
    storages: dict[int, _Storage] = field(default_factory=dict)
    _keep: list[Any] = field(default_factory=list)  # keeps roots alive so that their ids stay unique

    def place(self, arr: np.ndarray) -> Placement:
        """Register ``arr`` (a tensor's data) and say where it is stored."""
        dtype = arr.dtype
        name = torch_dtype_name(dtype.newbyteorder("="))
        if name is None:
            raise TypeError(f"deeprnn.save: cannot store an array of dtype {dtype}: torch has no such dtype")
        strides = _element_strides(arr) if arr.size and dtype.isnative else None
        if strides is None:
            arr = np.ascontiguousarray(arr).astype(dtype.newbyteorder("="), copy=False)
            if not arr.flags.owndata:
                arr = arr.copy()
            strides = _element_strides(arr) or ()
            entry = self._new(arr, arr.dtype, *self._bounds(arr), copy=True)
        else:
            entry = self._entry(arr)
        item = arr.dtype.itemsize
        ptr = arr.__array_interface__["data"][0]
        offset = (ptr - entry.lo) // item if arr.size else 0
        if arr.size and (ptr - entry.lo) % item:  # misaligned with the span: store it on its own
            return self.place(np.array(arr, copy=True))
        cls = storage_name(arr.dtype)
        numel = (entry.hi - entry.lo) // item
        if cls is None:
            return Placement(entry.key, "UntypedStorage", name, numel * item, offset, arr.shape, strides)
        return Placement(entry.key, cls, None, numel, offset, arr.shape, strides)

    @staticmethod
    def _bounds(arr: np.ndarray) -> tuple[int, int]:
        if arr.size == 0:
            ptr = arr.__array_interface__["data"][0]
            return ptr, ptr
        lo, hi = _byte_bounds(arr)
        return int(lo), int(hi)

    def _new(self, root: np.ndarray, dtype: np.dtype, lo: int, hi: int, copy: bool = False) -> _Storage:
        entry = _Storage(str(len(self.storages)), root, dtype, lo, hi, copy)
        self.storages[id(root) if not copy else -len(self.storages) - 1] = entry
        self._keep.append(root)
        return entry

    def _entry(self, arr: np.ndarray) -> _Storage:
        root = _root(arr)
        lo, hi = self._bounds(arr)
        span = self.spans.get(id(root))
        if span is not None and span[0] <= lo and hi <= span[1]:
            lo, hi = span
        entry = self.storages.get(id(root))
        if entry is None:
            return self._new(root, arr.dtype, lo, hi)
        if entry.dtype != arr.dtype:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different types")
        entry.lo, entry.hi = min(entry.lo, lo), max(entry.hi, hi)
        return entry

    def final_spans(self) -> dict[int, tuple[int, int]]:
        """After pass 1: each shared storage's extent, to be used by pass 2."""
        return {id(e.root): (e.lo, e.hi) for e in self.storages.values() if not e.copy}

    def records(self) -> list[tuple[str, memoryview]]:
        """(key, bytes) of every storage, in key order."""
        out = []
        for e in sorted(self.storages.values(), key=lambda e: int(e.key)):
            data = np.asarray(_ByteSpan(e.root, e.lo, e.hi - e.lo)) if e.hi > e.lo else np.zeros(0, np.uint8)
            out.append((e.key, memoryview(data)))
        return out
