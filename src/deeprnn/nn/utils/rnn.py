"""``torch.nn.utils.rnn``: packed batches of sequences of different lengths.

A batch of N sequences sorted longest first is packed step after step: at step t only
the b_t = batch_sizes[t] sequences still running have a row, so

    data         (R, *) the rows, step 0's b_0 rows first; R = sum_t b_t
    batch_sizes  (T,) int64, non-increasing
    sorted_indices    (N,) which original sequence is the i-th longest (None if given sorted)
    unsorted_indices  (N,) its inverse, to put results back in the original order

The recurrent modules run a PackedSequence without computing its padding (kernels/batch_plan.py).
Packing and padding are gathers and scatters of rows: each is one autograd node whose
backward is the opposite move, so gradients flow through them as in torch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from ...autograd.function import record, unbroadcast
from ...autograd.tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


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


def _as_lengths(lengths: Any) -> np.ndarray:
    """Lengths as int64 (floats truncate, as torch's ``.to(torch.int64)``), 1-D."""
    arr = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    arr = arr.astype(np.int64) if arr.size else arr.reshape(-1).astype(np.int64)
    if arr.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {arr.ndim}D cpu Long tensor")
    return arr


def _move_rows(src: Tensor, index: tuple, out_shape: tuple, fill: float, name: str, gather: bool) -> Tensor:
    """One node that gathers src[index] (gather) or scatters src into a `fill`-filled array at index."""
    a = src._data
    if gather:
        out = np.ascontiguousarray(a[index])
    else:
        out = np.full(out_shape, fill, dtype=a.dtype)
        out[index] = a

    def backward(g: np.ndarray) -> list[np.ndarray]:
        if gather:
            d = np.zeros(a.shape, dtype=g.dtype)
            d[index] = g  # each packed row comes from one padded position
            return [d]
        return [np.ascontiguousarray(g[index])]

    return record(name, out, [src], backward, saved=[])  # moves values, reads none of them


def _packed_index(lengths: np.ndarray, batch_first: bool) -> tuple[np.ndarray, tuple]:
    """batch_sizes (T,) and the (time, batch) positions of the packed rows, step after step."""
    T = int(lengths[0]) if lengths.size else 0
    batch_sizes = (lengths[None, :] > np.arange(T)[:, None]).sum(axis=1)  # (T,) sequences still running
    t = np.repeat(np.arange(T), batch_sizes)
    n = np.concatenate([np.arange(b) for b in batch_sizes]) if T else np.zeros(0, dtype=np.int64)
    return batch_sizes.astype(np.int64), ((n, t) if batch_first else (t, n))


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True):  # noqa: A002
    """Pack a padded batch (T, N, *) ((N, T, *) with batch_first) of sequences of the given lengths.

    With enforce_sorted the lengths must be decreasing; otherwise the batch is sorted here and
    ``sorted_indices`` remembers the order.  Returns a PackedSequence; differentiable in input.
    """
    lengths = _as_lengths(lengths)
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {1})")
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    if input.shape[batch_dim] == 0 and lengths.size == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if lengths.size != input.shape[batch_dim]:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
            f"(batch_size={input.shape[batch_dim]})"
        )
    if enforce_sorted:
        order = None
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability."
            )
    else:
        order = np.argsort(-lengths, kind="stable")  # torch.sort(descending=True) keeps ties in order
        lengths = lengths[order]
    if lengths[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if lengths[0] > input.shape[time_dim]:  # torch reads past the end here; refuse instead
        raise RuntimeError(
            f"Expected every length to be at most the padded sequence length {input.shape[time_dim]}, "
            f"got {int(lengths[0])}"
        )
    batch_sizes, (i0, i1) = _packed_index(lengths, batch_first)
    if order is not None:  # the packed row of sorted sequence j comes from the caller's sequence order[j]
        i0, i1 = (order[i0], i1) if batch_first else (i0, order[i1])
    data = _move_rows(input, (i0, i1), (), 0.0, "PackPaddedSequenceBackward0", gather=True)
    sorted_indices = None if order is None else Tensor._wrap(order.astype(np.int64))
    return PackedSequence(data, Tensor._wrap(batch_sizes), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0, total_length: int | None = None
) -> tuple[Tensor, Tensor]:
    """Undo pack_padded_sequence: (padded (T, N, *) or (N, T, *), lengths (N,) int64), in the original order."""
    batch_sizes = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    max_seq_length = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {max_seq_length}"
            )
        max_seq_length = total_length
    N = int(batch_sizes[0]) if batch_sizes.size else 0
    lengths = (batch_sizes[None, :] > np.arange(N)[:, None]).sum(axis=1).astype(np.int64)  # (N,) sorted order
    _, (i0, i1) = _packed_index(lengths, batch_first)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:  # the sorted sequence j goes back to position sorted_indices[j]
        back = np.argsort(np.asarray(unsorted._data, dtype=np.int64))  # = sorted_indices
        i0, i1 = (back[i0], i1) if batch_first else (i0, back[i1])
        lengths = lengths[np.asarray(unsorted._data, dtype=np.int64)]
    data = sequence.data
    shape = ((N, max_seq_length) if batch_first else (max_seq_length, N)) + tuple(data.shape[1:])
    padded = _move_rows(data, (i0, i1), shape, padding_value, "PadPackedSequenceBackward0", gather=False)
    return padded, Tensor._wrap(lengths)


def _broadcast_error(dst: tuple, src: tuple) -> RuntimeError | None:
    """torch's copy_ broadcasting check of src into dst, from the last dimension (None if it fits)."""
    if len(src) > len(dst):
        return RuntimeError(
            f"expand: the number of sizes provided ({len(dst)}) must be greater or equal to the number "
            f"of dimensions in the tensor ({len(src)})"
        )
    for i in range(len(dst) - 1, -1, -1):
        j = i - (len(dst) - len(src))
        b = src[j] if j >= 0 else 1
        if b not in (1, dst[i]):
            return RuntimeError(
                f"The size of tensor a ({dst[i]}) must match the size of tensor b ({b}) at non-singleton dimension {i}"
            )
    return None


def pad_sequence(
    sequences: Any, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
) -> Tensor:
    """Pad a list of (L_i, *) tensors into (T, N, *) ((N, T, *) with batch_first), T = max L_i.

    padding_side 'left' puts the padding before each sequence.  The result has the first
    sequence's dtype; differentiable in every sequence.
    """
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}"
        )
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if seqs[0].dim() == 0:
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    trailing = tuple(seqs[0].shape[1:])
    T = max(s.shape[0] for s in seqs)
    N = len(seqs)
    dtype = seqs[0].dtype
    out = np.full(((N, T) if batch_first else (T, N)) + trailing, padding_value, dtype=dtype)
    spans = []
    for n, s in enumerate(seqs):
        L = s.shape[0]
        start = T - L if padding_side == "left" else 0
        slot = out[n, start : start + L] if batch_first else out[start : start + L, n]
        err = _broadcast_error(slot.shape, tuple(s.shape))
        if err is not None:
            raise err
        slot[...] = s._data
        spans.append((n, start, L))

    def backward(g: np.ndarray) -> list[np.ndarray]:
        grads = []
        for s, (n, start, L) in zip(seqs, spans):
            gs = g[n, start : start + L] if batch_first else g[start : start + L, n]
            grads.append(np.ascontiguousarray(unbroadcast(gs, tuple(s.shape))))  # a broadcast copy sums back
        return grads

    return record("PadSequenceBackward0", out, seqs, backward, saved=[])


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into its sequences: a list of N tensors (L_i, *) (differentiable)."""
    lengths = _as_lengths(lengths)
    padded = padded_sequences if batch_first else padded_sequences.transpose(0, 1)  # (N, T, *)
    if len(lengths) != padded.shape[0]:
        raise ValueError(
            f"zip() argument 2 is {'shorter' if len(lengths) < padded.shape[0] else 'longer'} than argument 1"
        )
    return [padded[n, : int(L)] for n, L in enumerate(lengths)]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (longest first unless enforce_sorted=False) into a PackedSequence."""
    lengths = [int(v.size(0)) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo pack_sequence: the list of (L_i, *) tensors, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
