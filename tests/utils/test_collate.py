"""default_collate and default_convert against torch.utils.data: types, dtypes, shapes and errors."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest
from _data_helpers import data, plain, same_error, same_in_both

import deeprnn

Point = namedtuple("Point", ["x", "y"])


def _tensor(lib, values, dtype=None):
    return lib.tensor(np.asarray(values, dtype=dtype))


CASES = {
    "tensors": lambda lib: [_tensor(lib, [[1.0, 2.0]], np.float32), _tensor(lib, [[3.0, 4.0]], np.float32)],
    "int-tensors": lambda lib: [_tensor(lib, [1, 2]), _tensor(lib, [3, 4])],
    "0-d-tensors": lambda lib: [_tensor(lib, 1.5, np.float64), _tensor(lib, 2.5, np.float64)],
    "numpy-arrays": lambda lib: [np.arange(3.0), np.arange(3.0) + 1],
    "numpy-int32": lambda lib: [np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32)],
    "numpy-scalars-f64": lambda lib: [np.float64(1.5), np.float64(2.0)],
    "numpy-scalars-f32": lambda lib: [np.float32(1.5), np.float32(2.0)],
    "numpy-scalars-i32": lambda lib: [np.int32(1), np.int32(2)],
    "numpy-bool": lambda lib: [np.bool_(True), np.bool_(False)],
    "floats-are-float64": lambda lib: [1.5, 2.5, 3.0],
    "ints-are-int64": lambda lib: [1, 2, 3],
    "bools": lambda lib: [True, False],
    "strings": lambda lib: ["a", "bc"],
    "bytes": lambda lib: [b"a", b"bc"],
    "tuples-become-lists": lambda lib: [(1, "a", 0.5), (2, "b", 1.5)],
    "lists": lambda lib: [[1, 2.0], [3, 4.0]],
    "dicts": lambda lib: [
        {"x": 1, "y": _tensor(lib, [1.0], np.float32)},
        {"x": 2, "y": _tensor(lib, [2.0], np.float32)},
    ],
    "ordered-dicts": lambda lib: [OrderedDict(b=1, a=2.0), OrderedDict(b=3, a=4.0)],
    "namedtuples": lambda lib: [Point(1, np.array([1.0])), Point(2, np.array([2.0]))],
    "nested": lambda lib: [
        ({"ids": [1, 2], "x": _tensor(lib, [0.5], np.float32)}, "s1"),
        ({"ids": [3, 4], "x": _tensor(lib, [1.5], np.float32)}, "s2"),
    ],
}


@pytest.mark.parametrize("name", list(CASES))
def test_default_collate_matches_torch(name):
    same_in_both(lambda lib: data(lib).default_collate(CASES[name](lib)))


def test_default_collate_keeps_mapping_and_namedtuple_types():
    out = data(deeprnn).default_collate(CASES["ordered-dicts"](deeprnn))
    assert type(out) is OrderedDict and list(out) == ["b", "a"]
    out = data(deeprnn).default_collate(CASES["namedtuples"](deeprnn))
    assert type(out) is Point and out.y.dtype == np.float64


@pytest.mark.parametrize(
    "batch",
    [
        lambda lib: [np.array(["a"]), np.array(["b"])],
        lambda lib: [object(), object()],
        lambda lib: [[1, 2], [1]],
        lambda lib: [lib.zeros(2), lib.zeros(3)],
        lambda lib: [None, None],
    ],
    ids=["string-array", "object", "ragged-lists", "ragged-tensors", "none"],
)
def test_default_collate_errors_match_torch(batch):
    same_error(lambda lib: data(lib).default_collate(batch(lib)))


@pytest.mark.parametrize(
    "sample",
    [
        lambda lib: np.array([1, 2], dtype=np.int32),
        lambda lib: np.float64(2.0),
        lambda lib: (np.array([1.0]), 2, "s"),
        lambda lib: {"a": np.array([1.0]), "b": [np.int64(3)]},
        lambda lib: Point(np.array(0), 1),
        lambda lib: np.array(["text"]),
        lambda lib: 3.5,
    ],
)
def test_default_convert_matches_torch(sample):
    same_in_both(lambda lib: data(lib).default_convert(sample(lib)))


def test_collate_with_a_custom_map_extends_default():
    d = data(deeprnn)

    def as_sum(batch, *, collate_fn_map=None):
        return sum(batch)

    out = d.collate([(1, 2.0), (3, 4.0)], collate_fn_map={int: as_sum, float: as_sum})
    assert out == [4, 6.0]
    assert plain(d.default_collate([1])) == ("tensor", "int64", (1,), [1])
