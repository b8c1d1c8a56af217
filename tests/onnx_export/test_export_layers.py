"""The other leaf layers (Linear, Embedding, Dropout, activations, LayerNorm, BatchNorm1d, Flatten) and their
nn.functional forms, exported and run in onnxruntime against deeprnn's forward, at several opsets."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _onnx_helpers import assert_runs_like, export_bytes, graph_ops

import deeprnn as torch
import deeprnn.nn as nn
import deeprnn.nn.functional as F

G = torch.Generator


def _stats(bn: nn.BatchNorm1d) -> nn.BatchNorm1d:
    """A BatchNorm1d with non-trivial running statistics and affine parameters."""
    bn.running_mean.copy_(torch.randn(bn.num_features, generator=G(8)))
    bn.running_var.copy_(torch.rand(bn.num_features, generator=G(9)) + 0.5)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(bn.num_features, generator=G(10)))
        bn.bias.copy_(torch.randn(bn.num_features, generator=G(11)))
    return bn


def _layernorm(*args, **kwargs) -> nn.LayerNorm:
    ln = nn.LayerNorm(*args, **kwargs)
    if ln.weight is not None:
        with torch.no_grad():
            ln.weight.copy_(torch.randn(*ln.weight.shape, generator=G(12)))
            ln.bias.copy_(torch.randn(*ln.bias.shape, generator=G(13)))
    return ln


LAYERS: dict[str, Callable[[], nn.Module]] = {
    "linear": lambda: nn.Linear(6, 3, generator=G(1)),
    "linear_no_bias": lambda: nn.Linear(6, 3, bias=False, generator=G(1)),
    "dropout": lambda: nn.Sequential(nn.Dropout(0.5), nn.Dropout1d(0.2), nn.Identity()),
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": lambda: nn.ELU(0.7),
    "gelu": nn.GELU,
    "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
    "softplus": nn.Softplus,
    "softplus_beta": lambda: nn.Softplus(beta=2.0),
    "hardtanh": lambda: nn.Hardtanh(-0.5, 0.7),
    "relu6": nn.ReLU6,
    "silu": nn.SiLU,
    "logsigmoid": nn.LogSigmoid,
    "softmax": lambda: nn.Softmax(dim=-1),
    "log_softmax": lambda: nn.LogSoftmax(dim=1),
    "layernorm": lambda: _layernorm(6),
    "layernorm_2d": lambda: _layernorm((5, 6)),
    "layernorm_plain": lambda: _layernorm(6, elementwise_affine=False),
    "flatten": nn.Flatten,
    "unflatten": lambda: nn.Sequential(nn.Unflatten(2, (2, 3)), nn.Flatten(2)),
    "sequential_mlp": lambda: nn.Sequential(
        nn.Linear(6, 8, generator=G(2)), nn.ReLU(), nn.Linear(8, 2, generator=G(3))
    ),
}


@pytest.mark.parametrize("opset", [13, 17, 20])
@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_deeprnn(name, opset):
    m = LAYERS[name]()
    x = torch.randn(4, 5, 6, generator=G(0)) * 3  # (N, T, 6): saturates some activations
    data = export_bytes(m, (x,), input_names=["x"], dynamic_axes={"x": {0: "batch"}}, opset_version=opset)
    assert_runs_like(data, m, {"x": x}, (x,), name)
    x2 = torch.randn(2, 5, 6, generator=G(1))
    assert_runs_like(data, m, {"x": x2}, (x2,), f"{name}, another batch")


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5)], ids=["2d", "3d"])
def test_batchnorm1d_eval(shape):
    m = _stats(nn.BatchNorm1d(3))
    m.eval()
    x = torch.randn(*shape, generator=G(0))
    data = export_bytes(m, (x,), input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    assert "BatchNormalization" in graph_ops(data)
    assert_runs_like(data, m, {"x": x}, (x,), "batchnorm")


def test_embedding():
    m = nn.Embedding(10, 4, padding_idx=0, generator=G(0))
    idx = torch.tensor([[1, 0, 9], [3, 3, 2]])
    data = export_bytes(m, (idx,), input_names=["idx"], dynamic_axes={"idx": [0, 1]})
    assert graph_ops(data) == ["Gather"]
    assert_runs_like(data, m, {"idx": idx}, (idx,), "embedding")
    idx2 = torch.tensor([[5], [6], [7], [8]])
    assert_runs_like(data, m, {"idx": idx2}, (idx2,), "embedding, other sizes")


def test_functional_embedding():
    class Lookup(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(10, 3, generator=G(1)))

        def forward(self, idx):
            return F.embedding(idx, self.weight)

    m, idx = Lookup(), torch.tensor([4, 0, 4])
    assert_runs_like(export_bytes(m, (idx,), input_names=["idx"]), m, {"idx": idx}, (idx,), "F.embedding")


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6, generator=G(4))
        self.ln = _layernorm(6)

    def forward(self, x):
        y = F.linear(x, self.fc.weight, self.fc.bias)
        y = F.relu(y) + F.tanh(y) + F.sigmoid(y) + F.leaky_relu(y, 0.3) + F.elu(y) + F.gelu(y) + F.softplus(y)
        y = y + F.hardtanh(y) + F.relu6(y) + F.silu(y) + F.logsigmoid(y) + F.dropout(y, 0.3, training=self.training)
        y = F.layer_norm(y, (6,), self.ln.weight, self.ln.bias) + F.log_softmax(y, dim=-1)
        return F.softmax(y, dim=1)


@pytest.mark.parametrize("opset", [13, 20])
def test_functional_forms(opset):
    m = Functional()
    x = torch.randn(3, 4, 6, generator=G(6))
    data = export_bytes(m, (x,), input_names=["x"], opset_version=opset)
    assert_runs_like(data, m, {"x": x}, (x,), "functional")
