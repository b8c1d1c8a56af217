"""Sliding-window datasets: every sample starts a window of ``seq_len`` steps.

This is the picture of ``seq_len`` from the PyTorch tutorial notes: with samples
1..10 and ``seq_len=3`` the windows are 1-2-3, 2-3-4, ..., 8-9-10, 9-10-0, 10-0-0
(the last ones zero-padded), and with ``batch_size=2`` they form 5 batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .errors import DataError

__all__ = ["SlidingWindows", "WindowLoader", "as_generator", "sliding_windows"]


def _check_pos_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """``np.random.Generator`` from a seed (int), a Generator (used as is) or ``None``
    (fresh OS entropy: not reproducible)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise DataError(f"seed must be an int, a numpy Generator or None, got {seed!r}")


def _window_starts(n: int, seq_len: int, stride: int, pad: bool) -> np.ndarray:
    stop = n if pad else n - seq_len + 1
    return np.arange(0, max(stop, 0), stride, dtype=np.int64)


def sliding_windows(samples: Any, seq_len: int, stride: int = 1, *, pad: bool = True, pad_value: Any = 0) -> np.ndarray:
    """All windows of ``samples`` as one array.

    Args:
        samples: array-like of shape ``(n,)`` or ``(n, F...)``.
        seq_len: window length (time steps).
        stride: distance between window starts (default 1).
        pad: if True (default) a window starts at every ``stride``-th sample and the
            windows running past the end are filled with ``pad_value``; if False only
            complete windows are made.

    Returns:
        array of shape ``(n_windows, seq_len, F...)``, dtype of ``samples``.
    """
    return SlidingWindows(samples, seq_len, stride, pad=pad, pad_value=pad_value).windows


class SlidingWindows:
    """Dataset of windows ``samples[s : s + seq_len]`` for ``s = 0, stride, 2*stride, ...``.

    ``ds[i]`` has shape ``(seq_len, F...)`` (``(seq_len,)`` for scalar samples), or is
    a pair ``(x, y)`` of such windows if ``targets`` (same length as ``samples``) is
    given. With ``pad=True`` (default) there is a window for every start before the
    end, padded with ``pad_value``; ``lengths[i]`` says how many steps of window ``i``
    are real. With ``pad=False`` only complete windows are kept.

    Windows are gathered on demand from ``samples`` itself, which is not copied (an
    ``np.memmap`` of token ids stays on disk; the padding is filled in per window);
    ``ds.windows`` materialises all of them as one ``(n_windows, seq_len, F...)`` array.
    """

    def __init__(
        self,
        samples: Any,
        seq_len: int,
        stride: int = 1,
        *,
        pad: bool = True,
        pad_value: Any = 0,
        targets: Any = None,
    ) -> None:
        arr = np.asarray(samples)
        if arr.ndim == 0:
            raise DataError("samples must have shape (n,) or (n, F...), got a scalar")
        self.seq_len = _check_pos_int("seq_len", seq_len)
        self.stride = _check_pos_int("stride", stride)
        self.pad = bool(pad)
        n = arr.shape[0]
        if n == 0:
            raise DataError("samples is empty; expected at least one sample")
        if not self.pad and n < self.seq_len:
            raise DataError(f"pad=False needs at least seq_len={self.seq_len} samples for one window, got {n}")
        self.starts = _window_starts(n, self.seq_len, self.stride, self.pad)
        self.lengths = np.minimum(self.seq_len, n - self.starts)
        self._x, self._x_fill = arr, self._filler(arr, pad_value)
        self._y: np.ndarray | None = None
        if targets is not None:
            t = np.asarray(targets)
            if t.ndim == 0 or t.shape[0] != n:
                raise DataError(f"targets must have the same length as samples ({n}), got shape {t.shape}")
            self._y, self._y_fill = t, self._filler(t, pad_value)

    @staticmethod
    def _filler(arr: np.ndarray, pad_value: Any) -> np.ndarray:
        """One padding sample ``(F...)`` in ``arr``'s dtype (an impossible ``pad_value`` raises here)."""
        return np.full((1,) + arr.shape[1:], pad_value, dtype=arr.dtype)[0]

    @staticmethod
    def _gather(arr: np.ndarray, fill: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``arr[idx]`` for sample positions ``idx`` (any shape), the positions past the end padded."""
        n = arr.shape[0]
        out = arr[np.minimum(idx, n - 1)]
        past = idx >= n
        if past.any():
            out[past] = fill
        return out

    @property
    def has_targets(self) -> bool:
        """True if items are ``(x, y)`` pairs."""
        return self._y is not None

    def take(self, indices: Any) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Windows ``indices`` (1-D ints) stacked: shape ``(len(indices), seq_len, F...)``
        (a pair of such arrays with targets)."""
        idx = self.starts[np.asarray(indices, dtype=np.int64)][:, None] + np.arange(self.seq_len)
        x = self._gather(self._x, self._x_fill, idx)
        if self._y is None:
            return x
        return x, self._gather(self._y, self._y_fill, idx)

    @property
    def windows(self) -> np.ndarray:
        """All input windows, shape ``(n_windows, seq_len, F...)`` (materialised)."""
        return self._gather(self._x, self._x_fill, self.starts[:, None] + np.arange(self.seq_len))

    @property
    def target_windows(self) -> np.ndarray | None:
        """All target windows like :attr:`windows`, or ``None`` without targets."""
        if self._y is None:
            return None
        return self._gather(self._y, self._y_fill, self.starts[:, None] + np.arange(self.seq_len))

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"window index {i} out of range for {n} windows")
        s = int(self.starts[i])
        x = self._window(self._x, self._x_fill, s)
        if self._y is None:
            return x
        return x, self._window(self._y, self._y_fill, s)

    def _window(self, arr: np.ndarray, fill: np.ndarray, s: int) -> np.ndarray:
        """Window ``arr[s : s + seq_len]``: a view when it is complete, a padded copy when not."""
        w = arr[s : s + self.seq_len]
        if w.shape[0] == self.seq_len:
            return w
        return np.concatenate([w, np.broadcast_to(fill, (self.seq_len - w.shape[0],) + fill.shape)], axis=0)

    def __repr__(self) -> str:
        return (
            f"SlidingWindows(n_windows={len(self)}, seq_len={self.seq_len}, "
            f"stride={self.stride}, pad={self.pad}, sample_shape={self._x.shape[1:]})"
        )


class WindowLoader:
    """Mini-batches of a :class:`SlidingWindows` dataset.

    Each batch has shape ``(B, seq_len, F...)`` if ``batch_first`` (default) else
    ``(seq_len, B, F...)``; with targets each item is ``(x, y)`` of that shape. The last
    batch is smaller when ``len(dataset)`` is not a multiple of ``batch_size``, unless
    ``drop_last``. With ``shuffle=True`` each pass (``iter``) uses a new permutation
    drawn from ``seed`` (an int or ``np.random.Generator``): the same seed gives the
    same sequence of epochs.
    """

    def __init__(
        self,
        dataset: SlidingWindows,
        batch_size: int = 1,
        *,
        batch_first: bool = True,
        shuffle: bool = False,
        seed: int | np.random.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        self.dataset = dataset
        self.batch_size = _check_pos_int("batch_size", batch_size)
        self.batch_first = bool(batch_first)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = as_generator(seed)
        if self.drop_last and len(dataset) < self.batch_size:
            raise DataError(
                f"drop_last=True with batch_size={self.batch_size} leaves no batch: "
                f"the dataset has only {len(dataset)} windows"
            )

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _layout(self, a: np.ndarray) -> np.ndarray:
        return a if self.batch_first else np.ascontiguousarray(np.swapaxes(a, 0, 1))

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for k in range(len(self)):
            batch = self.dataset.take(order[k * self.batch_size : (k + 1) * self.batch_size])
            if isinstance(batch, tuple):
                yield self._layout(batch[0]), self._layout(batch[1])
            else:
                yield self._layout(batch)
