"""nn.Linear, nn.Embedding, nn.Dropout, containers and nn.init against torch 2.13."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from _layers_parity import check_parity, rng_for, same_error

import deeprnn

DTYPES = [np.float64, np.float32]


def _name(dtype):
    return np.dtype(dtype).name


# ---- Linear -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
def test_linear_matches_torch(dtype, bias, shape):
    x = rng_for("lin", shape).standard_normal(shape).astype(dtype)
    check_parity(
        lambda lib, m, t: m(t),
        [x],
        dtype=dtype,
        module=lambda lib: lib.nn.Linear(3, 4, bias=bias, dtype=getattr(lib, _name(dtype))),
    )


def test_linear_init_bounds_follow_pytorch_formula():
    g = deeprnn.Generator(0)
    m = deeprnn.nn.Linear(50, 400, generator=g)
    bound = 1 / math.sqrt(50)  # kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    # the same bound from torch's own formula
    gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
    assert math.isclose(gain * math.sqrt(3 / 50), bound)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    assert abs(w.mean()) < 0.01 and abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert m.weight.dtype == np.float32 and m.weight.shape == (400, 50)


def test_linear_generator_makes_init_reproducible():
    a = deeprnn.nn.Linear(3, 4, generator=deeprnn.Generator(7))
    b = deeprnn.nn.Linear(3, 4, generator=deeprnn.Generator(7))
    c = deeprnn.nn.Linear(3, 4, generator=deeprnn.Generator(8))
    assert np.array_equal(a.weight.detach().numpy(), b.weight.detach().numpy()) and np.array_equal(
        a.bias.detach().numpy(), b.bias.detach().numpy()
    )
    assert not np.array_equal(a.weight.detach().numpy(), c.weight.detach().numpy())


def test_linear_repr_and_state_dict_names_match_torch():
    ours, ref = deeprnn.nn.Linear(3, 4, bias=False), torch.nn.Linear(3, 4, bias=False)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert repr(deeprnn.nn.Linear(3, 4)) == repr(torch.nn.Linear(3, 4))


@pytest.mark.parametrize(
    "case",
    [
        lambda lib: lib.nn.Linear(3, 4)(lib.ones(2, 5)),
        lambda lib: lib.nn.Linear(3, 4)(lib.ones(2, 6, 5)),
        lambda lib: lib.nn.Linear(3, 4)(lib.ones(5)),
        lambda lib: lib.nn.Linear(3, 4)(lib.ones(2, 3, dtype=lib.float64)),
        lambda lib: lib.nn.Linear(-1, 4),
    ],
)
def test_linear_errors_match_torch(case):
    same_error(case)


# ---- Embedding -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 0, 2, -1])
@pytest.mark.parametrize("shape", [(7,), (3, 4), ()])
def test_embedding_matches_torch(dtype, padding_idx, shape):
    idx = rng_for("emb", shape).integers(0, 6, shape)
    if idx.ndim:
        idx.flat[0] = 2  # repeated and padding indices occur
        idx.flat[-1] = 5
    check_parity(
        lambda lib, m, t: m(t),
        [idx],
        dtype=dtype,
        module=lambda lib: lib.nn.Embedding(6, 5, padding_idx=padding_idx, dtype=getattr(lib, _name(dtype))),
    )


def test_embedding_init_and_padding_row():
    e = deeprnn.nn.Embedding(300, 40, padding_idx=3, generator=deeprnn.Generator(1))
    w = e.weight.detach().numpy()
    assert not np.any(w[3])
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02  # N(0, 1)
    assert e.padding_idx == 3 and deeprnn.nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    assert repr(e) == repr(torch.nn.Embedding(300, 40, padding_idx=3))


def test_embedding_int32_indices_and_from_pretrained():
    w = np.arange(12.0).reshape(4, 3)
    e = deeprnn.nn.Embedding.from_pretrained(deeprnn.tensor(w))
    out = e(deeprnn.tensor(np.array([3, 1], dtype=np.int32)))
    assert np.array_equal(out.detach().numpy(), w[[3, 1]]) and not e.weight.requires_grad
    ref = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    assert ref.weight.requires_grad == e.weight.requires_grad


@pytest.mark.parametrize("bad", [7, -1, 5])
def test_embedding_index_out_of_range_names_range_and_index(bad):
    e = deeprnn.nn.Embedding(5, 3)
    with pytest.raises(
        IndexError,
        match=rf"index out of range in self: got index {bad}, expected indices in \[0, 4\]",
    ):
        e(deeprnn.tensor([1, bad]))
    with pytest.raises(IndexError, match="index out of range in self"):
        torch.nn.Embedding(5, 3)(torch.tensor([1, bad]))


@pytest.mark.parametrize(
    "case",
    [
        lambda lib: lib.nn.Embedding(5, 3)(lib.tensor([1.0, 2.0])),
        lambda lib: lib.nn.Embedding(5, 3, padding_idx=5),
        lambda lib: lib.nn.Embedding(5, 3, padding_idx=-6),
    ],
)
def test_embedding_errors(case):
    caught = {}
    for lib in (torch, deeprnn):
        with pytest.raises(Exception) as info:
            case(lib)
        caught[lib] = info.value
    assert type(caught[deeprnn]) is type(caught[torch])
    assert str(caught[deeprnn]).replace("deeprnn.", "torch.") == str(caught[torch])


# ---- Dropout -------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_train_mask_scaling_and_gradient(p):
    x = deeprnn.tensor(rng_for("drop", p).uniform(1, 2, (200, 50)).astype(np.float32), requires_grad=True)
    d = deeprnn.nn.Dropout(p, generator=deeprnn.Generator(3))
    y = d(x)
    kept = y.detach().numpy() != 0
    noise = kept.astype(np.float32) / np.float32(1 - p)  # PyTorch: bernoulli(1 - p) / (1 - p), in float32
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy() * noise)
    assert abs(1 - kept.mean() - p) < 0.02
    g = rng_for("g", p).standard_normal(y.shape).astype(np.float32)
    y.backward(deeprnn.tensor(g))
    np.testing.assert_array_equal(x.grad.detach().numpy(), g * noise)


def test_dropout_float64_scale_matches_torch_formula():
    x = np.full((1000,), 1.7)
    y = deeprnn.nn.functional.dropout(deeprnn.tensor(x), 0.3, generator=deeprnn.Generator(0))
    ref = torch.nn.functional.dropout(torch.tensor(x), 0.3)
    assert set(np.unique(y.detach().numpy())) == set(np.unique(ref.numpy()))


def test_dropout_eval_p0_p1_and_reproducibility():
    x = deeprnn.randn(4, 5)
    d = deeprnn.nn.Dropout(0.5, generator=deeprnn.Generator(1))
    d.eval()
    assert d(x) is x
    assert deeprnn.nn.Dropout(0.0)(x) is x
    assert not np.any(deeprnn.nn.Dropout(1.0)(x).detach().numpy())
    a = deeprnn.nn.functional.dropout(x, 0.5, generator=deeprnn.Generator(9))
    b = deeprnn.nn.functional.dropout(x, 0.5, generator=deeprnn.Generator(9))
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    assert deeprnn.nn.functional.dropout(x, 0.5, training=False) is x
    assert repr(deeprnn.nn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_p_validated_as_torch(p):
    same_error(lambda lib: lib.nn.Dropout(p))
    same_error(lambda lib: lib.nn.functional.dropout(lib.ones(3), p))


# ---- containers ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_sequential_matches_torch(dtype):
    dt = _name(dtype)

    def build(lib):
        return lib.nn.Sequential(
            lib.nn.Linear(4, 6, dtype=getattr(lib, dt)),
            lib.nn.Dropout(0.0),
            lib.nn.Linear(6, 3, dtype=getattr(lib, dt)),
        )

    x = rng_for("seq").standard_normal((5, 4)).astype(dtype)
    check_parity(lambda lib, m, t: lib.tanh(m(t)), [x], dtype=dtype, module=build)


def test_sequential_indexing_names_and_ordered_dict():
    ours = deeprnn.nn.Sequential(OrderedDict(enc=deeprnn.nn.Linear(2, 3), dec=deeprnn.nn.Linear(3, 2)))
    ref = torch.nn.Sequential(OrderedDict(enc=torch.nn.Linear(2, 3), dec=torch.nn.Linear(3, 2)))
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert repr(ours) == repr(ref)
    assert ours[-1] is ours.dec and len(ours) == 2 and isinstance(ours[:1], deeprnn.nn.Sequential)
    ours.append(deeprnn.nn.Identity())
    assert len(ours) == 3 and [type(m).__name__ for m in ours] == ["Linear", "Linear", "Identity"]
    same_error(lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4))[3])
    same_error(lambda lib: lib.nn.Sequential(1))


def test_module_list_and_dict_register_parameters_like_torch():
    def build(lib):
        m = lib.nn.Module()
        m.layers = lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(2)])
        m.layers.append(lib.nn.Linear(2, 1))
        m.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(1, 1), "b": lib.nn.Embedding(3, 1)})
        return m

    ours, ref = build(deeprnn), build(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert len(ours.layers) == 3 and list(ours.heads.keys()) == ["a", "b"] and "b" in ours.heads
    same_error(lambda lib: lib.nn.ModuleList([lib.nn.Linear(3, 4)])[3])


# ---- init ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ("linear",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
        ("selu",),
        ("conv1d",),
    ],
)
def test_calculate_gain_matches_torch(args):
    assert deeprnn.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


@pytest.mark.parametrize("shape", [(40, 300), (30, 20, 5)])
@pytest.mark.parametrize("scheme", ["xavier_uniform", "kaiming_uniform_in", "kaiming_uniform_out"])
def test_uniform_schemes_use_torch_bounds(shape, scheme):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    t = deeprnn.zeros(*shape)
    g = deeprnn.Generator(5)
    if scheme == "xavier_uniform":
        deeprnn.nn.init.xavier_uniform_(t, gain=2.0, generator=g)
        bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    else:
        mode = "fan_in" if scheme.endswith("in") else "fan_out"
        deeprnn.nn.init.kaiming_uniform_(t, a=0.1, mode=mode, nonlinearity="leaky_relu", generator=g)
        fan = fan_in if mode == "fan_in" else fan_out
        bound = torch.nn.init.calculate_gain("leaky_relu", 0.1) * math.sqrt(3.0 / fan)
    m = np.abs(t.detach().numpy()).max()
    assert m <= bound * (1 + 1e-6) and m > 0.98 * bound


def test_fillers_and_normal_schemes():
    t = deeprnn.zeros(100, 200, requires_grad=True)
    init = deeprnn.nn.init
    assert init.constant_(t, 0.5) is t and np.all(t.detach().numpy() == 0.5)
    init.ones_(t)
    assert np.all(t.detach().numpy() == 1)
    init.zeros_(t)
    assert not np.any(t.detach().numpy())
    init.normal_(t, 2.0, 0.5, generator=deeprnn.Generator(0))
    assert abs(t.detach().numpy().mean() - 2) < 0.01 and abs(t.detach().numpy().std() - 0.5) < 0.01
    init.uniform_(t, -3, -1, generator=deeprnn.Generator(0))
    assert t.detach().numpy().min() >= -3 and t.detach().numpy().max() < -1
    init.xavier_normal_(t, generator=deeprnn.Generator(0))
    assert abs(t.detach().numpy().std() - math.sqrt(2 / 300)) < 0.002
    init.kaiming_normal_(t, nonlinearity="relu", generator=deeprnn.Generator(0))
    assert abs(t.detach().numpy().std() - math.sqrt(2 / 200)) < 0.002


@pytest.mark.parametrize(
    "case",
    [
        lambda lib: lib.nn.init.xavier_uniform_(lib.zeros(3)),
        lambda lib: lib.nn.init.kaiming_uniform_(lib.zeros(3, 4), mode="fan"),
        lambda lib: lib.nn.init.calculate_gain("foo"),
        lambda lib: lib.nn.init.calculate_gain("leaky_relu", "x"),
    ],
)
def test_init_errors_match_torch(case):
    same_error(case)
