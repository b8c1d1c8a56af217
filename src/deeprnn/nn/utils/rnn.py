"""``torch.nn.utils.rnn``: packed batches of sequences of different lengths.

A batch of N sequences sorted longest first is packed step after step: at step t only
the b_t = batch_sizes[t] sequences still running have a row, so

    data         (R, *) the rows, step 0's b_0 rows first; R = sum_t b_t
    batch_sizes  (T,) int64, non-increasing
    sorted_indices    (N,) which original sequence is the i-th longest (None if given sorted)
    unsorted_indices  (N,) its inverse, to put results back in the original order

The recurrent modules run a PackedSequence without computing its padding (kernels/batch_plan.py).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ...autograd.tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation"]


class PackedSequence_(NamedTuple):  # noqa: N801 - PyTorch's name
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation tensor (None stays None)."""
    if permutation is None:
        return None
    p = np.asarray(permutation._data, dtype=np.int64)
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=np.int64)
    return Tensor._wrap(out)


class PackedSequence(PackedSequence_):
    """Holds the data and list of batch_sizes of a packed sequence (a namedtuple, as PyTorch's).

    Made by ``pack_padded_sequence`` / ``pack_sequence``, never by hand; ``PackedSequence(data,
    batch_sizes, sorted_indices=None, unsorted_indices=None)`` fills unsorted_indices from
    sorted_indices, and ``PackedSequence((data, batch_sizes))`` unpacks a pair.
    """

    def __new__(
        cls,
        data: Any,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data[0], data[1]
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequence with data converted (``.to(dtype)``); the indices stay int64."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        raise AssertionError("Torch not compiled with CUDA enabled")

    def pin_memory(self) -> PackedSequence:
        return self

    def is_pinned(self) -> bool:
        return False

    def double(self) -> PackedSequence:
        return self.to(np.float64)

    def float(self) -> PackedSequence:  # noqa: A003
        return self.to(np.float32)

    def half(self) -> PackedSequence:
        return self.to(np.float16)

    def long(self) -> PackedSequence:
        return self.to(np.int64)

    def int(self) -> PackedSequence:  # noqa: A003
        return self.to(np.int32)

    def short(self) -> PackedSequence:
        return self.to(np.int16)

    def char(self) -> PackedSequence:
        return self.to(np.int8)

    def byte(self) -> PackedSequence:
        return self.to(np.uint8)

    @property
    def is_cuda(self) -> bool:
        return False
