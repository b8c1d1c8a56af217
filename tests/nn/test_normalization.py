"""BatchNorm1d/2d, LayerNorm, Flatten/Unflatten and channel dropout against torch 2.13."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layers_parity import assert_close, check_parity, rng_for, same_error

import deeprnn

DTYPES = [np.float64, np.float32]


def _name(dtype):
    return np.dtype(dtype).name


def _bn(cls, **kw):
    return lambda lib, dtype: getattr(lib.nn, cls)(3, dtype=getattr(lib, _name(dtype)), **kw)


BN_CASES = {
    "default": ("BatchNorm1d", {}),
    "momentum-None": ("BatchNorm1d", {"momentum": None}),
    "momentum-0.5": ("BatchNorm1d", {"momentum": 0.5}),
    "no-affine": ("BatchNorm1d", {"affine": False}),
    "no-bias": ("BatchNorm1d", {"bias": False}),
    "no-running-stats": ("BatchNorm1d", {"track_running_stats": False}),
    "eps": ("BatchNorm1d", {"eps": 1e-2}),
    "2d": ("BatchNorm2d", {}),
}
SHAPES = {"BatchNorm1d": [(6, 3), (4, 3, 5)], "BatchNorm2d": [(2, 3, 4, 5)]}
BN_PARAMS = [(k, s) for k, (c, _) in BN_CASES.items() for s in SHAPES[c]]


def _randomised(lib, m):
    """Non-trivial affine parameters (the same draws for both libraries)."""
    with torch.no_grad():
        for name, p in m.named_parameters() if lib is torch else []:
            p.copy_(torch.tensor(rng_for("bn-param", name).uniform(0.5, 1.5, p.shape)))
    return m


def _step(mods, x, dtype, seed):
    """One forward/backward of both modules on x; compare output, input and parameter gradients."""
    outs, ins = {}, {}
    for lib, m in mods.items():
        ins[lib] = lib.tensor(x, requires_grad=True)
        outs[lib] = m(ins[lib])
    assert_close(outs[deeprnn], outs[torch], dtype, "forward")
    g = rng_for("upstream", seed, x.shape).standard_normal(x.shape).astype(dtype)
    for lib in mods:
        outs[lib].backward(lib.tensor(g))
    assert_close(ins[deeprnn].grad, ins[torch].grad, dtype, "grad of input")
    ref = dict(mods[torch].named_parameters())
    for name, p in mods[deeprnn].named_parameters():
        assert_close(p.grad, ref[name].grad, dtype, f"grad of {name}")
        p.grad, ref[name].grad = None, None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case,shape", BN_PARAMS, ids=[f"{k}-{s}" for k, s in BN_PARAMS])
def test_batch_norm_training_steps_match_torch(case, shape, dtype):
    cls, kw = BN_CASES[case]
    make = _bn(cls, **kw)
    ref = _randomised(torch, make(torch, dtype))
    ours = make(deeprnn, dtype)
    ours.load_state_dict(ref.state_dict())
    assert list(ours.state_dict()) == list(ref.state_dict())
    mods = {torch: ref, deeprnn: ours}
    for step in range(3):  # the running statistics accumulate over several batches, each library its own
        _step(mods, (2 * rng_for("bn", case, shape, step).standard_normal(shape) + step).astype(dtype), dtype, step)
    for name, value in ref.state_dict().items():
        if value.dtype.is_floating_point:
            assert_close(ours.state_dict()[name], value, dtype, name)
        else:
            assert ours.state_dict()[name].item() == value.item() == 3 and name == "num_batches_tracked"
    ref.eval(), ours.eval()
    _step(mods, rng_for("bn-eval", case, shape).standard_normal(shape).astype(dtype), dtype, 9)


def test_batch_norm_running_statistics_and_counter():
    ours, ref = deeprnn.nn.BatchNorm1d(2, momentum=None), torch.nn.BatchNorm1d(2, momentum=None)
    for step in range(4):
        x = rng_for("bn-cma", step).standard_normal((5, 2))
        ours(deeprnn.tensor(x, dtype=deeprnn.float32)), ref(torch.tensor(x, dtype=torch.float32))
    assert ours.num_batches_tracked.item() == ref.num_batches_tracked.item() == 4
    assert ours.num_batches_tracked.dtype == np.int64
    assert_close(ours.running_mean, ref.running_mean, np.float32, "running_mean")
    assert_close(ours.running_var, ref.running_var, np.float32, "running_var")
    ours.reset_running_stats()
    assert ours.num_batches_tracked.item() == 0 and ours.running_var.tolist() == [1.0, 1.0]


def test_batch_norm_repr_and_state_dict_names():
    for kw in ({}, {"affine": False}, {"track_running_stats": False}, {"momentum": None, "eps": 1e-3}):
        assert repr(deeprnn.nn.BatchNorm1d(4, **kw)) == repr(torch.nn.BatchNorm1d(4, **kw))
        assert list(deeprnn.nn.BatchNorm1d(4, **kw).state_dict()) == list(torch.nn.BatchNorm1d(4, **kw).state_dict())
    assert repr(deeprnn.nn.BatchNorm2d(2)) == repr(torch.nn.BatchNorm2d(2))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 3, 4, 5)),
        lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(3)),
        lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(2, 3, 4)),
        lambda lib: lib.nn.LayerNorm(4)(lib.ones(2, 3)),
        lambda lib: lib.nn.LayerNorm((2, 3))(lib.ones(3, 2)),
        lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), (3,), lib.ones(2)),
    ],
)
def test_normalisation_errors_match_torch(call):
    same_error(call)


def test_batch_norm_needs_two_values_per_channel_in_training():
    same_error(lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(1, 3)))
    assert deeprnn.nn.BatchNorm1d(3).eval()(deeprnn.ones(1, 3)).shape == (1, 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape,normalized,kw",
    [((4, 5), 5, {}), ((2, 3, 4), (3, 4), {}), ((3, 6), 6, {"elementwise_affine": False}), ((2, 5), 5, {"bias": False}),
     ((5,), 5, {"eps": 1e-2})],
)  # fmt: skip
def test_layer_norm_matches_torch(shape, normalized, kw, dtype):
    x = (3 * rng_for("ln", shape).standard_normal(shape) + 1).astype(dtype)

    def make(lib):
        m = lib.nn.LayerNorm(normalized, dtype=getattr(lib, _name(dtype)), **kw)
        return _randomised(lib, m)

    check_parity(lambda lib, m, t: m(t), [x], dtype=dtype, module=make)
    assert repr(deeprnn.nn.LayerNorm(normalized, **kw)) == repr(torch.nn.LayerNorm(normalized, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_batch_norm_and_layer_norm_match_torch(dtype):
    rng = rng_for("fnorm")
    x = rng.standard_normal((4, 3, 2)).astype(dtype)
    w, b = rng.uniform(0.5, 2, 3).astype(dtype), rng.standard_normal(3).astype(dtype)
    rm, rv = rng.standard_normal(3).astype(dtype), rng.uniform(0.5, 2, 3).astype(dtype)
    stats = {lib: (lib.tensor(rm.copy()), lib.tensor(rv.copy())) for lib in (torch, deeprnn)}
    check_parity(
        lambda lib, m, t, w_, b_: lib.nn.functional.batch_norm(t, *stats[lib], w_, b_, training=True, momentum=0.3),
        [x, w, b],
        dtype=dtype,
    )
    for i in (0, 1):
        assert_close(stats[deeprnn][i], stats[torch][i], dtype, "running statistic")
    check_parity(lambda lib, m, t, w_, b_: lib.nn.functional.batch_norm(t, *stats[lib], w_, b_), [x, w, b], dtype=dtype)
    check_parity(lambda lib, m, t: lib.nn.functional.batch_norm(t, None, None, training=True), [x], dtype=dtype)
    check_parity(lambda lib, m, t, w_: lib.nn.functional.layer_norm(t, (3, 2), w_.reshape(3, 1).expand(3, 2)),
                 [x, w], dtype=dtype)  # fmt: skip


# ---- Flatten / Unflatten -------------------------------------------------------------------
@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda lib: lib.nn.Flatten(), (2, 3, 4)),
        (lambda lib: lib.nn.Flatten(0, -1), (2, 3, 4)),
        (lambda lib: lib.nn.Flatten(1, 2), (2, 3, 4, 5)),
        (lambda lib: lib.nn.Unflatten(1, (2, 3)), (4, 6)),
        (lambda lib: lib.nn.Unflatten(-1, (2, -1)), (4, 6)),
        (lambda lib: lib.nn.Unflatten(0, [2, 2]), (4, 3)),
    ],
)
def test_flatten_unflatten_match_torch(make, shape):
    x = rng_for("flat", shape).standard_normal(shape)
    check_parity(lambda lib, m, t: m(t), [x], module=make)
    assert repr(make(deeprnn)) == repr(make(torch))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.Unflatten(1, (2, 4))(lib.ones(3, 6)),
        lambda lib: lib.nn.Unflatten(1, 3),
        lambda lib: lib.nn.Unflatten(1, (2, 1.5)),
    ],
)
def test_unflatten_errors_match_torch(call):
    same_error(call)


# ---- channel dropout -------------------------------------------------------------------------
@pytest.mark.parametrize("cls,shape", [("Dropout1d", (4, 6, 5)), ("Dropout1d", (6, 5)), ("Dropout2d", (3, 4, 2, 5))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    m = getattr(deeprnn.nn, cls)(p=0.4, generator=deeprnn.Generator(0))
    x = deeprnn.tensor(rng_for("cd", shape).uniform(1, 2, shape), requires_grad=True)
    out = m(x)
    y = out.detach().numpy().reshape(-1, *shape[-1:] if cls == "Dropout1d" else (shape[2] * shape[3],))
    kept = np.abs(y).sum(axis=1) > 0
    assert 0 < kept.mean() < 1
    ref = x.detach().numpy().reshape(y.shape)
    np.testing.assert_allclose(y[kept], ref[kept] / 0.6, rtol=1e-12)
    assert not y[~kept].any()
    out.sum().backward()
    expected = np.broadcast_to(np.where(kept[:, None], 1 / 0.6, 0.0), y.shape)
    np.testing.assert_allclose(x.grad.numpy().reshape(y.shape), expected, rtol=1e-12)
    m.eval()
    assert m(x) is x
    assert repr(m) == repr(getattr(torch.nn, cls)(p=0.4))


def test_channel_dropout_errors_and_warnings_match_torch():
    same_error(lambda lib: lib.nn.Dropout1d()(lib.ones(2, 3, 4, 5)))
    same_error(lambda lib: lib.nn.Dropout2d(p=1.5))
    with pytest.warns(UserWarning, match="assuming that channel-wise 1D dropout behavior is desired"):
        deeprnn.nn.Dropout2d()(deeprnn.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d, which is deprecated"):
        deeprnn.nn.functional.dropout2d(deeprnn.ones(2, 3))
    assert deeprnn.nn.functional.dropout1d(deeprnn.ones(2, 3), p=1.0).numpy().sum() == 0
