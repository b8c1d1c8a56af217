"""Samplers against torch.utils.data: deterministic orders exactly, random ones for coverage and reproducibility."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from _data_helpers import data, same_error, same_in_both

import deeprnn


def test_sequential_and_batch_samplers_match_torch():
    def make(lib):
        d = data(lib)
        seq = d.SequentialSampler(range(7))
        return [
            list(seq),
            len(seq),
            list(d.BatchSampler(seq, 3, False)),
            list(d.BatchSampler(seq, 3, True)),
            len(d.BatchSampler(seq, 3, False)),
            len(d.BatchSampler(seq, 3, True)),
            list(d.BatchSampler(range(4), 4, True)),
        ]

    same_in_both(make)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.BatchSampler(range(3), 0, False),
        lambda d: d.BatchSampler(range(3), True, False),
        lambda d: d.BatchSampler(range(3), 2, 1),
        lambda d: d.RandomSampler(range(3), replacement=1),
        lambda d: d.RandomSampler(range(3), num_samples=0),
        lambda d: d.RandomSampler(range(0)),
        lambda d: d.WeightedRandomSampler([1.0, 2.0], 0),
        lambda d: d.WeightedRandomSampler([1.0, 2.0], 2, replacement=1),
        lambda d: d.WeightedRandomSampler([[1.0, 2.0]], 2),
        lambda d: list(d.WeightedRandomSampler([1.0, 2.0], 3, replacement=False)),
        lambda d: list(d.WeightedRandomSampler([1.0, -2.0], 1)),
        lambda d: list(d.WeightedRandomSampler([0.0, 0.0], 1)),
        lambda d: list(d.WeightedRandomSampler([float("nan"), 1.0], 1)),
        lambda d: iter(d.Sampler()).__next__(),
    ],
)
def test_sampler_errors_match_torch(call):
    same_error(lambda lib: call(data(lib)))


def test_random_sampler_is_a_permutation_and_reproducible():
    d = data(deeprnn)
    g = deeprnn.Generator(5)
    s = d.RandomSampler(range(10), generator=g)
    first, second = list(s), list(s)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second  # a new order each pass
    g.manual_seed(5)
    assert list(s) == first  # the generator decides the order
    deeprnn.manual_seed(1)
    a = list(d.RandomSampler(range(10)))
    deeprnn.manual_seed(1)
    assert list(d.RandomSampler(range(10))) == a  # no generator: seeded from the default one


@pytest.mark.parametrize("num_samples", [3, 10, 25])
def test_random_sampler_num_samples_without_replacement(num_samples):
    s = data(deeprnn).RandomSampler(range(10), num_samples=num_samples, generator=deeprnn.Generator(0))
    out = list(s)
    assert len(out) == len(s) == num_samples
    counts = Counter(out)
    assert max(counts.values()) - min(counts.values()) <= 1 and set(counts) <= set(range(10))
    for k in range(num_samples // 10):  # whole permutations first, as torch
        assert sorted(out[10 * k : 10 * k + 10]) == list(range(10))


def test_random_sampler_with_replacement_covers_range():
    out = list(data(deeprnn).RandomSampler(range(4), replacement=True, num_samples=400, generator=deeprnn.Generator(0)))
    assert len(out) == 400 and set(out) == {0, 1, 2, 3}


def test_subset_random_sampler():
    s = data(deeprnn).SubsetRandomSampler([3, 7, 9], generator=deeprnn.Generator(0))
    assert len(s) == 3 and sorted(s) == [3, 7, 9]


def test_weighted_random_sampler_follows_weights():
    s = data(deeprnn).WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=deeprnn.Generator(0))
    counts = Counter(s)
    assert len(s) == 4000 and counts[0] == 0 and 0.7 < counts[2] / 4000 < 0.8
    no_rep = list(data(deeprnn).WeightedRandomSampler([1.0, 1.0, 5.0], 3, replacement=False))
    assert sorted(no_rep) == [0, 1, 2]
    # zero weights are drawn last, in index order, as torch does
    same_in_both(lambda lib: list(data(lib).WeightedRandomSampler([0.0, 2.0, 0.0], 3, replacement=False)))
    firsts = Counter(next(iter(data(deeprnn).WeightedRandomSampler([1.0, 3.0], 1, False))) for _ in range(2000))
    assert 0.7 < firsts[1] / 2000 < 0.8
    assert np.array_equal(data(deeprnn).WeightedRandomSampler(deeprnn.tensor([1.0, 2.0]), 2).weights, [1.0, 2.0])


def test_sampler_data_source_warning():
    with pytest.warns(UserWarning, match="`data_source` argument is not used"):
        data(deeprnn).Sampler(range(3))
