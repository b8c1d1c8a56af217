"""weights_only, add_safe_globals / safe_globals / get_safe_globals, and whole deeprnn modules (weights_only=False)."""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from _files import deeprnn_loads, error_of, saved_by_deeprnn, saved_by_torch

import deeprnn
from deeprnn import serialization


@dataclass
class Config:
    """A user class a checkpoint may hold."""

    hidden: int
    name: str


@pytest.fixture(autouse=True)
def _clean_safe_globals():
    serialization.clear_safe_globals()
    torch.serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()
    torch.serialization.clear_safe_globals()


def test_unknown_class_is_refused_with_torchs_message_in_both_libraries():
    data = saved_by_torch({"cfg": Config(4, "x")})
    ours = error_of(lambda: deeprnn_loads(data))
    ref = error_of(lambda: torch.load(io.BytesIO(data), weights_only=True))
    assert type(ours) is type(ref) is pickle.UnpicklingError and str(ours) == str(ref)
    assert "GLOBAL test_safe_globals.Config was not an allowed global by default" in str(ours)


def test_add_safe_globals_and_get_safe_globals():
    data = saved_by_deeprnn({"cfg": Config(4, "x"), "w": deeprnn.ones(2)})
    serialization.add_safe_globals([Config])
    assert serialization.get_safe_globals() == [Config]
    out = deeprnn_loads(data)
    assert out["cfg"] == Config(4, "x") and out["w"].tolist() == [1.0, 1.0]
    torch.serialization.add_safe_globals([Config])
    assert torch.load(io.BytesIO(data), weights_only=True)["cfg"] == Config(4, "x")  # torch reads our file too


def test_safe_globals_context_and_named_entries():
    data = saved_by_deeprnn(Config(1, "y"))
    with serialization.safe_globals([(Config, "test_safe_globals.Config")]):
        assert deeprnn_loads(data) == Config(1, "y")
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError, match="was not an allowed global by default"):
        deeprnn_loads(data)
    serialization.add_safe_globals([(Config, "a", "b")])
    with pytest.raises(ValueError, match="Expected tuple of length 2"):
        deeprnn_loads(data)
    serialization.clear_safe_globals()
    serialization.add_safe_globals([(Config, 3)])
    with pytest.raises(TypeError, match="Expected second item in tuple to be str of callable full path"):
        deeprnn_loads(data)


def test_blocked_modules_cannot_be_allowed():
    import os

    serialization.add_safe_globals([os.system, os.getcwd])

    class Cwd:
        def __reduce__(self):
            return (os.getcwd, ())

    with pytest.raises(pickle.UnpicklingError, match="whose module posix is blocked"):
        deeprnn_loads(saved_by_deeprnn(Cwd()))


class Net(deeprnn.nn.Module):
    """A whole model, pickled with its class (weights_only=False)."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = deeprnn.nn.RNN(3, 4, batch_first=True)
        self.head = deeprnn.nn.Linear(4, 2)
        self.register_buffer("scale", deeprnn.tensor([2.0]))
        self.config = Config(4, "net")

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1]) * self.scale


def test_a_whole_deeprnn_module_round_trips_with_weights_only_false(tmp_path):
    net = Net()
    path = tmp_path / "net.pt"
    deeprnn.save(net, path)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL test_safe_globals.Net was not an allowed global"):
        deeprnn.load(path)  # the default (weights_only=True) refuses code, as torch does
    back = deeprnn.load(path, weights_only=False)
    assert type(back) is Net and back.config == Config(4, "net") and back.training
    x = deeprnn.tensor(np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32))
    np.testing.assert_array_equal(back(x).detach().numpy(), net(x).detach().numpy())
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in net.named_parameters()]
    assert all(isinstance(p, deeprnn.nn.Parameter) for p in back.parameters())
    back(x).sum().backward()
    assert back.head.weight.grad is not None


def test_torch_modules_saved_whole_need_torch():
    data = saved_by_torch(torch.nn.Linear(2, 2))
    with pytest.raises(
        pickle.UnpicklingError, match=r"the file holds a torch.nn.modules.linear.Linear, a torch object"
    ):
        deeprnn_loads(data, weights_only=False)
    msg = str(error_of(lambda: deeprnn_loads(data)))
    assert "GLOBAL torch.nn.modules.linear.Linear was not an allowed global by default" in msg


def test_get_unsafe_globals_in_checkpoint_matches_torch():
    data = saved_by_torch({"cfg": Config(1, "a"), "w": torch.ones(1), "od": {1: 2}})
    assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data)) == sorted(
        torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))
    )
    assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data)) == ["test_safe_globals.Config"]
    with pytest.raises(ValueError, match="Expected input to be a checkpoint returned by torch.save"):
        serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(b"junk"))


def test_namespace_is_torchs():
    for name in ("save", "load", "add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals"):
        assert hasattr(torch.serialization, name) and hasattr(deeprnn.serialization, name)
    assert deeprnn.save is serialization.save and deeprnn.load is serialization.load
    assert serialization.DEFAULT_PROTOCOL == torch.serialization.DEFAULT_PROTOCOL
