"""deeprnn.nn.functional against torch.nn.functional 2.13: activations, softmax, linear, embedding, one_hot."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layers_parity import check_parity, rng_for, same_error

import deeprnn

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((6,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((), 0)])
def test_softmax_family_matches_torch(dtype, name, shape, dim):
    x = (rng_for(name, shape, dim).standard_normal(shape) * 4).astype(dtype)
    check_parity(
        lambda lib, m, a: getattr(lib.nn.functional, name)(a, dim=dim),
        [x],
        dtype=dtype,
        seed=(name, shape, dim),
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_stable_for_huge_inputs(name):
    x = np.array([[1e4, -1e4, 3.0], [-800.0, -790.0, -810.0]])
    check_parity(lambda lib, m, a: getattr(lib.nn.functional, name)(a, 1), [x])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 2, 2, 2)])
def test_softmax_implicit_dim_warns_and_picks_torch_dim(name, shape):
    x = rng_for("implicit", shape).standard_normal(shape)

    def fn(lib, m, a):
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been deprecated"):
            return getattr(lib.nn.functional, name)(a)

    check_parity(fn, [x])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_dtype_argument_casts_first(name):
    x = rng_for("dt").standard_normal((3, 4)).astype(np.float32)
    ours, ref = check_parity(
        lambda lib, m, a: getattr(lib.nn.functional, name)(a, 1, dtype=lib.float64),
        [x],
        dtype=np.float64,
    )
    assert ours.dtype == np.float64


def test_top_level_softmax_and_log_softmax():
    x = rng_for("top").standard_normal((3, 4))
    check_parity(lambda lib, m, a: lib.softmax(a, 1) * lib.log_softmax(a, 0), [x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_activations_match_torch(dtype, name):
    x = rng_for(name).standard_normal((4, 5)).astype(dtype)
    check_parity(lambda lib, m, a: getattr(lib.nn.functional, name)(a), [x], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 4, 3)])
def test_linear_functional_matches_torch(dtype, bias, shape):
    key = ("flin", dtype, bias, shape)
    arrays = [
        rng_for("x", key).standard_normal(shape).astype(dtype),
        rng_for("w", key).standard_normal((4, 3)).astype(dtype),
    ]
    if bias:
        arrays.append(rng_for("b", key).standard_normal(4).astype(dtype))
    check_parity(lambda lib, m, *t: lib.nn.functional.linear(*t), arrays, dtype=dtype, seed=key)


@pytest.mark.parametrize("padding_idx", [None, 1, -2])
def test_embedding_functional_matches_torch(padding_idx):
    idx = np.array([[0, 1, 1], [3, 2, 1]])
    w = rng_for("femb").standard_normal((4, 3))
    check_parity(lambda lib, m, i, ww: lib.nn.functional.embedding(i, ww, padding_idx=padding_idx), [idx, w])


@pytest.mark.parametrize("num_classes", [-1, 6])
@pytest.mark.parametrize("shape", [(5,), (2, 3), ()])
def test_one_hot_matches_torch(num_classes, shape):
    t = rng_for("oh", shape).integers(0, 5, shape)
    ours = deeprnn.nn.functional.one_hot(deeprnn.tensor(t), num_classes)
    ref = torch.nn.functional.one_hot(torch.tensor(t), num_classes)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.detach().numpy(), ref.numpy())


@pytest.mark.parametrize(
    "case",
    [
        lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 3]), 2),
        lambda lib: lib.nn.functional.one_hot(lib.tensor([0, -1]), 2),
        lambda lib: lib.nn.functional.one_hot(lib.tensor([0.0, 1.0])),
        lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 1], dtype=lib.int32)),
        lambda lib: lib.nn.functional.one_hot(lib.zeros(0, dtype=lib.int64)),
        lambda lib: lib.nn.functional.softmax(lib.ones(3, 4), 2),
        lambda lib: lib.nn.functional.log_softmax(lib.ones(3, 4), -3),
        lambda lib: lib.nn.functional.softmax(lib.tensor([1, 2]), 0),
        lambda lib: lib.nn.functional.linear(lib.ones(2, 5), lib.ones(4, 3)),
        lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.ones(4, 3), lib.ones(5)),
        lambda lib: lib.nn.functional.dropout(lib.ones(3), 1.5),
    ],
)
def test_functional_errors_match_torch(case):
    same_error(case)
