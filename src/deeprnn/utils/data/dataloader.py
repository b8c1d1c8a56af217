"""``DataLoader``, as ``torch.utils.data.DataLoader``: batches from a dataset, in a sampler's order.

For a map-style dataset, the sampler (sequential, or random with ``shuffle=True``) gives the
indices, a ``BatchSampler`` groups them into lists of ``batch_size``, the samples at those
indices go through ``collate_fn`` (``default_collate``: B samples -> a batch with leading
dimension B). For an ``IterableDataset``, ``batch_size`` consecutive samples of its
iterator make a batch. ``batch_size=None`` turns batching off (``default_convert`` per sample).

Differences from torch, all on purpose:

- ``num_workers > 0`` runs the dataset in this process, as one worker: inside the dataset,
  ``get_worker_info()`` reports worker 0 of 1 and ``worker_init_fn(0)`` runs at the start
  of each pass. So the batches are those of ``num_workers=0``, and an IterableDataset is
  not replicated once per worker (torch replicates it unless the dataset shards itself).
  ``timeout``, ``prefetch_factor``, ``persistent_workers`` and ``multiprocessing_context``
  are validated as in torch and otherwise have no effect.
- ``pin_memory=True`` warns, as torch does on a machine without an accelerator.
- Shuffled orders are reproducible (from ``generator=`` or ``deeprnn.manual_seed``) but are
  not torch's orders: the two libraries' random streams differ.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ...autograd.random import Generator, seed_of
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "WorkerInfo", "get_worker_info"]

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: its id, the worker count, its seed, the dataset."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_current_worker: list[WorkerInfo | None] = [None]


def get_worker_info() -> WorkerInfo | None:
    """The current worker's ``WorkerInfo`` inside a DataLoader worker; None in the main process."""
    return _current_worker[0]


@contextmanager
def _as_worker(info: WorkerInfo | None) -> Iterator[None]:
    previous = _current_worker[0]
    _current_worker[0] = info
    try:
        yield
    finally:
        _current_worker[0] = previous


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: None forever (the dataset's own iterator decides when to stop)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class DataLoader(Generic[T_co]):
    """``DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
    collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
    multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
    pin_memory_device='', in_order=True)``.

    Iterating yields batches; ``len(loader)`` is the number of batches. With batch size B,
    a TensorDataset of tensors (N, *) gives batches (B, *) (the last one shorter unless
    ``drop_last``). See the module docstring for how ``num_workers`` differs from torch.
    """

    _initialized = False

    def __init__(
        self,
        dataset: Dataset[T_co],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(
                "multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                f"but got num_workers={num_workers}"
            )
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified "
                    f"batch_sampler option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._len_reported: int | None = None
        self._initialized = True

    def __setattr__(self, attr: str, val: Any) -> None:
        if self._initialized and attr in (
            "batch_size",
            "batch_sampler",
            "sampler",
            "drop_last",
            "dataset",
            "persistent_workers",
        ):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> _DataLoaderIter:
        return _DataLoaderIter(self)

    def __len__(self) -> int:
        """The number of batches (for an IterableDataset, computed from ``len(dataset)``)."""
        if self._iterable:
            length = len(self.dataset)  # type: ignore[arg-type]
            self._len_reported = length
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _DataLoaderIter:
    """One pass over a DataLoader (what ``iter(loader)`` returns)."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._collate_fn = loader.collate_fn
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._len_reported = loader._len_reported
        self._num_yielded = 0
        self._worker: WorkerInfo | None = None
        if loader.pin_memory:
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, "
                "then device pinned memory won't be used.",
                UserWarning,
                stacklevel=3,
            )
        if loader.num_workers > 0:
            self._worker = WorkerInfo(id=0, num_workers=1, seed=int(seed_of(loader.generator)), dataset=loader.dataset)
        self._sampler_iter = iter(self._index_sampler)
        with _as_worker(self._worker):
            if self._worker is not None and loader.worker_init_fn is not None:
                loader.worker_init_fn(0)
            self._dataset_iter = iter(loader.dataset) if loader._iterable else None  # type: ignore[call-overload]
        self._ended = False

    def __iter__(self) -> _DataLoaderIter:
        return self

    def __len__(self) -> int:
        return len(self._index_sampler)

    def _fetch(self, index: Any) -> Any:
        dataset = self._loader.dataset
        if self._dataset_iter is not None:
            if self._ended:
                raise StopIteration
            if not self._auto_collation:
                return self._collate_fn(next(self._dataset_iter))
            data = []
            for _ in index:
                try:
                    data.append(next(self._dataset_iter))
                except StopIteration:
                    self._ended = True
                    break
            if len(data) == 0 or (self._drop_last and len(data) < len(index)):
                raise StopIteration
            return self._collate_fn(data)
        if not self._auto_collation:
            return self._collate_fn(dataset[index])
        if callable(getattr(dataset, "__getitems__", None)):
            return self._collate_fn(dataset.__getitems__(index))
        return self._collate_fn([dataset[i] for i in index])

    def __next__(self) -> Any:
        index = next(self._sampler_iter)
        with _as_worker(self._worker):
            data = self._fetch(index)
        self._num_yielded += 1
        if self._dataset_iter is not None and self._len_reported is not None and self._num_yielded > self._len_reported:
            warnings.warn(
                f"Length of IterableDataset {self._loader.dataset} was reported to be {self._len_reported}"
                f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ",
                UserWarning,
                stacklevel=2,
            )
        return data
