"""Sliding-window dataset: the seq_len example from the tutorial notes, literally."""

import numpy as np
import pytest

from deeprnn.data import DataError, SlidingWindows, WindowLoader, sliding_windows

# "1-2-3, 2-3-4, 3-4-5, 4-5-6, 5-6-7, 6-7-8, 7-8-9, 8-9-10, 9-10-0, 10-0-0"
DOC_WINDOWS = [
    [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6], [5, 6, 7],
    [6, 7, 8], [7, 8, 9], [8, 9, 10], [9, 10, 0], [10, 0, 0],
]  # fmt: skip
# batch_size=2, batch_first=True: five batches, the last one 9-10-0, 10-0-0
DOC_BATCHES = [
    [[1, 2, 3], [2, 3, 4]],
    [[3, 4, 5], [4, 5, 6]],
    [[5, 6, 7], [6, 7, 8]],
    [[7, 8, 9], [8, 9, 10]],
    [[9, 10, 0], [10, 0, 0]],
]
SAMPLES = list(range(1, 11))


def test_doc_windows_scalar_samples():
    ds = SlidingWindows(SAMPLES, seq_len=3)
    assert len(ds) == 10
    assert ds.windows.tolist() == DOC_WINDOWS
    assert ds[0].tolist() == [1, 2, 3]
    assert ds[-1].tolist() == [10, 0, 0]
    assert ds.lengths.tolist() == [3] * 8 + [2, 1]


def test_doc_batches_batch_first():
    loader = WindowLoader(SlidingWindows(SAMPLES, 3), batch_size=2, batch_first=True)
    batches = list(loader)
    assert len(loader) == 5 == len(batches)
    assert [b.tolist() for b in batches] == DOC_BATCHES
    assert all(b.shape == (2, 3) for b in batches)


def test_doc_batches_with_feature_vectors():
    # each sample i is a feature vector (i, 10*i, -i): shape (10, F=3)
    feats = np.array([[i, 10 * i, -i] for i in SAMPLES], dtype=np.float64)
    loader = WindowLoader(SlidingWindows(feats, seq_len=3), batch_size=2, batch_first=True)
    batches = list(loader)
    assert len(batches) == 5
    for b, want in zip(batches, DOC_BATCHES, strict=True):
        assert b.shape == (2, 3, 3)  # (B, seq_len, feature_dims)
        want = np.array(want, dtype=np.float64)
        np.testing.assert_array_equal(b[..., 0], want)
        np.testing.assert_array_equal(b[..., 1], 10 * want)
        np.testing.assert_array_equal(b[..., 2], -want)
    assert batches[0].dtype == np.float64


def test_batch_first_false_is_time_major():
    feats = np.arange(1, 11, dtype=np.float32)[:, None].repeat(4, axis=1)  # (10, 4)
    ds = SlidingWindows(feats, seq_len=3)
    tm = list(WindowLoader(ds, batch_size=2, batch_first=False))
    bm = list(WindowLoader(ds, batch_size=2, batch_first=True))
    assert tm[0].shape == (3, 2, 4)  # (seq_len, B, F)
    for a, b in zip(tm, bm, strict=True):
        np.testing.assert_array_equal(a, np.swapaxes(b, 0, 1))
    # time-major, first batch: step t holds samples t+1 and t+2
    assert tm[0][:, :, 0].tolist() == [[1, 2], [2, 3], [3, 4]]
    scalar = list(WindowLoader(SlidingWindows(SAMPLES, 3), 2, batch_first=False))
    assert scalar[-1].tolist() == [[9, 10], [10, 0], [0, 0]]


def test_stride_and_no_pad():
    assert sliding_windows(SAMPLES, 3, stride=2).tolist() == [
        [1, 2, 3], [3, 4, 5], [5, 6, 7], [7, 8, 9], [9, 10, 0],
    ]  # fmt: skip
    assert sliding_windows(SAMPLES, 3, stride=3, pad=False).tolist() == [
        [1, 2, 3], [4, 5, 6], [7, 8, 9],
    ]  # fmt: skip
    assert sliding_windows(SAMPLES, 3, pad=False).tolist() == DOC_WINDOWS[:8]
    assert sliding_windows(SAMPLES, 4, stride=4, pad_value=-1).tolist() == [
        [1, 2, 3, 4], [5, 6, 7, 8], [9, 10, -1, -1],
    ]  # fmt: skip


def test_drop_last():
    ds = SlidingWindows(SAMPLES, 3)  # 10 windows
    keep = list(WindowLoader(ds, batch_size=3))
    drop = list(WindowLoader(ds, batch_size=3, drop_last=True))
    assert [len(b) for b in keep] == [3, 3, 3, 1]
    assert [len(b) for b in drop] == [3, 3, 3]
    assert keep[-1].tolist() == [[10, 0, 0]]
    assert len(WindowLoader(ds, 3)) == 4 and len(WindowLoader(ds, 3, drop_last=True)) == 3


def test_shuffle_is_seeded_and_covers_every_window():
    ds = SlidingWindows(np.arange(100), seq_len=5)

    def firsts(loader, epochs=2):
        return [[int(w[0]) for b in loader for w in b] for _ in range(epochs)]

    a = firsts(WindowLoader(ds, 8, shuffle=True, seed=123))
    b = firsts(WindowLoader(ds, 8, shuffle=True, seed=123))
    c = firsts(WindowLoader(ds, 8, shuffle=True, seed=124))
    g = firsts(WindowLoader(ds, 8, shuffle=True, seed=np.random.default_rng(123)))
    assert a == b == g
    assert a != c
    assert a[0] != a[1]  # a new permutation each epoch
    for epoch in a + c:
        assert sorted(epoch) == list(range(100))  # each window exactly once
    assert a[0] != list(range(100))
    unshuffled = firsts(WindowLoader(ds, 8), epochs=1)[0]
    assert unshuffled == list(range(100))


def test_targets_are_windowed_alongside():
    ids = np.arange(1, 12)
    ds = SlidingWindows(ids[:-1], seq_len=3, targets=ids[1:])
    x, y = ds[0]
    assert x.tolist() == [1, 2, 3] and y.tolist() == [2, 3, 4]
    xb, yb = next(iter(WindowLoader(ds, 2, batch_first=False)))
    assert xb.shape == yb.shape == (3, 2)
    np.testing.assert_array_equal(yb[:-1], xb[1:])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(samples=[1, 2], seq_len=0), "seq_len"),
        (dict(samples=[1, 2], seq_len=2, stride=0), "stride"),
        (dict(samples=[], seq_len=2), "empty"),
        (dict(samples=[1, 2], seq_len=3, pad=False), "at least seq_len=3"),
        (dict(samples=[1, 2], seq_len=2, targets=[1]), "same length"),
    ],
)
def test_window_errors(kwargs, match):
    with pytest.raises(DataError, match=match):
        SlidingWindows(**kwargs)


def test_loader_errors():
    ds = SlidingWindows(SAMPLES, 3)
    with pytest.raises(DataError, match="batch_size"):
        WindowLoader(ds, 0)
    with pytest.raises(DataError, match="seed"):
        WindowLoader(ds, 2, shuffle=True, seed="abc")
    with pytest.raises(DataError, match="no batch"):
        WindowLoader(ds, 11, drop_last=True)


def test_getitem_and_take_agree_with_windows():
    feats = np.arange(40, dtype=np.int64).reshape(20, 2)  # (n=20, F=2)
    ds = SlidingWindows(feats, seq_len=4, stride=3)
    assert len(ds) == 7  # starts 0, 3, ..., 18
    all_w = ds.windows
    assert all_w.shape == (7, 4, 2)
    for i in range(-7, 7):
        np.testing.assert_array_equal(ds[i], all_w[i])
    np.testing.assert_array_equal(ds.take([6, 0, 2]), all_w[[6, 0, 2]])
    assert ds[6].tolist() == [[36, 37], [38, 39], [0, 0], [0, 0]]
    with pytest.raises(IndexError):
        ds[7]
