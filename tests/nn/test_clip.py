"""nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils 2.13."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _layers_parity import assert_close, rng_for

import deeprnn

SHAPES = [(4, 3), (5,), (2, 3, 2), (3,)]


def _params(lib, dtype, key, scale=1.0, none_last=True):
    rng = rng_for("clip", key)
    params = []
    for i, s in enumerate(SHAPES):
        p = lib.nn.Parameter(lib.tensor(rng.standard_normal(s).astype(dtype)))
        if not (none_last and i == len(SHAPES) - 1):
            g = (rng.standard_normal(s) * scale).astype(dtype)
            p.grad = lib.tensor(g)
        params.append(p)
    return params


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.3, 2.0, 1e3])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    key = (dtype, norm_type, max_norm)
    out = {}
    for lib in (torch, deeprnn):
        params = _params(lib, dtype, key)
        nt = float(norm_type) if norm_type == "inf" else norm_type
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=nt)
        out[lib] = (total, params)
    total, ref_total = out[deeprnn][0], out[torch][0]
    assert isinstance(total, deeprnn.Tensor) and total.shape == ()
    assert_close(total, ref_total, dtype, "total norm")
    for i, (a, b) in enumerate(zip(out[deeprnn][1], out[torch][1])):
        if b.grad is None:
            assert a.grad is None
        else:
            assert_close(a.grad, b.grad, dtype, f"grad {i}")


def test_clip_grad_norm_scales_by_pytorch_coefficient():
    params = _params(deeprnn, np.float64, "coef", scale=10.0)
    before = [p.grad.detach().numpy().copy() for p in params[:-1]]
    total = float(np.sqrt(sum((g**2).sum() for g in before)))
    got = deeprnn.nn.utils.clip_grad_norm_(params, 1.0)
    assert math.isclose(got.item(), total, rel_tol=1e-12)
    for b, p in zip(before, params):
        np.testing.assert_allclose(p.grad.detach().numpy(), b * (1.0 / (total + 1e-6)), rtol=1e-14)


def test_clip_grad_norm_single_tensor_empty_and_generator():
    for lib in (torch, deeprnn):
        p = lib.nn.Parameter(lib.ones(3))
        p.grad = lib.tensor([3.0, 4.0, 0.0])
        assert math.isclose(lib.nn.utils.clip_grad_norm_(p, 1.0).item(), 5.0, rel_tol=1e-6)
        np.testing.assert_allclose(
            np.asarray(p.grad.detach() if lib is torch else p.grad.detach().numpy()),
            [3 / (5 + 1e-6), 4 / (5 + 1e-6), 0],
            rtol=1e-6,
        )
        empty = lib.nn.utils.clip_grad_norm_([], 1.0)
        assert empty.item() == 0.0 and empty.dtype == lib.float32
        q = lib.nn.Parameter(lib.ones(2))
        q.grad = lib.ones(2)
        assert math.isclose(lib.nn.utils.clip_grad_norm_(iter([q]), 10.0).item(), math.sqrt(2), rel_tol=1e-6)


def test_clip_grad_norm_nonfinite():
    msgs = {}
    for lib in (torch, deeprnn):
        p = lib.nn.Parameter(lib.ones(3))
        p.grad = lib.tensor([1.0, float("inf"), 0.0])
        with pytest.raises(RuntimeError) as info:
            lib.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        msgs[lib] = str(info.value)
        total = lib.nn.utils.clip_grad_norm_([p], 1.0)  # scales by the non-finite norm anyway
        assert math.isinf(total.item())
    assert msgs[deeprnn] == msgs[torch]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("clip_value", [0.1, 0.5, 10])
def test_clip_grad_value_matches_torch(dtype, clip_value):
    out = {}
    for lib in (torch, deeprnn):
        params = _params(lib, dtype, ("value", dtype, clip_value))
        assert lib.nn.utils.clip_grad_value_(params, clip_value) is None
        out[lib] = params
    for a, b in zip(out[deeprnn], out[torch]):
        if b.grad is not None:
            np.testing.assert_array_equal(a.grad.detach().numpy(), b.grad.numpy())
