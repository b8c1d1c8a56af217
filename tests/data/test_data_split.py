"""Train/validation splits: the contiguous tail, and char-rnn's split of every stream."""

import numpy as np
import pytest

from deeprnn.data import DataError, train_val_split


def test_tail_is_validation():
    ids = np.arange(100)
    train, val = train_val_split(ids, 0.1)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    train, val = train_val_split(ids, 0.25, seq_len=10)
    assert (len(train), len(val)) == (75, 25)
    train, val = train_val_split(ids, 0.0, seq_len=10)
    assert len(train) == 100 and len(val) == 0
    train, val = train_val_split(np.arange(7), 0.01)
    assert len(val) == 1  # a positive fraction never yields an empty validation part


@pytest.mark.parametrize("f", [1.0, 1.5, -0.1, float("nan"), "half"])
def test_fraction_is_validated(f):
    with pytest.raises(DataError, match="val_fraction"):
        train_val_split(np.arange(100), f)


def test_each_side_must_hold_a_sequence():
    ids = np.arange(100)
    with pytest.raises(DataError, match=r"validation part has 10 tokens.*needs 21"):
        train_val_split(ids, 0.1, seq_len=20)
    with pytest.raises(DataError, match=r"training part has 10 tokens.*needs 12"):
        train_val_split(ids, 0.9, seq_len=11)
    train_val_split(ids, 0.1, seq_len=9)  # 10 >= 9 + 1
    with pytest.raises(DataError, match="1-D"):
        train_val_split(np.zeros((2, 5)), 0.1)


# ---- char-rnn's split of every stream -------------------------------------------------------


def _char_rnn_batches(data: np.ndarray, N: int, T: int, fraction: float):
    """char-rnn's CharSplitLMMinibatchLoader, transcribed: its train and val (x, y) batches, (N, T) each."""
    data = data[: N * T * (len(data) // (N * T))]  # "cut off the end so that it divides evenly"
    ydata = data.copy()
    ydata[:-1] = data[1:]
    ydata[-1] = data[0]
    xs = np.split(data.reshape(N, -1), data.size // (N * T), axis=1)  # data:view(N, -1):split(T, 2)
    ys = np.split(ydata.reshape(N, -1), data.size // (N * T), axis=1)
    ntrain = int(np.floor(len(xs) * fraction))  # split_fractions[1] = 0.95
    return list(zip(xs[:ntrain], ys[:ntrain])), list(zip(xs[ntrain:], ys[ntrain:]))


@pytest.mark.parametrize("n, N, T", [(1003, 4, 10), (55_555, 50, 50), (9_999, 3, 7)])
def test_stream_split_gives_char_rnns_batches(n, N, T):
    from deeprnn.data import MappedBPTTBatches, stream_split

    ids = np.random.default_rng(n).integers(0, 65, n)
    train_ref, val_ref = _char_rnn_batches(ids, N, T, 0.95)
    train, val = stream_split(n, N, T, 0.05)
    for layout, ref in ((train, train_ref), (val, val_ref)):
        batches = MappedBPTTBatches(ids, N, T, batch_first=True, layout=layout)
        assert len(batches) == len(ref)
        for k, (x_ref, y_ref) in enumerate(ref):
            x, y = batches.batch(k)
            np.testing.assert_array_equal(x, x_ref)
            if layout is val and k == len(ref) - 1:  # char-rnn wraps its very last target to the first id
                np.testing.assert_array_equal(y.ravel()[:-1], y_ref.ravel()[:-1])
                assert y.ravel()[-1] == ids[N * layout.stride] and y_ref.ravel()[-1] == ids[0]
            else:
                np.testing.assert_array_equal(y, y_ref)


def test_stream_split_validates_and_the_layout_is_checked_on_resume():
    from deeprnn.data import MappedBPTTBatches, StreamLayout, stream_split

    with pytest.raises(DataError, match=r"1 chunk\(s\) of seq_len=10 in each of batch_size=4 streams"):
        stream_split(41, 4, 10, 0.05)
    with pytest.raises(DataError, match="0 < val_fraction < 1"):
        stream_split(1000, 4, 10, 0.0)
    with pytest.raises(DataError, match="batch_size must be a positive int"):
        stream_split(1000, 0, 10, 0.1)
    ids = np.arange(1000)
    with pytest.raises(DataError, match=r"layout \(300, 0, 220\) \(stride, offset, length\) does not fit 4 streams"):
        MappedBPTTBatches(ids, 4, 10, layout=StreamLayout(300, 0, 220))
    train, val = stream_split(1000, 4, 10, 0.05)
    a = MappedBPTTBatches(ids, 4, 10, layout=train)
    a.next_batch()
    b = MappedBPTTBatches(ids, 4, 10, layout=train)
    b.load_state_dict(a.state_dict())
    assert b.index == 1
    with pytest.raises(DataError, match=r"stream layout \[240, 0, 220\], now None"):
        MappedBPTTBatches(ids, 4, 10).load_state_dict(a.state_dict())
