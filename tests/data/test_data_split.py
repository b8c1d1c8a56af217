"""Contiguous train/validation split."""

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
