"""The tensor operations that glue layers in a forward, recorded as ONNX nodes: each model is exported,
run in onnxruntime on the example input and on another batch size and length, and compared with deeprnn."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _onnx_helpers import assert_runs_like, export_bytes

import deeprnn as torch
import deeprnn.nn as nn
import deeprnn.nn.functional as F


class Fn(nn.Module):
    """A model whose forward is ``fn(self, x)``, with a Linear (self.fc, 4 -> 4) at hand."""

    def __init__(self, fn: Callable) -> None:
        super().__init__()
        self.fn = fn
        self.fc = nn.Linear(4, 4, generator=torch.Generator(0))
        self.register_buffer("offset", torch.arange(4, dtype=torch.float32))

    def forward(self, x):
        return self.fn(self, x)


# x is (N, T, 4) with N and T dynamic
OPS: dict[str, Callable] = {
    "last_step": lambda m, x: x[:, -1, :],
    "first_step_method": lambda m, x: x.select(1, 0),
    "slices": lambda m, x: x[:, 1:, ::2] + x[:, :-1, 1::2],
    "none_and_ellipsis": lambda m, x: x[None, ..., 2],
    "int_tensor_index": lambda m, x: x[:, :, torch.tensor([3, 0, 0])],
    "narrow": lambda m, x: x.narrow(2, 1, 2),
    "index_select": lambda m, x: torch.index_select(x, 2, torch.tensor([1, 1, 3])),
    "view_sizes": lambda m, x: x.view(x.size(0), -1),
    "reshape_tuple": lambda m, x: torch.reshape(x, (-1, 4)),
    "view_product": lambda m, x: x.contiguous().view(x.size(0) * x.size(1), 4),
    "shape_unpack": lambda m, x: x.reshape(x.shape[0], x.shape[1], 2, 2),
    "view_as": lambda m, x: x.flatten().view_as(x),
    "flatten": lambda m, x: torch.flatten(x, 1),
    "flatten_method": lambda m, x: x.flatten(0, 1),
    "permute": lambda m, x: x.permute(2, 0, 1),
    "transpose": lambda m, x: x.transpose(0, 1).contiguous(),
    "T": lambda m, x: x[0].T,
    "squeeze_unsqueeze": lambda m, x: x.unsqueeze(1).squeeze(1).unsqueeze(-1),
    "squeeze_fixed": lambda m, x: x[:, :, :1].squeeze(2).squeeze(),
    "cat": lambda m, x: torch.cat((x, x * 2), dim=-1),
    "cat_constant": lambda m, x: torch.cat([x, torch.ones(4)[None, None].expand(x.size(0), x.size(1), 4)], 2),
    "stack": lambda m, x: torch.stack([x, -x], dim=1),
    "chunk": lambda m, x: torch.cat(x.chunk(2, dim=2)[::-1], dim=2),
    "split": lambda m, x: x.split([1, 3], dim=-1)[1],
    "unbind": lambda m, x: sum(x.unbind(2)),
    "arithmetic": lambda m, x: (2 - x) * 3.0 / (x.abs() + 1) + x**2 - 0.5,
    "reflected": lambda m, x: 1.0 / (1 + x.exp()) - (-x),
    "add_alpha": lambda m, x: torch.add(x, m.offset, alpha=2).sub(x, alpha=0.5),
    "buffer_and_parameter": lambda m, x: x * m.offset + m.fc.bias,
    "matmul": lambda m, x: x @ m.fc.weight.T + torch.matmul(x, m.fc.weight),
    "bmm": lambda m, x: torch.bmm(x, x.transpose(1, 2)),
    "functions": lambda m, x: torch.tanh(x) + torch.relu(x) + torch.sigmoid(x) + x.tanh() + x.relu() + x.sigmoid(),
    "softmax": lambda m, x: torch.softmax(x, dim=-1) + x.log_softmax(2) + F.softmax(x, dim=1),
    "log_softmax": lambda m, x: F.log_softmax(m.fc(x), dim=-1),
    "sqrt_log_clamp": lambda m, x: (x.abs() + 1).sqrt().log() + x.clamp(-0.5, 0.5) + x.clamp(min=0),
    "reductions": lambda m, x: x.sum(1) + x.mean(dim=1) + x.mean(-1, keepdim=True).sum(),
    "zeros_inside": lambda m, x: x + torch.zeros(x.size(0), x.size(1), 4),
    "new_zeros_ones": lambda m, x: (
        x + x.new_zeros(x.size(0), 1, 4) + torch.ones_like(x) + torch.full((x.size(0), 1, 1), 2.0)
    ),
    "expand_as": lambda m, x: m.offset.expand_as(x) + x,
    "dtype_casts": lambda m, x: x.double().float() + x.to(torch.float32) + x.detach() + x.data + x.clone(),
    "linear_3d": lambda m, x: F.linear(x, m.fc.weight, m.fc.bias),
    "legacy_constructors": lambda m, x: (
        x[:, :, torch.LongTensor([2, 0])] * torch.FloatTensor([0.5, 2.0]) + torch.FloatTensor(x)[:, :, :2]
    ),
    "dynamic_slice_bound": lambda m, x: x[:, : x.size(1) - 1] + x[:, 1:],
    "size_arithmetic": lambda m, x: x.view(x.size(0) // 1, x.size(1) + 0, -1).reshape(-1, 2 * x.size(1), 2),
}


@pytest.mark.parametrize("name", OPS)
def test_op_matches_deeprnn_in_onnxruntime(name):
    m = Fn(OPS[name])
    x = torch.randn(3, 5, 4, generator=torch.Generator(1))
    axes = {"x": {0: "batch", 1: "seq"}}
    data = export_bytes(m, (x,), input_names=["x"], dynamic_axes=axes)
    assert_runs_like(data, m, {"x": x}, (x,), f"{name} on the example")
    x2 = torch.randn(2, 7, 4, generator=torch.Generator(2))
    assert_runs_like(data, m, {"x": x2}, (x2,), f"{name} on another batch and length")


def test_initial_state_made_inside_forward_follows_the_batch_size():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = 6
            self.lstm = nn.LSTM(4, self.hidden, num_layers=2, batch_first=True, generator=torch.Generator(3))
            self.fc = nn.Linear(6, 2, generator=torch.Generator(4))

        def forward(self, x):
            h0 = torch.zeros(2, x.size(0), self.hidden)
            c0 = torch.zeros(2, x.size(0), self.hidden)
            out, _ = self.lstm(x, (h0, c0))
            return self.fc(out[:, -1, :])

    m = Net()
    x = torch.randn(3, 5, 4, generator=torch.Generator(5))
    data = export_bytes(m, (x,), input_names=["x"], dynamic_axes={"x": {0: "batch", 1: "seq"}})
    assert_runs_like(data, m, {"x": x}, (x,), "example")
    x2 = torch.randn(5, 2, 4, generator=torch.Generator(6))
    assert_runs_like(data, m, {"x": x2}, (x2,), "other batch")


def test_fixed_sizes_without_dynamic_axes():
    """Without dynamic_axes the sizes are plain ints, and Python code may use them freely (torch's default)."""

    def loop(m, x):
        steps = [m.fc(x[:, t]) for t in range(x.size(1))]
        return torch.stack(steps, 1) if x.size(0) > 1 else steps[0]

    m = Fn(loop)
    x = torch.randn(3, 5, 4, generator=torch.Generator(1))
    data = export_bytes(m, (x,), input_names=["x"])
    assert_runs_like(data, m, {"x": x}, (x,), "unrolled loop")
