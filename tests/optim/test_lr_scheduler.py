"""Learning-rate schedules against torch.optim.lr_scheduler 2.13: lr sequences, get_last_lr,
closed-form step(epoch), state_dict round trips and the step-order warning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import deeprnn


class Warmup:
    """A callable object: LambdaLR saves its __dict__ in state_dict."""

    def __init__(self, n):
        self.n = n

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.n)


SCHEDULES = {
    "StepLR": lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
    "ExponentialLR": lambda lib, opt: lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
    "LambdaLR": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / (1 + 0.3 * e)),
    "LambdaLR-list": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, [Warmup(4), lambda e: 0.95**e]),
    "MultiStepLR": lambda lib, opt: lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.3),
    "CosineAnnealingLR": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01),
}
# issue 12: the other schedules torch programs use
SCHEDULES.update(
    {
        "MultiplicativeLR": lambda lib, opt: lib.optim.lr_scheduler.MultiplicativeLR(opt, lambda e: 0.9 + 0.01 * e),
        "MultiplicativeLR-list": lambda lib, opt: lib.optim.lr_scheduler.MultiplicativeLR(
            opt, [Warmup(3), lambda e: 0.95]
        ),
        "ConstantLR": lambda lib, opt: lib.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=4),
        "LinearLR": lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=6),
        "LinearLR-down": lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, 1.0, 0.1, total_iters=5),
        "PolynomialLR": lambda lib, opt: lib.optim.lr_scheduler.PolynomialLR(opt, total_iters=8, power=2.0),
        "CosineAnnealingWarmRestarts": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            opt, T_0=3, T_mult=2, eta_min=0.001
        ),
        "CosineAnnealingWarmRestarts-1": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 4),
        "OneCycleLR": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=[0.5, 1.0], total_steps=16),
        "OneCycleLR-linear-3phase": lambda lib, opt: lib.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=0.4, epochs=4, steps_per_epoch=4, anneal_strategy="linear", three_phase=True, pct_start=0.25
        ),
    }
)


def _optimizer(lib):
    a, b = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(3))
    return lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1, momentum=0.9), [
        a,
        b,
    ]


def _lrs(lib, name, epochs=15):
    opt, params = _optimizer(lib)
    sched = SCHEDULES[name](lib, opt)
    seq = [sched.get_last_lr()]
    for _ in range(epochs):
        for p in params:
            p.grad = lib.ones(*p.shape)
        opt.step()
        sched.step()
        seq.append(sched.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == seq[-1]
    return seq, sched, opt


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_torch_exactly(name):
    ours, _, _ = _lrs(deeprnn, name)
    ref, _, _ = _lrs(torch, name)
    assert ours == ref


@pytest.mark.parametrize(
    "name",
    ["StepLR", "ExponentialLR", "MultiStepLR", "CosineAnnealingLR", "ConstantLR", "LinearLR", "PolynomialLR"],
)
def test_step_with_epoch_uses_closed_form_like_torch(name):
    out = {}
    for lib in (torch, deeprnn):
        opt, params = _optimizer(lib)
        sched = SCHEDULES[name](lib, opt)
        for p in params:
            p.grad = lib.ones(*p.shape)
        opt.step()
        seq = []
        for epoch in (4, 7, 2):
            with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
                sched.step(epoch)
            seq.append(sched.get_last_lr())
        out[lib] = seq
    for a, b in zip(out[deeprnn], out[torch]):
        np.testing.assert_allclose(a, b, rtol=1e-15)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_state_dict_round_trip_continues_identically(name):
    full, _, _ = _lrs(deeprnn, name, epochs=10)
    _, sched, opt = _lrs(deeprnn, name, epochs=4)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    opt2, params2 = _optimizer(deeprnn)
    sched2 = SCHEDULES[name](deeprnn, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    seq = []
    for _ in range(6):
        for p in params2:
            p.grad = deeprnn.ones(*p.shape)
        opt2.step()
        sched2.step()
        seq.append(sched2.get_last_lr())
    assert seq == full[5:]
    ref = SCHEDULES[name](torch, _optimizer(torch)[0]).state_dict()
    assert set(saved_sched) >= {"base_lrs", "last_epoch", "_step_count", "_last_lr"}
    assert set(saved_sched) <= set(ref) | {"_is_initial"}


def test_lambda_lr_state_dict_saves_callable_objects_only():
    opt, _ = _optimizer(deeprnn)
    warm = Warmup(4)
    sched = deeprnn.optim.lr_scheduler.LambdaLR(opt, [warm, lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"n": 4}, None]
    warm.n = 10
    sched.load_state_dict(sd)
    assert warm.n == 4


def test_scheduler_before_optimizer_step_warns_like_torch():
    for lib in (torch, deeprnn):
        opt, _ = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        with pytest.warns(
            UserWarning,
            match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`",
        ):
            sched.step()


def test_initial_lr_and_base_lrs():
    opt, _ = _optimizer(deeprnn)
    sched = deeprnn.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    assert sched.base_lrs == [0.1, 0.3] and [g["initial_lr"] for g in opt.param_groups] == [
        0.1,
        0.3,
    ]
    assert math.isclose(sched.get_last_lr()[1], 0.3)
