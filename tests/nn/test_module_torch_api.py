"""nn.Module's torch API beyond the basics: registration rules, lookups, hooks, to()/cuda(), repr, state."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layers_parity import assert_close, same_error

import deeprnn


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU())
            self.head = lib.nn.Linear(4, 2)
            self.register_buffer("scale", lib.ones(2))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.head(self.encoder(x)) * self.scale

        def extra_repr(self):
            return "custom=1"

    return Net()


def test_repr_with_extra_repr_and_children_matches_torch():
    assert repr(_net(deeprnn)) == repr(_net(torch))
    nested = lambda lib: lib.nn.Sequential(lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU()), lib.nn.Tanh())  # noqa: E731
    assert repr(nested(deeprnn)) == repr(nested(torch))


def test_non_persistent_buffers_stay_out_of_the_state_dict():
    ours, ref = _net(deeprnn), _net(torch)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in ref.named_buffers()] == ["scale", "cache"]
    result = ours.load_state_dict(ref.state_dict())
    assert repr(result) == repr(ref.load_state_dict(ref.state_dict())) == "<All keys matched successfully>"
    partial = {k: v for k, v in ref.state_dict().items() if k != "scale"}
    assert repr(ours.load_state_dict(partial, strict=False)) == repr(ref.load_state_dict(partial, strict=False))


def test_traversal_matches_torch():
    ours, ref = _net(deeprnn), _net(torch)
    for fn in (
        lambda m: [n for n, _ in m.named_modules()],
        lambda m: [n for n, _ in m.named_modules(prefix="net")],
        lambda m: [n for n, _ in m.named_children()],
        lambda m: [type(c).__name__ for c in m.children()],
        lambda m: [type(c).__name__ for c in m.modules()],
        lambda m: [n for n, _ in m.named_parameters(prefix="p", recurse=True)],
        lambda m: [n for n, _ in m.named_parameters(recurse=False)],
        lambda m: len(list(m.parameters(recurse=False))),
        lambda m: [n for n, _ in m.named_buffers(recurse=False)],
        lambda m: list(m.state_dict(prefix="model.")),
    ):
        assert fn(ours) == fn(ref)
    shared = deeprnn.nn.Linear(2, 2)
    twice = deeprnn.nn.Sequential(shared, shared)
    ref_shared = torch.nn.Linear(2, 2)
    ref_twice = torch.nn.Sequential(ref_shared, ref_shared)
    for kw in ({}, {"remove_duplicate": False}):
        assert [n for n, _ in twice.named_modules(**kw)] == [n for n, _ in ref_twice.named_modules(**kw)]
        assert [n for n, _ in twice.named_parameters(**kw)] == [n for n, _ in ref_twice.named_parameters(**kw)]


def test_get_and_set_submodule_parameter_buffer():
    ours, ref = _net(deeprnn), _net(torch)
    assert ours.get_submodule("encoder.0") is ours.encoder[0]
    assert ours.get_parameter("encoder.0.weight") is ours.encoder[0].weight
    assert ours.get_buffer("scale") is ours.scale and ours.get_submodule("") is ours
    for lib, m in ((deeprnn, ours), (torch, ref)):
        m.set_submodule("encoder.1", lib.nn.Tanh())
    assert repr(ours) == repr(ref)
    for call in (
        lambda m: m.get_submodule("encoder.5"),
        lambda m: m.get_submodule("scale"),
        lambda m: m.get_parameter("head.nope"),
        lambda m: m.get_parameter("scale"),
        lambda m: m.get_buffer("head.weight"),
        lambda m: m.set_submodule("", m.head),
        lambda m: m.set_submodule("head", 3),
        lambda m: m.set_submodule("nope", m.head, strict=True),
    ):
        same_error(lambda lib: call(ours if lib is deeprnn else ref))


@pytest.mark.parametrize(
    "call",
    [
        lambda m, lib: m.register_buffer("head", lib.ones(1)),
        lambda m, lib: m.register_buffer("a.b", lib.ones(1)),
        lambda m, lib: m.register_buffer("", lib.ones(1)),
        lambda m, lib: m.register_buffer(3, None),
        lambda m, lib: m.register_parameter("a.b", None),
        lambda m, lib: m.register_parameter("scale", None),
        lambda m, lib: m.add_module("x", 3),
        lambda m, lib: m.add_module("", lib.nn.ReLU()),
        lambda m, lib: m.add_module("a.b", lib.nn.ReLU()),
        lambda m, lib: m.add_module("scale", lib.nn.ReLU()),
        lambda m, lib: m.train("yes"),
        lambda m, lib: m.cuda(),
        lambda m, lib: m.to("cuda"),
        lambda m, lib: m.to("xyz"),
        lambda m, lib: m.to(lib.device("cuda", 0)),
    ],
)
def test_registration_and_device_errors_match_torch(call):
    def run(lib):
        m = _net(lib)
        call(m, lib)

    same_error(run)


def test_registering_the_wrong_kind_matches_torch():
    same_error(lambda lib: _net(lib).register_buffer("q", 3))
    same_error(lambda lib: setattr(_net(lib), "scale", "x"))
    same_error(lambda lib: _net(lib).register_parameter("p", lib.ones(1)))
    same_error(lambda lib: setattr(lib.nn.RNNCell(2, 3), "weight_ih", lib.zeros(3, 2)))
    same_error(lambda lib: _net(lib).to(lib.int64))
    computed = deeprnn.ones(2, requires_grad=True) * 2
    non_leaf = deeprnn.nn.Parameter._wrap(computed.detach().numpy(), requires_grad=True)
    non_leaf._grad_fn = computed.grad_fn  # a Parameter that is the result of an operation (no public way)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        _net(deeprnn).register_parameter("w", non_leaf)


def test_to_accepts_devices_dtypes_and_tensors():
    m = _net(deeprnn)
    assert m.to("cpu") is m and m.to("cpu:0") is m and m.cpu() is m and m.to(device="cpu") is m
    assert m.to(deeprnn.device("cpu")) is m
    m.to("cpu", deeprnn.float64)
    assert m.head.weight.dtype == np.float64 and m.scale.dtype == np.float64
    m.to(deeprnn.zeros(1, dtype=deeprnn.float32))
    assert m.head.weight.dtype == np.float32
    m.to(dtype=deeprnn.float64, non_blocking=True)
    assert m.head.weight.dtype == np.float64
    m.half()
    assert m.head.weight.dtype == np.float16
    m.type(deeprnn.float32)
    assert m.head.weight.dtype == np.float32 and m.share_memory() is m
    with pytest.raises(TypeError, match="deeprnn has no bfloat16"):
        m.bfloat16()


def test_train_eval_reach_children_through_their_own_train():
    calls = []

    class Tracked(deeprnn.nn.Linear):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    m = deeprnn.nn.Sequential(Tracked(2, 2), deeprnn.nn.ReLU())
    m.eval()
    m.train()
    assert calls == [False, True] and m[0].training and m.training


def test_forward_hooks_match_torch():
    ref_linear = torch.nn.Linear(2, 2).double()

    def run(lib):
        m = lib.nn.Linear(2, 2).double()
        m.load_state_dict(ref_linear.state_dict())
        log = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        m.register_forward_hook(lambda mod, args, out: log.append(("first", type(mod).__name__)), prepend=True)
        m.register_forward_pre_hook(lambda mod, args, kwargs: (args, kwargs), with_kwargs=True)
        m.register_forward_hook(lambda mod, args, kwargs, out: out * 3, with_kwargs=True)
        x = lib.tensor(np.array([[1.0, -2.0]]))
        first = m(x).detach().numpy().copy()
        h1.remove()
        h2.remove()
        second = m(x).detach().numpy().copy()
        return first, second, log

    (a1, a2, la), (b1, b2, lb) = run(deeprnn), run(torch)
    assert la == lb == [("first", "Linear"), ("first", "Linear")]
    assert_close(a1, b1, np.float64, "with hooks")
    assert_close(a2, b2, np.float64, "after removing two")
    with deeprnn.nn.Linear(2, 2).register_forward_hook(lambda *a: None) as handle:
        assert handle.id >= 0


def test_forward_hooks_change_inputs_and_outputs_exactly():
    m = deeprnn.nn.Linear(2, 2)
    x = deeprnn.tensor(np.array([[1.0, -2.0]], dtype=np.float32))
    plain = m(x).detach().numpy()
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    m.register_forward_hook(lambda mod, args, out: out + 1)
    np.testing.assert_allclose(m(x).detach().numpy(), m.forward(x * 2).detach().numpy() + 1, rtol=0)
    assert not np.allclose(plain, m(x).detach().numpy())
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append("always"), always_call=True)

    def boom(mod, args):
        raise ValueError("stop")

    m.register_forward_pre_hook(boom)
    with pytest.raises(ValueError, match="stop"):
        m(x)
    assert seen == ["always"]


def test_zero_grad_modes_and_requires_grad():
    m = deeprnn.nn.Linear(2, 2)
    m(deeprnn.ones(1, 2)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is not None and not m.weight.grad.numpy().any()
    m.zero_grad()
    assert m.weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    assert m.apply(lambda mod: None) is m
