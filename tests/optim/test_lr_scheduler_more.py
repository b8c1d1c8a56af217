"""ReduceLROnPlateau, OneCycleLR's momentum, fractional warm restarts, SequentialLR and ChainedScheduler
against torch.optim.lr_scheduler 2.13, and their errors."""

from __future__ import annotations

import pytest
import torch

import deeprnn


def _opt(lib, name="SGD", **kw):
    a, b = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(3))
    groups = [{"params": [a]}, {"params": [b], "lr": 0.3}]
    if name == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9, **kw), [a, b]
    return getattr(lib.optim, name)(groups, lr=0.1, **kw), [a, b]


def _step(lib, opt, params):
    for p in params:
        p.grad = lib.ones(*p.shape)
    opt.step()


def _groups(opt, *keys):
    return [[(list(g[k]) if isinstance(g[k], tuple) else g[k]) for k in keys] for g in opt.param_groups]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 2, "factor": 0.5},
        {"mode": "max", "patience": 1, "threshold": 0.05},
        {"threshold_mode": "abs", "threshold": 0.1, "patience": 1, "cooldown": 2},
        {"patience": 0, "min_lr": [0.02, 0.05], "factor": 0.3},
        {"patience": 0, "min_lr": 0.05, "eps": 0.04},
    ],
)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [5.0, 4.0, 4.0, 3.99, 4.2, 4.1, 3.0, 3.0, 3.0, 3.0, 2.9, 3.5, 3.5, 3.5, 3.5, 1.0, 1.0, 1.0]
    out = {}
    for lib in (torch, deeprnn):
        opt, params = _opt(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for m in metrics:
            _step(lib, opt, params)
            sched.step(lib.tensor(m) if m == 3.0 else m)  # a number or a one-element tensor
            seq.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
        out[lib] = seq
    assert out[deeprnn] == out[torch]


def test_reduce_lr_on_plateau_state_dict_round_trip():
    opt, params = _opt(deeprnn)
    sched = deeprnn.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    for m in (3.0, 3.0, 3.0):
        sched.step(m)
    state = sched.state_dict()
    ref_keys = set(torch.optim.lr_scheduler.ReduceLROnPlateau(_opt(torch)[0]).state_dict())
    assert set(state) <= ref_keys | {"_is_initial"} and state["num_bad_epochs"] == 0
    opt2, _ = _opt(deeprnn)
    sched2 = deeprnn.optim.lr_scheduler.ReduceLROnPlateau(opt2)
    sched2.load_state_dict(state)
    assert sched2.patience == 1 and sched2.best == 3.0 and sched2.last_epoch == 3


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_one_cycle_cycles_momentum_or_beta1_like_torch(optimizer):
    out = {}
    for lib in (torch, deeprnn):
        opt, params = _opt(lib, optimizer)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, base_momentum=0.8)
        key = "momentum" if optimizer == "SGD" else "betas"
        seq = [_groups(opt, "lr", key)]
        for _ in range(10):
            _step(lib, opt, params)
            sched.step()
            seq.append(_groups(opt, "lr", key))
        out[lib] = seq
    assert out[deeprnn] == out[torch]


def test_one_cycle_stepping_past_total_steps_is_torchs_error():
    for lib in (torch, deeprnn):
        opt, params = _opt(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
        _step(lib, opt, params)
        sched.step()
        sched.step()
        with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
            sched.step()


def test_warm_restarts_with_fractional_epochs_match_torch():
    out = {}
    for lib in (torch, deeprnn):
        opt, params = _opt(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.01)
        seq = []
        for epoch in range(5):
            for batch in range(4):
                _step(lib, opt, params)
                sched.step(epoch + batch / 4)
                seq.append((sched.get_last_lr(), sched.T_cur, sched.T_i))
        out[lib] = seq
    assert out[deeprnn] == out[torch]


def _composite(lib, kind):
    opt, params = _opt(lib)
    L = lib.optim.lr_scheduler
    if kind == "sequential":
        warm = L.LinearLR(opt, start_factor=0.25, total_iters=3)
        decay = L.ExponentialLR(opt, gamma=0.8)
        return L.SequentialLR(opt, [warm, decay], milestones=[3]), opt, params
    if kind == "sequential-3":
        a, b, c = L.ConstantLR(opt, 0.5, total_iters=2), L.StepLR(opt, 2, 0.5), L.CosineAnnealingLR(opt, 4)
        return L.SequentialLR(opt, [a, b, c], milestones=[2, 6]), opt, params
    return L.ChainedScheduler([L.ConstantLR(opt, 0.1, total_iters=2), L.ExponentialLR(opt, 0.9)]), opt, params


@pytest.mark.parametrize("kind", ["sequential", "sequential-3", "chained"])
def test_composite_schedules_match_torch(kind):
    out = {}
    for lib in (torch, deeprnn):
        sched, opt, params = _composite(lib, kind)
        seq = [sched.get_last_lr()]
        for _ in range(12):
            _step(lib, opt, params)
            sched.step()
            seq.append(sched.get_last_lr())
        out[lib] = seq
    assert out[deeprnn] == out[torch]


@pytest.mark.parametrize("kind", ["sequential", "chained"])
def test_composite_state_dict_round_trip(kind):
    full, opt, params = _composite(deeprnn, kind)
    expected = []
    for i in range(8):
        _step(deeprnn, opt, params)
        full.step()
        if i == 3:
            saved, saved_opt = full.state_dict(), opt.state_dict()
        if i > 3:
            expected.append(full.get_last_lr())
    sched, opt2, params2 = _composite(deeprnn, kind)
    opt2.load_state_dict(saved_opt)
    sched.load_state_dict(saved)
    got = []
    for _ in range(4):
        _step(deeprnn, opt2, params2)
        sched.step()
        got.append(sched.get_last_lr())
    assert got == expected and isinstance(saved["_schedulers"], list)


@pytest.mark.parametrize(
    "make",
    [
        lambda L, opt: L.ReduceLROnPlateau(opt, factor=1.0),
        lambda L, opt: L.ReduceLROnPlateau(opt, mode="avg"),
        lambda L, opt: L.ReduceLROnPlateau(opt, threshold_mode="pct"),
        lambda L, opt: L.ReduceLROnPlateau(opt, min_lr=[0.1]),
        lambda L, opt: L.ReduceLROnPlateau(object()),
        lambda L, opt: L.ConstantLR(opt, factor=1.5),
        lambda L, opt: L.LinearLR(opt, start_factor=0.0),
        lambda L, opt: L.LinearLR(opt, end_factor=2.0),
        lambda L, opt: L.MultiplicativeLR(opt, [lambda e: 1.0]),
        lambda L, opt: L.MultiplicativeLR(opt, 3),
        lambda L, opt: L.CosineAnnealingWarmRestarts(opt, T_0=0),
        lambda L, opt: L.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0),
        lambda L, opt: L.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0"),
        lambda L, opt: L.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1),
        lambda L, opt: L.OneCycleLR(opt, max_lr=1.0),
        lambda L, opt: L.OneCycleLR(opt, max_lr=1.0, total_steps=0),
        lambda L, opt: L.OneCycleLR(opt, max_lr=1.0, epochs=0, steps_per_epoch=2),
        lambda L, opt: L.OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=0),
        lambda L, opt: L.OneCycleLR(opt, max_lr=1.0, total_steps=4, pct_start=1.5),
        lambda L, opt: L.OneCycleLR(opt, max_lr=1.0, total_steps=4, anneal_strategy="exp"),
        lambda L, opt: L.OneCycleLR(opt, max_lr=[1.0], total_steps=4),
        lambda L, opt: L.SequentialLR(opt, [], milestones=[]),
        lambda L, opt: L.SequentialLR(opt, [L.StepLR(opt, 2)], milestones=[1]),
        lambda L, opt: L.SequentialLR(opt, [L.ReduceLROnPlateau(opt)], milestones=[]),
        lambda L, opt: L.ChainedScheduler([]),
        lambda L, opt: L.ChainedScheduler([L.ReduceLROnPlateau(opt)]),
    ],
)
def test_scheduler_errors_match_torch(make):
    caught = {}
    for lib in (torch, deeprnn):
        with pytest.raises(Exception) as err:  # noqa: PT011 - compared below
            make(lib.optim.lr_scheduler, _opt(lib)[0])
        caught[lib] = err.value
    assert type(caught[deeprnn]) is type(caught[torch])
    assert str(caught[deeprnn]) == str(caught[torch])


def test_one_cycle_needs_momentum_and_adagrad_has_none():
    for lib in (torch, deeprnn):
        opt = lib.optim.Adagrad([lib.nn.Parameter(lib.ones(1))])
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1 with `cycle_momentum`"):
            lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
