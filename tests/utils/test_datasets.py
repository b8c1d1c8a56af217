"""Datasets and random_split against torch.utils.data: indexing, lengths, concatenation and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _data_helpers import data, same_error, same_in_both

import deeprnn


def _xy(lib):
    x = lib.tensor(np.arange(12.0, dtype=np.float32).reshape(6, 2))
    y = lib.tensor(np.arange(6))
    return x, y


class Squares:
    """A map-style dataset written once for both libraries (a subclass of lib's Dataset)."""

    @staticmethod
    def make(lib, n=5):
        class _Squares(data(lib).Dataset):
            def __len__(self):
                return n

            def __getitem__(self, i):
                if not 0 <= i < n:
                    raise IndexError(i)
                return i * i

        return _Squares()


def _stream(lib, n=5):
    class _Stream(data(lib).IterableDataset):
        def __iter__(self):
            return iter(range(n))

        def __len__(self):
            return n

    return _Stream()


def test_tensor_dataset_items_and_length():
    same_in_both(lambda lib: [data(lib).TensorDataset(*_xy(lib))[i] for i in (0, 3, -1)])
    same_in_both(lambda lib: data(lib).TensorDataset(*_xy(lib))[1:4])
    assert len(data(deeprnn).TensorDataset(*_xy(deeprnn))) == 6


def test_tensor_dataset_size_mismatch():
    same_error(lambda lib: data(lib).TensorDataset(lib.zeros(3), lib.zeros(4)))


def test_concat_dataset_indexing_and_add():
    def make(lib):
        d = data(lib)
        c = d.ConcatDataset([Squares.make(lib, 3), Squares.make(lib, 2)])
        both = Squares.make(lib, 2) + Squares.make(lib, 3)
        return [len(c), c.cumulative_sizes, [c[i] for i in range(5)], c[-1], c[-5], type(both).__name__, len(both)]

    same_in_both(make)
    same_error(lambda lib: data(lib).ConcatDataset([Squares.make(lib, 2)])[-3])
    same_error(lambda lib: data(lib).ConcatDataset([]))
    same_error(lambda lib: data(lib).ConcatDataset([_stream(lib)]))


def test_chain_and_stack_datasets():
    def make(lib):
        d = data(lib)
        chain = _stream(lib, 2) + _stream(lib, 3)
        st = d.StackDataset(Squares.make(lib, 3), Squares.make(lib, 3))
        kw = d.StackDataset(a=Squares.make(lib, 2), b=Squares.make(lib, 2))
        return [list(chain), len(chain), st[2], len(st), kw[1]]

    same_in_both(make)
    same_error(lambda lib: data(lib).StackDataset(Squares.make(lib, 2), Squares.make(lib, 3)))
    same_error(lambda lib: data(lib).StackDataset())
    same_error(lambda lib: data(lib).StackDataset(Squares.make(lib), a=Squares.make(lib)))


def test_subset_indexing():
    def make(lib):
        s = data(lib).Subset(Squares.make(lib, 6), [5, 0, 3])
        return [len(s), [s[i] for i in range(3)], s.__getitems__([2, 0])]

    same_in_both(make)


def test_base_dataset_raises():
    same_error(lambda lib: data(lib).Dataset()[0])


@pytest.mark.parametrize("lengths", [[3, 2, 1], [0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.9], [1.0]])
def test_random_split_lengths_and_partition(lengths):
    ours = data(deeprnn).random_split(Squares.make(deeprnn, 6), lengths, generator=deeprnn.Generator(0))
    ref = data(torch).random_split(Squares.make(torch, 6), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in ref]
    seen = sorted(i for s in ours for i in s.indices)
    assert seen == list(range(6))  # a partition of the dataset
    again = data(deeprnn).random_split(Squares.make(deeprnn, 6), lengths, generator=deeprnn.Generator(0))
    assert [s.indices for s in again] == [s.indices for s in ours]  # the generator decides the split


def test_random_split_uses_the_default_generator():
    deeprnn.manual_seed(3)
    a = [s.indices for s in data(deeprnn).random_split(range(10), [5, 5])]
    deeprnn.manual_seed(3)
    b = [s.indices for s in data(deeprnn).random_split(range(10), [5, 5])]
    assert a == b and sorted(a[0] + a[1]) == list(range(10))


def test_random_split_errors_and_warning():
    same_error(lambda lib: data(lib).random_split(range(5), [2, 2]))
    same_error(lambda lib: data(lib).random_split(range(5), [1.5, -0.5]))
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0. This might result in an empty dataset."):
        data(deeprnn).random_split(range(1), [0.5, 0.5])
