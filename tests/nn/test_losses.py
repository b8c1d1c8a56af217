"""CrossEntropyLoss, NLLLoss and MSELoss (modules and functional forms) against torch 2.13."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layers_parity import check_parity, rng_for, same_error

import deeprnn
from oracle import assert_close

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]
# (input shape, target shape): 1-D, 2-D and higher-dimensional inputs, class dim 1
SHAPES = [((5,), ()), ((4, 5), (4,)), ((3, 5, 2), (3, 2)), ((2, 5, 3, 2), (2, 3, 2))]


def _targets(shape, C, key, ignore=False):
    t = rng_for("t", key).integers(0, C, shape)
    if ignore and t.ndim:
        t.flat[::3] = -100 if ignore is True else ignore
    return t


def _weight(lib, w, dtype):
    return None if w is None else lib.tensor(w.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("ignore", [False, True, 1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_matches_torch(dtype, reduction, shapes, ignore, weighted):
    xs, ts = shapes
    key = (dtype, reduction, shapes, ignore, weighted)
    x = (rng_for("x", key).standard_normal(xs) * 3).astype(dtype)
    t = _targets(ts, 5, key, ignore)
    w = rng_for("w", key).uniform(0.5, 2, 5) if weighted else None
    ii = ignore if isinstance(ignore, int) and not isinstance(ignore, bool) else -100

    def module(lib, m, a, b):
        return lib.nn.CrossEntropyLoss(weight=_weight(lib, w, dtype), ignore_index=ii, reduction=reduction)(a, b)

    def functional(lib, m, a, b):
        return lib.nn.functional.cross_entropy(
            a, b, weight=_weight(lib, w, dtype), ignore_index=ii, reduction=reduction
        )

    check_parity(module, [x, t], dtype=dtype, seed=key)
    check_parity(functional, [x, t], dtype=dtype, seed=key)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", SHAPES[1:3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.1, 0.7])
def test_cross_entropy_label_smoothing_matches_torch(dtype, reduction, shapes, weighted, smoothing):
    xs, ts = shapes
    key = ("ls", dtype, reduction, shapes, weighted, smoothing)
    x = rng_for("x", key).standard_normal(xs).astype(dtype)
    t = _targets(ts, 5, key, ignore=True)
    w = rng_for("w", key).uniform(0.5, 2, 5) if weighted else None
    check_parity(
        lambda lib, m, a, b: lib.nn.functional.cross_entropy(
            a, b, weight=_weight(lib, w, dtype), reduction=reduction, label_smoothing=smoothing
        ),
        [x, t],
        dtype=dtype,
        seed=key,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (3, 5, 2), (5,)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets_match_torch(dtype, reduction, shape, weighted, smoothing):
    key = ("prob", dtype, reduction, shape, weighted, smoothing)
    x = rng_for("x", key).standard_normal(shape).astype(dtype)
    y = rng_for("y", key).uniform(0, 1, shape).astype(dtype)
    w = rng_for("w", key).uniform(0.5, 2, 5) if weighted else None
    check_parity(
        lambda lib, m, a, b: lib.nn.functional.cross_entropy(
            a, b, weight=_weight(lib, w, dtype), reduction=reduction, label_smoothing=smoothing
        ),
        [x, y],
        dtype=dtype,
        seed=key,
    )


def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 1.0]])
    t = np.array([0, 2])
    check_parity(lambda lib, m, a, b: lib.nn.functional.cross_entropy(a, b), [x, t])


def test_cross_entropy_all_ignored_and_empty_batch_as_torch():
    for lib_call in (
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.tensor([-100, -100, -100])),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(0, 5), lib.zeros(0, dtype=lib.int64)),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(0, 5), lib.zeros(0, dtype=lib.int64), reduction="sum"),
    ):
        ours, ref = lib_call(deeprnn), lib_call(torch)
        np.testing.assert_array_equal(ours.detach().numpy(), ref.numpy())


def test_cross_entropy_large_lm_shape_one_graph_node():
    x = deeprnn.randn(64 * 35, 500, requires_grad=True)
    loss = deeprnn.nn.functional.cross_entropy(x, deeprnn.randint(0, 500, (64 * 35,)))
    assert loss.grad_fn.name() == "NllLossBackward0" and loss.grad_fn.inputs[0] is x
    loss.backward()
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(dtype, reduction, shapes, weighted):
    xs, ts = shapes
    key = ("nll", dtype, reduction, shapes, weighted)
    x = rng_for("x", key).standard_normal(xs).astype(dtype)
    t = _targets(ts, 5, key, ignore=True)
    w = rng_for("w", key).uniform(0.5, 2, 5) if weighted else None

    def fn(lib, m, a, b):
        logp = lib.nn.functional.log_softmax(a, dim=0 if a.dim() == 1 else 1)
        return lib.nn.NLLLoss(weight=_weight(lib, w, dtype), reduction=reduction)(logp, b)

    check_parity(fn, [x, t], dtype=dtype, seed=key)
    t2 = _targets(ts, 5, key)  # ignore a valid class instead of the default -100
    check_parity(
        lambda lib, m, a, b: lib.nn.functional.nll_loss(a, b, reduction=reduction, ignore_index=2),
        [x, t2],
        dtype=dtype,
        seed=key,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (2, 3, 4)])
def test_mse_loss_matches_torch(dtype, reduction, shape):
    key = ("mse", dtype, reduction, shape)
    x = rng_for("x", key).standard_normal(shape).astype(dtype)
    y = rng_for("y", key).standard_normal(shape).astype(dtype)
    check_parity(
        lambda lib, m, a, b: lib.nn.MSELoss(reduction=reduction)(a, b),
        [x, y],
        dtype=dtype,
        seed=key,
    )
    check_parity(
        lambda lib, m, a, b: lib.nn.functional.mse_loss(a, b, reduction=reduction),
        [x, y],
        dtype=dtype,
        seed=key,
    )


def test_mse_loss_broadcast_warns_like_torch():
    x = rng_for("bx").standard_normal((3, 4))
    y = rng_for("by").standard_normal((4,))

    def fn(lib, m, a, b):
        with pytest.warns(UserWarning, match="Using a target size") as rec:
            out = lib.nn.functional.mse_loss(a, b)
        fn.messages.append(str(rec[0].message).replace("deeprnn.", "torch."))
        return out

    fn.messages = []
    check_parity(fn, [x, y])
    assert fn.messages[0] == fn.messages[1]


def test_loss_reprs_and_weight_buffer():
    w = np.array([1.0, 2.0, 3.0])
    ours = deeprnn.nn.CrossEntropyLoss(weight=deeprnn.tensor(w), reduction="sum")
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), reduction="sum")
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight"]
    assert repr(deeprnn.nn.MSELoss()) == repr(torch.nn.MSELoss())
    assert repr(deeprnn.nn.NLLLoss()) == repr(torch.nn.NLLLoss())


@pytest.mark.parametrize(
    "case",
    [
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.tensor([0, 1, 7])),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.tensor([0, 1, -3])),
        lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(3, 5), lib.tensor([0, 1])),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 5, 4), lib.zeros(2, 5, dtype=lib.int64)),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 5, 4), lib.tensor([0, 1])),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(5), lib.tensor([1, 2])),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.tensor([0.0, 1.0, 2.0])),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.tensor([0, 1, 2], dtype=lib.int32)),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.ones(3, 4)),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.tensor([0, 1, 2]), reduction="avg"),
        lambda lib: lib.nn.CrossEntropyLoss(reduction="avg")(lib.ones(3, 5), lib.tensor([0, 1, 2])),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.tensor([0, 1, 2]), weight=lib.ones(4)),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.tensor([0, 1, 2]), label_smoothing=1.5),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 5), lib.tensor([[0], [1], [2]])),
        lambda lib: lib.nn.functional.nll_loss(lib.ones(3, 5), lib.tensor([0, 1, 7])),
        lambda lib: lib.nn.NLLLoss()(lib.ones(3, 5), lib.tensor([0, 1])),
        lambda lib: lib.nn.functional.nll_loss(lib.tensor(1.0), lib.tensor(1)),
        lambda lib: lib.nn.functional.mse_loss(lib.ones(3, 5), lib.ones(3, 4)),
    ],
    ids=lambda f: "",
)
def test_loss_errors_match_torch(case):
    with pytest.warns(UserWarning) if "mse_loss(lib.ones(3, 5), lib.ones(3, 4))" in _src(case) else _null():
        same_error(case)


def _src(fn):
    import inspect

    return inspect.getsource(fn)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_deprecated_size_average_reduce_warn_and_map_like_torch():
    x = rng_for("sa").standard_normal((4, 3))
    t = np.array([0, 1, 2, 1])
    for kwargs in (
        {"size_average": False},
        {"reduce": False},
        {"size_average": True, "reduce": True},
    ):

        def fn(lib, m, a, b, kwargs=kwargs):
            with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
                return lib.nn.functional.cross_entropy(a, b, **kwargs)

        check_parity(fn, [x, t])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_over_a_large_vocabulary_matches_torch(dtype, smoothing):
    # A char-level Chinese batch's shape: the log-softmax sums exp in blocks of rows, and the backward
    # works in place (nn/loss_functions.py); both must still give torch's numbers.
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((96, 3503)) * 4).astype(dtype)
    t = rng.integers(0, 3503, 96)
    ours, theirs = deeprnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo = deeprnn.nn.functional.cross_entropy(ours, deeprnn.tensor(t), label_smoothing=smoothing)
    lt = torch.nn.functional.cross_entropy(theirs, torch.tensor(t), label_smoothing=smoothing)
    (lo * 3).backward()
    (lt * 3).backward()
    assert_close(lo, lt, what="loss")
    assert_close(ours.grad, theirs.grad, what="grad")
