"""Every tensor operation against torch: forward values and gradients, in float32 and float64.

``check(fn, *shapes)`` runs ``fn(lib, *tensors)`` once with lib=deeprnn and once with
lib=torch on the same random inputs, back-propagates a random cotangent and compares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import deeprnn
from oracle import assert_close

DTYPES = [np.float32, np.float64]


def check(
    fn: Callable[..., Any], *shapes: tuple, dtype: Any = np.float64, positive: bool = False, seed: int = 0
) -> None:
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    if positive:
        xs = [np.abs(x) + 0.5 for x in xs]
    ours_in = [deeprnn.tensor(x, requires_grad=True) for x in xs]
    ref_in = [torch.tensor(x, requires_grad=True) for x in xs]
    ours, ref = fn(deeprnn, *ours_in), fn(torch, *ref_in)
    assert tuple(ours.shape) == tuple(ref.shape)
    assert_close(ours, ref, dtype, "forward")
    cot = rng.standard_normal(tuple(ref.shape)).astype(dtype)
    (ours * deeprnn.tensor(cot)).sum().backward()
    (ref * torch.tensor(cot)).sum().backward()
    for i, (a, b) in enumerate(zip(ours_in, ref_in)):
        if b.grad is None:
            assert a.grad is None or not a.grad.detach().numpy().any()
        else:
            assert_close(a.grad, b.grad, dtype, f"grad of input {i}")


BINARY = {
    "add": lambda L, a, b: a + b,
    "sub": lambda L, a, b: a - b,
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / b,
    "radd_scalar": lambda L, a, b: 2.5 + a * b,
    "rsub_scalar": lambda L, a, b: 1 - a * b,
    "rdiv_scalar": lambda L, a, b: 1 / (a * a + 1) + b,
    "pow_scalar": lambda L, a, b: L.pow(a, 2) + b**3,
    "maximum": lambda L, a, b: L.maximum(a, b),
    "add_alpha": lambda L, a, b: L.add(a, b, alpha=0.5),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 2))])
def test_binary_broadcasting(name: str, shapes: tuple, dtype: type) -> None:
    check(BINARY[name], *shapes, dtype=dtype)


def test_pow_with_tensor_exponent() -> None:
    check(lambda L, a, b: a**b, (3, 4), (3, 4), positive=True)


UNARY = {
    "tanh": lambda L, a: L.tanh(a),
    "relu": lambda L, a: L.relu(a),
    "sigmoid": lambda L, a: L.sigmoid(a * 3),
    "exp": lambda L, a: L.exp(a),
    "neg": lambda L, a: -a,
    "abs": lambda L, a: L.abs(a),
    "clamp": lambda L, a: L.clamp(a, -0.5, 0.7),
    "method_tanh": lambda L, a: a.tanh().relu().sigmoid(),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name: str, dtype: type) -> None:
    check(UNARY[name], (4, 5), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_and_sqrt(dtype: type) -> None:
    check(lambda L, a: L.log(a) + L.sqrt(a), (4, 5), positive=True, dtype=dtype)


REDUCE = {
    "sum_all": lambda L, a: a.sum(),
    "sum_dim": lambda L, a: a.sum(1),
    "sum_dims_keep": lambda L, a: a.sum((0, 2), keepdim=True),
    "sum_neg_dim": lambda L, a: L.sum(a, dim=-1),
    "mean_all": lambda L, a: a.mean(),
    "mean_dim": lambda L, a: a.mean(dim=0),
    "mean_keep": lambda L, a: a.mean(2, keepdim=True),
    "max_dim": lambda L, a: a.max(1)[0],
    "max_all": lambda L, a: a.max(),
    "min_dim_keep": lambda L, a: a.min(dim=2, keepdim=True).values,
    "norm": lambda L, a: a.norm(),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(REDUCE))
def test_reductions(name: str, dtype: type) -> None:
    check(REDUCE[name], (2, 3, 4), dtype=dtype)


LINALG = {
    "mm": (lambda L, a, b: L.mm(a, b), ((3, 4), (4, 5))),
    "matmul_2d": (lambda L, a, b: a @ b, ((3, 4), (4, 5))),
    "matmul_batched": (lambda L, a, b: L.matmul(a, b), ((2, 3, 4), (2, 4, 5))),
    "matmul_broadcast": (lambda L, a, b: a @ b, ((2, 3, 4), (4, 5))),
    "matmul_vec_mat": (lambda L, a, b: a @ b, ((4,), (4, 5))),
    "matmul_mat_vec": (lambda L, a, b: a.matmul(b), ((3, 4), (4,))),
    "matmul_vec_vec": (lambda L, a, b: a @ b, ((4,), (4,))),
    "mm_method_T": (lambda L, a, b: a.mm(b.T), ((3, 4), (5, 4))),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LINALG))
def test_matrix_products(name: str, dtype: type) -> None:
    fn, shapes = LINALG[name]
    check(fn, *shapes, dtype=dtype)


SHAPE = {
    "reshape": (lambda L, a: a.reshape(4, 6), [(2, 3, 4)]),
    "reshape_tuple_neg": (lambda L, a: a.reshape((-1, 2)), [(2, 3, 4)]),
    "view": (lambda L, a: a.view(6, 4), [(2, 3, 4)]),
    "transpose": (lambda L, a: a.transpose(0, 2), [(2, 3, 4)]),
    "fn_transpose": (lambda L, a: L.transpose(a, 1, -1), [(2, 3, 4)]),
    "permute": (lambda L, a: a.permute(2, 0, 1), [(2, 3, 4)]),
    "T": (lambda L, a: a.T, [(3, 4)]),
    "t": (lambda L, a: a.t(), [(3, 4)]),
    "index_int": (lambda L, a: a[1], [(3, 4)]),
    "index_slice": (lambda L, a: a[:, 1:3], [(3, 4)]),
    "index_neg_step": (lambda L, a: a[::2, -1], [(5, 4)]),
    "index_ellipsis": (lambda L, a: a[..., 0], [(2, 3, 4)]),
    "index_none": (lambda L, a: a[None, 1], [(3, 4)]),
    "index_list_repeats": (lambda L, a: a[[0, 2, 0]], [(3, 4)]),
    "cat0": (lambda L, a, b: L.cat([a, b]), [(2, 3), (4, 3)]),
    "cat1": (lambda L, a, b: L.cat((a, b), dim=1), [(2, 3), (2, 5)]),
    "stack0": (lambda L, a, b: L.stack([a, b]), [(2, 3), (2, 3)]),
    "stack_last": (lambda L, a, b: L.stack([a, b], dim=-1), [(2, 3), (2, 3)]),
    "unbind": (lambda L, a: L.unbind(a, 1)[1] * 2 + a.unbind(0)[0][0], [(3, 4)]),
    "squeeze_unsqueeze": (lambda L, a: a.unsqueeze(1).squeeze(), [(3, 4)]),
    "flatten": (lambda L, a: a.flatten(1), [(2, 3, 4)]),
    "expand": (lambda L, a: a.expand(3, 4) * 1, [(1, 4)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(SHAPE))
def test_shape_ops(name: str, dtype: type) -> None:
    fn, shapes = SHAPE[name]
    check(fn, *shapes, dtype=dtype)


def test_index_with_tensor() -> None:
    idx = [2, 0, 2]
    check(lambda L, a: a[L.tensor(idx)], (3, 4))


def test_an_rnn_step_written_by_hand() -> None:
    """The composition the seeds write out: tanh(x W_ih + h W_hh + b), then a linear output."""
    check(
        lambda L, x, w, h, u, b, v: L.tanh(L.mm(x, w) + L.mm(h, u) + b) @ v,
        (1, 3),
        (3, 2),
        (1, 2),
        (2, 2),
        (1, 2),
        (2, 4),
    )


@pytest.mark.parametrize(
    "src,dst,shape",
    [
        ("float32", "int32", (2, 3)),
        ("float32", "float64", (3, 4)),
        ("float64", "float32", (2, 3)),
        ("float32", "float16", (5,)),
        ("int64", "float64", (4,)),
        ("float32", "float32", (2, 2)),
    ],
)
def test_view_dtype_reinterprets_bytes_like_torch(src: str, dst: str, shape: tuple) -> None:
    """view(dtype) reinterprets the bytes (it does not convert values) and carries no gradient."""
    x = (np.arange(int(np.prod(shape))) + 1).reshape(shape).astype(src) * 3
    ours = deeprnn.tensor(x, requires_grad=src.startswith("float")).view(getattr(deeprnn, dst))
    ref = torch.tensor(x, requires_grad=src.startswith("float")).view(getattr(torch, dst))
    assert tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert ours.requires_grad == ref.requires_grad


@pytest.mark.parametrize("dst,shape", [("float64", (3,)), ("float64", ())])
def test_view_dtype_errors_like_torch(dst: str, shape: tuple) -> None:
    x = np.ones(shape, dtype=np.float32)
    with pytest.raises(RuntimeError) as ref:
        torch.tensor(x).view(getattr(torch, dst))
    with pytest.raises(RuntimeError) as ours:
        deeprnn.tensor(x).view(getattr(deeprnn, dst))
    assert str(ours.value) == str(ref.value)
