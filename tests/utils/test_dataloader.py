"""DataLoader against torch.utils.data.DataLoader: the same batches wherever the order is deterministic."""

from __future__ import annotations

import numpy as np
import pytest
from _data_helpers import data, same_error, same_in_both

import deeprnn


def _xy(lib, n=7):
    x = lib.tensor(np.arange(3.0 * n, dtype=np.float32).reshape(n, 3))
    y = lib.tensor(np.arange(n) % 3)
    return data(lib).TensorDataset(x, y)


def _records(lib, n=5):
    class Records(data(lib).Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            return {"id": i, "x": np.full(2, i, dtype=np.float64), "name": f"r{i}", "w": 0.5 * i}

    return Records()


def _stream(lib, n=7, with_len=True):
    base = data(lib).IterableDataset

    class Stream(base):
        def __iter__(self):
            for i in range(n):
                yield lib.tensor([float(i)]), i

    if with_len:
        Stream.__len__ = lambda self: n
    return Stream()


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 10])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_torch(batch_size, drop_last):
    def make(lib):
        loader = data(lib).DataLoader(_xy(lib), batch_size=batch_size, drop_last=drop_last)
        return [len(loader), list(loader), list(loader)]

    same_in_both(make)


def test_dict_samples_collate_as_torch():
    same_in_both(lambda lib: list(data(lib).DataLoader(_records(lib), batch_size=2)))


@pytest.mark.parametrize("batch_size", [1, 3, None])
@pytest.mark.parametrize("drop_last", [False, True])
def test_iterable_dataset_batches_and_len_match_torch(batch_size, drop_last):
    if batch_size is None and drop_last:
        return

    def make(lib):
        loader = data(lib).DataLoader(_stream(lib), batch_size=batch_size, drop_last=drop_last)
        return [len(loader), list(loader)]

    same_in_both(make)


def test_iterable_dataset_without_len():
    same_in_both(lambda lib: list(data(lib).DataLoader(_stream(lib, with_len=False), batch_size=4)))
    same_error(lambda lib: len(data(lib).DataLoader(_stream(lib, with_len=False), batch_size=4)))


def test_iterable_longer_than_its_len_warns():
    class Liar(data(deeprnn).IterableDataset):
        def __iter__(self):
            return iter(range(5))

        def __len__(self):
            return 2

    loader = data(deeprnn).DataLoader(Liar(), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(
        UserWarning, match=r"was reported to be 2\(when accessing len\(dataloader\)\), but \d samples have been fetched"
    ):
        assert [int(v) for v in loader] == [0, 1, 2, 3, 4]


def test_batch_size_none_converts_each_sample():
    same_in_both(lambda lib: list(data(lib).DataLoader(_records(lib, 2), batch_size=None)))


def test_custom_sampler_batch_sampler_and_collate_fn():
    def make(lib):
        d = data(lib)
        by_sampler = list(d.DataLoader(_xy(lib), batch_size=2, sampler=[6, 0, 3, 1]))
        by_batches = list(d.DataLoader(_xy(lib), batch_sampler=[[0, 1, 2], [5], [3, 4]]))
        lengths = [len(d.DataLoader(_xy(lib), batch_sampler=[[0, 1, 2], [5]])), len(d.DataLoader(_xy(lib)))]
        collated = list(d.DataLoader(range(5), batch_size=2, collate_fn=lambda b: sum(b)))
        return [by_sampler, by_batches, lengths, collated]

    same_in_both(make)


def test_datasets_with_getitems_are_fetched_in_one_call():
    calls = []

    class Batched(data(deeprnn).Dataset):
        def __len__(self):
            return 4

        def __getitems__(self, idx):
            calls.append(list(idx))
            return [i * 10 for i in idx]

    out = [b.tolist() for b in data(deeprnn).DataLoader(Batched(), batch_size=3)]
    assert out == [[0, 10, 20], [30]] and calls == [[0, 1, 2], [3]]


def test_shuffle_is_deterministic_from_generator_and_covers_everything():
    d = data(deeprnn)
    g = deeprnn.Generator(11)
    loader = d.DataLoader(_xy(deeprnn, 10), batch_size=4, shuffle=True, generator=g)

    def epoch(ld):
        return [(x[:, 0] / 3).long().tolist() for x, _ in ld]

    first, second = epoch(loader), epoch(loader)
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(10)) and first != second
    g.manual_seed(11)
    assert epoch(d.DataLoader(_xy(deeprnn, 10), batch_size=4, shuffle=True, generator=g)) == first


def test_shuffle_follows_manual_seed():
    d = data(deeprnn)

    def order():
        return [int(v) for b in d.DataLoader(range(20), batch_size=5, shuffle=True) for v in b]

    deeprnn.manual_seed(0)
    a, b = order(), order()
    deeprnn.manual_seed(0)
    assert order() == a and sorted(a) == list(range(20)) and a != b


def test_num_workers_runs_in_process_as_one_worker():
    d = data(deeprnn)
    seen = []

    class Sharded(d.IterableDataset):
        def __iter__(self):
            info = d.get_worker_info()
            seen.append((info.id, info.num_workers, info.dataset is self))
            return iter(range(info.id, 6, info.num_workers))

    init = []
    loader = d.DataLoader(Sharded(), batch_size=4, num_workers=2, worker_init_fn=init.append, persistent_workers=True)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]
    assert seen == [(0, 1, True)] and init == [0] and d.get_worker_info() is None
    same = d.DataLoader(_xy(deeprnn), batch_size=3, num_workers=3, prefetch_factor=4)
    ref = d.DataLoader(_xy(deeprnn), batch_size=3)
    assert [x.tolist() for x, _ in same] == [x.tolist() for x, _ in ref]


def test_pin_memory_warns_as_torch_without_accelerator():
    loader = data(deeprnn).DataLoader(range(3), pin_memory=True)
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        assert [b.tolist() for b in loader] == [[0], [1], [2]]


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: data(lib).DataLoader(range(3), num_workers=-1),
        lambda lib: data(lib).DataLoader(range(3), timeout=-1),
        lambda lib: data(lib).DataLoader(range(3), prefetch_factor=2),
        lambda lib: data(lib).DataLoader(range(3), num_workers=1, prefetch_factor=-1),
        lambda lib: data(lib).DataLoader(range(3), persistent_workers=True),
        lambda lib: data(lib).DataLoader(range(3), multiprocessing_context="spawn"),
        lambda lib: data(lib).DataLoader(_stream(lib), shuffle=True),
        lambda lib: data(lib).DataLoader(_stream(lib), sampler=[0]),
        lambda lib: data(lib).DataLoader(_stream(lib), batch_sampler=[[0]]),
        lambda lib: data(lib).DataLoader(range(3), sampler=[0], shuffle=True),
        lambda lib: data(lib).DataLoader(range(3), batch_sampler=[[0]], batch_size=2),
        lambda lib: data(lib).DataLoader(range(3), batch_sampler=[[0]], drop_last=True),
        lambda lib: data(lib).DataLoader(range(3), batch_size=None, drop_last=True),
        lambda lib: data(lib).DataLoader(range(3), batch_size=0),
        lambda lib: setattr(data(lib).DataLoader(range(3)), "batch_size", 2),
        lambda lib: setattr(data(lib).DataLoader(range(3)), "dataset", range(2)),
    ],
)
def test_dataloader_errors_match_torch(make):
    same_error(make)


def test_dataloader_iterator_has_len_and_attributes():
    loader = data(deeprnn).DataLoader(_xy(deeprnn), batch_size=3)
    it = iter(loader)
    assert len(it) == 3 and iter(it) is it
    assert loader.batch_size == 3 and loader.drop_last is False and loader.num_workers == 0
    loader.num_workers = 0  # not a frozen attribute
    with pytest.raises(StopIteration):
        for _ in range(4):
            next(it)


def test_utils_data_is_an_attribute_and_a_module_path():
    import importlib

    import deeprnn.utils.data as by_path

    assert deeprnn.utils.data is by_path is importlib.import_module("deeprnn.utils.data")
    assert by_path.DataLoader.__module__ == "deeprnn.utils.data.dataloader"
