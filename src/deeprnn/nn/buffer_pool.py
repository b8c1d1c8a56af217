"""A small cache of the RNN's whole-sequence buffers, so that a training loop does not page-fault them in anew.

Each `nn.RNN` step needs a few (T, N, D*H) arrays: the layer buffers that autograd saves
and the backward scratch.  Freshly allocated, each of them is new memory to the operating
system (glibc maps blocks this large directly, or trims its heap when they are freed), and
touching it costs page faults: measured 965 faults and 1.8 ms of system time per train
step at T=50, N=32, H=128, two layers (8.6 ms in all), against torch's 83.

The pool keeps the arrays it handed out and gives one back out when nothing else refers
to it any more: no view, no tensor, no saved graph (CPython's reference count says so).
An array a user still holds, e.g. an RNN output, is never handed out again.  Only arrays
of at least `min_bytes` are pooled (smaller ones are cheap to allocate), at most
`per_shape` of each shape and dtype, and at most `max_bytes` in all; `clear()` releases
what the pool keeps.

`rnn_buffers`, the pool of nn.RNN / LSTM / GRU, may keep a sixteenth of the machine's memory, at
least 256 MB and at most 1 GB (`default_max_bytes`): an LSTM at T = 200, N = 64, H = 1024 needs about
600 MB of buffers a train step, and with 256 MB it took 1.99-2.06 s a step against 1.77-1.80 s with
1 GB (2-core Intel Xeon, 23.5 GB); the buffers of the language model's default sizes take a few MB.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["BufferPool", "rnn_buffers", "default_max_bytes"]


def _is_free(arrays: list[np.ndarray], i: int) -> bool:
    """True if only the pool refers to arrays[i]: its list slot and getrefcount's own argument."""
    return sys.getrefcount(arrays[i]) <= 2


class BufferPool:
    """Hands out NumPy arrays, reusing those that nothing refers to any more.

    Args:
        max_bytes: the most memory kept for reuse, in use or free.
        min_bytes: smaller arrays are plain np.empty, not pooled.
        per_shape: the most arrays kept for one (shape, dtype); beyond that, plain np.empty.
    """

    def __init__(self, max_bytes: int = 256 * 2**20, min_bytes: int = 64 * 2**10, per_shape: int = 8) -> None:
        self.max_bytes = max_bytes
        self.min_bytes = min_bytes
        self.per_shape = per_shape
        self._by_key: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()  # least recently used first
        self._held = 0
        self._lock = threading.Lock()

    def empty(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of this shape and dtype, like np.empty."""
        dtype = np.dtype(dtype)
        shape = tuple(map(int, shape))  # map, not a generator: no Python frame
        nbytes = dtype.itemsize * math.prod(shape)  # math.prod: np.prod costs 4 us a call
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype=dtype)
        key = (shape, dtype.str)
        with self._lock:
            arrays = self._by_key.get(key)
            if arrays is not None:
                self._by_key.move_to_end(key)
                for i in range(len(arrays)):
                    if _is_free(arrays, i):
                        return arrays[i]
            new = np.empty(shape, dtype=dtype)
            if arrays is not None and len(arrays) >= self.per_shape:
                return new  # every kept array of this shape is in use
            self._make_room(nbytes)
            if self._held + nbytes <= self.max_bytes:
                self._by_key.setdefault(key, []).append(new)
                self._held += nbytes
            return new

    def _make_room(self, nbytes: int) -> None:
        """Drop free arrays, least recently used shapes first, until nbytes more would fit."""
        for key in list(self._by_key):
            if self._held + nbytes <= self.max_bytes:
                return
            arrays = self._by_key[key]
            i = 0
            while i < len(arrays) and self._held + nbytes > self.max_bytes:
                if _is_free(arrays, i):
                    self._held -= arrays[i].nbytes
                    del arrays[i]
                else:
                    i += 1
            if not arrays:
                del self._by_key[key]

    def held_bytes(self) -> int:
        """Bytes of all arrays the pool keeps, in use or free."""
        return self._held

    def clear(self) -> None:
        """Forget every array: free ones go back to the allocator, ones in use stay with their users."""
        with self._lock:
            self._by_key.clear()
            self._held = 0


def default_max_bytes(physical: int | None = None) -> int:
    """The bound of `rnn_buffers`: a sixteenth of `physical` bytes (the machine's memory where the system
    reports it), at least 256 MB and at most 1 GB; 256 MB where the memory is unknown."""
    if physical is None:
        try:
            physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or no such name
            physical = 0
    return min(max(physical // 16, 256 * 2**20), 2**30)


rnn_buffers = BufferPool(max_bytes=default_max_bytes())
"""The pool behind ``nn.RNN`` and the language model's whole-sequence buffers."""
