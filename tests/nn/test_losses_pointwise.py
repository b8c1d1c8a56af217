"""BCELoss, BCEWithLogitsLoss, L1Loss, SmoothL1Loss, HuberLoss (modules and functions) against torch 2.13."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layers_parity import assert_close, check_parity, rng_for, same_error

import deeprnn

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]


def _xy(kind, shape, dtype):
    rng = rng_for("loss", kind, shape)
    if kind == "prob":
        x = rng.uniform(0.02, 0.98, shape)
        x.flat[:2] = [1e-7, 1 - 1e-7] if x.size > 2 else x.flat[:2]
        return x.astype(dtype), rng.uniform(0, 1, shape).astype(dtype)
    x = 2 * rng.standard_normal(shape)
    y = 2 * rng.standard_normal(shape)
    if x.size > 4:
        y.flat[:4] = x.flat[:4] + np.array([0.0, 1.0, -1.0, 0.5])  # on the kinks: d = 0, +-beta, delta / 2
    return x.astype(dtype), y.astype(dtype)


MODULES = {
    "BCELoss": ("prob", lambda lib, r: lib.nn.BCELoss(reduction=r)),
    "BCEWithLogitsLoss": ("real", lambda lib, r: lib.nn.BCEWithLogitsLoss(reduction=r)),
    "L1Loss": ("real", lambda lib, r: lib.nn.L1Loss(reduction=r)),
    "SmoothL1Loss": ("real", lambda lib, r: lib.nn.SmoothL1Loss(reduction=r)),
    "SmoothL1Loss-beta": ("real", lambda lib, r: lib.nn.SmoothL1Loss(reduction=r, beta=0.5)),
    "SmoothL1Loss-beta0": ("real", lambda lib, r: lib.nn.SmoothL1Loss(reduction=r, beta=0.0)),
    "HuberLoss": ("real", lambda lib, r: lib.nn.HuberLoss(reduction=r)),
    "HuberLoss-delta": ("real", lambda lib, r: lib.nn.HuberLoss(reduction=r, delta=0.5)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 3), (5,), ()])
@pytest.mark.parametrize("name", list(MODULES))
def test_losses_match_torch_for_input_and_target(name, shape, reduction, dtype):
    kind, make = MODULES[name]
    x, y = _xy(kind, shape, dtype)
    # the target requires grad too: torch differentiates every one of these losses in it
    check_parity(lambda lib, m, a, b: m(a, b), [x, y], dtype=dtype, module=lambda lib: make(lib, reduction))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weights_and_pos_weight_match_torch(reduction, dtype):
    rng = rng_for("weights")
    w = rng.uniform(0.5, 2, (1, 3))
    pw = rng.uniform(0.5, 3, 3)
    x, y = _xy("real", (4, 3), dtype)
    p, q = _xy("prob", (4, 3), dtype)
    check_parity(
        lambda lib, m, a, b: m(a, b),
        [x, (y > 0).astype(dtype)],
        dtype=dtype,
        module=lambda lib: lib.nn.BCEWithLogitsLoss(lib.tensor(w.astype(dtype)), reduction=reduction,
                                                    pos_weight=lib.tensor(pw.astype(dtype))),
    )  # fmt: skip
    check_parity(
        lambda lib, m, a, b: lib.nn.functional.binary_cross_entropy(
            a, b, lib.tensor(w.astype(dtype)), reduction=reduction
        ),
        [p, q],
        dtype=dtype,
    )


def test_extreme_logits_stay_finite_as_torch():
    x = np.array([-200.0, -30.0, 0.0, 30.0, 200.0])
    y = np.array([1.0, 0.0, 0.5, 1.0, 0.0])
    check_parity(lambda lib, m, a, b: lib.nn.functional.binary_cross_entropy_with_logits(a, b), [x, y])
    p = np.array([1e-300, 1 - 2**-53, 0.5, 1e-200, 1 - 2**-52])  # log clamped at -100, as torch
    check_parity(lambda lib, m, a, b: lib.nn.functional.binary_cross_entropy(a, b), [p, y])
    # probabilities exactly 0 and 1: finite loss and input gradient (the target's is infinite in both)
    p = np.array([0.0, 1.0, 0.0, 1.0])
    got = {}
    for lib in (torch, deeprnn):
        a = lib.tensor(p, requires_grad=True)
        loss = lib.nn.functional.binary_cross_entropy(a, lib.tensor(np.array([1.0, 0, 0, 1])), reduction="sum")
        loss.backward()
        got[lib] = (loss, a.grad)
    for i in (0, 1):
        assert_close(got[deeprnn][i], got[torch][i], np.float64, "bce at 0 and 1")


def test_broadcasting_losses_warn_and_match_torch():
    x, y = _xy("real", (4, 3), np.float64)
    for name in ("l1_loss", "smooth_l1_loss", "huber_loss"):
        with pytest.warns(UserWarning, match="Using a target size") as caught:
            check_parity(lambda lib, m, a, b, name=name: getattr(lib.nn.functional, name)(a, b), [x, y[0]])
        assert len(caught) == 2  # torch's warning and deeprnn's


def test_loss_reprs_and_buffers_match_torch():
    for name, (_, make) in MODULES.items():
        for r in REDUCTIONS:
            assert repr(make(deeprnn, r)) == repr(make(torch, r)), name
    ours = deeprnn.nn.BCEWithLogitsLoss(pos_weight=deeprnn.ones(3))
    assert list(ours.state_dict()) == list(torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3)).state_dict())


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.BCELoss()(lib.tensor([0.5, 1.5]), lib.tensor([0.5, 0.5])),
        lambda lib: lib.nn.BCELoss()(lib.tensor([0.5, 0.5]), lib.tensor([2.0, 0.5])),
        lambda lib: lib.nn.SmoothL1Loss(beta=-1.0)(lib.ones(2), lib.ones(2)),
        lambda lib: lib.nn.HuberLoss(delta=0.0)(lib.ones(2), lib.ones(2)),
        lambda lib: lib.nn.L1Loss(reduction="avg")(lib.ones(2), lib.ones(2)),
        lambda lib: lib.nn.BCELoss()(lib.ones(2, dtype=lib.float64), lib.ones(2)),
    ],
)
def test_loss_errors_match_torch(call):
    same_error(call)


def test_shape_mismatch_errors_name_both_sizes():
    same_error(lambda lib: lib.nn.BCELoss()(lib.tensor([[0.5], [0.5]]), lib.tensor([0.5, 0.5])))
    same_error(lambda lib: lib.nn.BCEWithLogitsLoss()(lib.ones(2, 1), lib.ones(2)))
