"""Contiguous truncated-BPTT batches: shift, stream continuity, epochs, resume."""

import json

import numpy as np
import pytest

from deeprnn.data import BPTTBatches, DataError


def test_streams_shift_and_layout():
    # ids 0..100 (n=101): 4 streams of L=(101-1)//4=25 inputs; y is x shifted by one.
    b = BPTTBatches(np.arange(101), batch_size=4, seq_len=5)
    assert len(b) == 5
    x, y = next(iter(b))
    assert x.shape == y.shape == (5, 4)  # (seq_len, batch)
    assert x.dtype == y.dtype == np.int64
    # stream i starts at i*25
    assert x.tolist() == [[t + 25 * i for i in range(4)] for t in range(5)]
    np.testing.assert_array_equal(y, x + 1)


def test_batch_first_shapes():
    tm = list(BPTTBatches(np.arange(101), 4, 5))
    bm = list(BPTTBatches(np.arange(101), 4, 5, batch_first=True))
    assert bm[0][0].shape == (4, 5)
    for (xt, yt), (xb, yb) in zip(tm, bm, strict=True):
        np.testing.assert_array_equal(xt.T, xb)
        np.testing.assert_array_equal(yt.T, yb)


def test_streams_continue_across_batches():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 50, size=1003)
    B, T = 3, 7
    batches = list(BPTTBatches(ids, B, T))
    L = (1003 - 1) // B
    assert len(batches) == L // T
    for (x0, y0), (x1, y1) in zip(batches, batches[1:]):
        # the last target of batch k, stream i, is the first input of batch k+1, stream i
        np.testing.assert_array_equal(y0[-1], x1[0])
    # reassembled, each stream is a contiguous slice of the text
    xs = np.concatenate([x for x, _ in batches], axis=0)  # (time, B)
    ys = np.concatenate([y for _, y in batches], axis=0)
    for i in range(B):
        np.testing.assert_array_equal(xs[:, i], ids[i * L : i * L + xs.shape[0]])
        np.testing.assert_array_equal(ys[:, i], ids[i * L + 1 : i * L + 1 + xs.shape[0]])


def test_drop_last_false_keeps_short_tail():
    b = BPTTBatches(np.arange(101), 4, 10, drop_last=False)  # L=25: 10, 10, 5
    shapes = [x.shape for x, _ in b]
    assert shapes == [(10, 4), (10, 4), (5, 4)]
    assert len(BPTTBatches(np.arange(101), 4, 10)) == 2


def test_epochs_and_reset_flags():
    b = BPTTBatches(np.arange(101), 4, 5)
    first = [x.copy() for x, _ in b]
    assert b.epoch == 1 and b.index == 0
    second = [x.copy() for x, _ in b]
    assert len(first) == len(second) == 5
    for a, c in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, c)
    steps = [b.next_batch() for _ in range(11)]
    assert [s.reset for s in steps] == [True, False, False, False, False] * 2 + [True]
    assert [s.epoch for s in steps] == [2] * 5 + [3] * 5 + [4]
    assert [s.index for s in steps] == [0, 1, 2, 3, 4] * 2 + [0]


def test_state_round_trip_resumes_identically():
    ids = np.random.default_rng(1).integers(0, 30, size=500)
    a = BPTTBatches(ids, 2, 8)
    it = iter(a)
    next(it), next(it), next(it)
    state = json.loads(json.dumps(a.state_dict()))  # JSON-safe
    assert state["epoch"] == 0 and state["index"] == 3
    rest_a = [a.next_batch() for _ in range(len(a) + 4)]  # rest of epoch + into the next

    b = BPTTBatches(ids, 2, 8)
    b.load_state_dict(state)
    rest_b = [b.next_batch() for _ in range(len(b) + 4)]
    for sa, sb in zip(rest_a, rest_b, strict=True):
        np.testing.assert_array_equal(sa.x, sb.x)
        np.testing.assert_array_equal(sa.y, sb.y)
        assert (sa.reset, sa.epoch, sa.index) == (sb.reset, sb.epoch, sb.index)
    # the position saved is mid-epoch: the first resumed batch is batch 3 of epoch 0
    np.testing.assert_array_equal(rest_b[0].x, BPTTBatches(ids, 2, 8).batch(3)[0])

    c = BPTTBatches(ids, 2, 8)
    c.load_state_dict(state)
    assert len(list(c)) == len(c) - 3  # a for-loop finishes the interrupted epoch


def test_load_state_rejects_other_data_or_geometry():
    ids = np.arange(200)
    state = BPTTBatches(ids, 2, 8).state_dict()
    with pytest.raises(DataError, match="seq_len"):
        BPTTBatches(ids, 2, 9).load_state_dict(state)
    with pytest.raises(DataError, match="fingerprint"):
        BPTTBatches(ids[::-1].copy(), 2, 8).load_state_dict(state)
    with pytest.raises(DataError, match="missing"):
        BPTTBatches(ids, 2, 8).load_state_dict({"epoch": 0})
    bad = dict(state, index=999)
    with pytest.raises(DataError, match="out of range"):
        BPTTBatches(ids, 2, 8).load_state_dict(bad)


def test_too_short_text_error_names_lengths():
    with pytest.raises(DataError, match=r"need at least .* = 21 tokens.*got 20"):
        BPTTBatches(np.arange(20), batch_size=4, seq_len=5)
    BPTTBatches(np.arange(21), batch_size=4, seq_len=5)  # exactly enough
    with pytest.raises(DataError, match="1-D"):
        BPTTBatches(np.zeros((3, 40), dtype=np.int64), 1, 5)
    with pytest.raises(DataError, match="integers"):
        BPTTBatches(np.linspace(0, 1, 50), 1, 5)
    with pytest.raises(DataError, match="seq_len"):
        BPTTBatches(np.arange(50), 1, 0)
