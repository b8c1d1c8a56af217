"""SGD, Adagrad, RMSprop, Adam, AdamW and Adadelta against torch.optim 2.13: weights after several steps
for every option combination, param groups, skipped parameters and state_dict round trips."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from _optim_helpers import (
    build,
    data_of,
    from_json_npz,
    initial_arrays,
    make_params,
    run_steps,
    set_grads,
    to_json_npz,
)

import deeprnn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared oracle
from oracle import assert_close  # noqa: E402

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True}),
    ("SGD", {"lr": 0.05, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.05, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "eps": 1e-3, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "betas": (0.5, 0.8), "eps": 1e-3}),
    ("Adam", {"lr": 0.05, "maximize": True, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "maximize": True, "betas": (0.8, 0.9)}),
    # issue 12
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5}),
    ("Adadelta", {"lr": 0.5, "eps": 1e-3, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 0.5, "rho": 0.95, "maximize": True}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw in CASES]
DTYPES = [np.float64, np.float32]
STEPS = 6


def _trajectory(lib, name, kwargs, dtype, steps=STEPS, groups=False):
    params = make_params(lib, initial_arrays(dtype))
    opt = build(lib, name, params, kwargs, groups)
    run_steps(lib, opt, params, 0, steps)
    return [data_of(p) for p in params], opt, params


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_weights_match_torch_after_steps(name, kwargs, dtype):
    ours, _, _ = _trajectory(deeprnn, name, kwargs, dtype)
    ref, _, _ = _trajectory(torch, name, kwargs, dtype)
    init = initial_arrays(dtype)
    for i, (a, b) in enumerate(zip(ours, ref)):
        assert_close(a, b, dtype, f"param {i}")
    np.testing.assert_array_equal(ours[-1], init[-1])  # grad None: untouched
    assert not np.array_equal(ours[0], init[0])


@pytest.mark.parametrize(
    "name,kwargs",
    [CASES[1], CASES[10], CASES[17], CASES[22], CASES[28], CASES[31]],
    ids=[IDS[1], IDS[10], IDS[17], IDS[22], IDS[28], IDS[31]],
)
def test_param_groups_match_torch(name, kwargs):
    ours, opt, _ = _trajectory(deeprnn, name, kwargs, np.float64, groups=True)
    ref, ropt, _ = _trajectory(torch, name, kwargs, np.float64, groups=True)
    for i, (a, b) in enumerate(zip(ours, ref)):
        assert_close(a, b, np.float64, f"param {i}")
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in ropt.param_groups]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_state_matches_torch_state(name, kwargs, dtype):
    _, opt, _ = _trajectory(deeprnn, name, kwargs, dtype, steps=3)
    _, ropt, _ = _trajectory(torch, name, kwargs, dtype, steps=3)
    ours, ref = opt.state_dict(), ropt.state_dict()
    assert sorted(ours["state"]) == sorted(ref["state"])
    for i, rstate in ref["state"].items():
        assert sorted(ours["state"][i]) == sorted(rstate), i
        for k, v in rstate.items():
            if k == "step":
                assert ours["state"][i][k] == v.item()
            else:
                assert isinstance(ours["state"][i][k], np.ndarray)
                assert_close(ours["state"][i][k], v, dtype, f"state {i}.{k}")
    for g, rg in zip(ours["param_groups"], ref["param_groups"]):
        assert g["params"] == rg["params"]
        for k, v in g.items():
            assert (list(rg[k]) if isinstance(rg[k], tuple) else rg[k]) == v, k


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("groups", [False, True])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_state_dict_round_trip_is_bit_exact(name, kwargs, dtype, groups):
    uninterrupted, _, _ = _trajectory(deeprnn, name, kwargs, dtype, steps=STEPS, groups=groups)
    # run 3 steps, save (through JSON + npz, as a checkpoint does), reload into fresh objects, run 3 more
    params = make_params(deeprnn, initial_arrays(dtype))
    opt = build(deeprnn, name, params, kwargs, groups)
    run_steps(deeprnn, opt, params, 0, 3)
    text, blob = to_json_npz(opt.state_dict())
    weights = [data_of(p) for p in params]
    run_steps(deeprnn, opt, params, 3, 4)  # the saved dict must not change afterwards
    fresh = make_params(deeprnn, weights)
    opt2 = build(deeprnn, name, fresh, {k: v for k, v in kwargs.items() if k != "lr"}, groups)
    opt2.load_state_dict(from_json_npz(text, blob))
    hyper = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt2.param_groups] == hyper
    run_steps(deeprnn, opt2, fresh, 3, STEPS)
    for i, (a, p) in enumerate(zip(uninterrupted, fresh)):
        np.testing.assert_array_equal(a, p.detach().numpy(), err_msg=f"param {i}")


@pytest.mark.parametrize(
    "name,kwargs",
    [CASES[2], CASES[12], CASES[17], CASES[23], CASES[29], CASES[32]],
    ids=[IDS[2], IDS[12], IDS[17], IDS[23], IDS[29], IDS[32]],
)
def test_load_torch_state_dict_and_continue(name, kwargs):
    # torch's own checkpoint (tensors, tuples) loads into deeprnn and continues identically
    ref_params = make_params(torch, initial_arrays(np.float64))
    ropt = build(torch, name, ref_params, kwargs)
    run_steps(torch, ropt, ref_params, 0, 3)
    params = make_params(deeprnn, [data_of(p) for p in ref_params])
    opt = build(deeprnn, name, params, kwargs)
    opt.load_state_dict(ropt.state_dict())
    run_steps(torch, ropt, ref_params, 3, STEPS)
    run_steps(deeprnn, opt, params, 3, STEPS)
    for i, (a, b) in enumerate(zip(params, ref_params)):
        assert_close(a, b, np.float64, f"param {i}")


@pytest.mark.parametrize(
    "name,kwargs",
    [CASES[3], CASES[9], CASES[18], CASES[21], CASES[27], CASES[33]],
    ids=[IDS[3], IDS[9], IDS[18], IDS[21], IDS[27], IDS[33]],
)
def test_linear_cross_entropy_model_trains_like_torch(name, kwargs):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 5))
    y = rng.integers(0, 4, 16)
    models, initial = {}, None
    for lib in (torch, deeprnn):
        m = lib.nn.Sequential(lib.nn.Linear(5, 8, dtype=lib.float64), lib.nn.Linear(8, 4, dtype=lib.float64))
        if lib is torch:
            initial = {k: v.clone() for k, v in m.state_dict().items()}  # before torch trains in place
        else:
            m.load_state_dict(initial)
        opt = getattr(lib.optim, name)(m.parameters(), **kwargs)
        xs, ys = lib.tensor(x), lib.tensor(y)
        for _ in range(STEPS):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(lib.tanh(m(xs)), ys)
            loss.backward()
            opt.step()
        models[lib] = (m, loss)
    assert_close(models[deeprnn][1], models[torch][1], np.float64, "loss")
    ref = dict(models[torch][0].named_parameters())
    for k, p in models[deeprnn][0].named_parameters():
        assert_close(p, ref[k], np.float64, k)


def test_step_closure_zero_grad_and_repr():
    for lib in (torch, deeprnn):
        params = make_params(lib, initial_arrays(np.float64))
        opt = lib.optim.SGD(params, lr=0.1, momentum=0.9)
        calls = []

        def closure(lib=lib, params=params, opt=opt):
            opt.zero_grad()
            set_grads(lib, params, 0)
            calls.append(1)
            return 1.5

        assert opt.step(closure) == 1.5 and calls == [1]
        opt.zero_grad(set_to_none=False)
        assert not np.any(data_of(params[0].grad)) and params[-1].grad is None
        opt.zero_grad()
        assert params[0].grad is None
    ours = repr(deeprnn.optim.SGD(make_params(deeprnn, initial_arrays(np.float64)), lr=0.1))
    assert ours.startswith("SGD (\nParameter Group 0\n    dampening: 0\n") and "lr: 0.1" in ours


def test_named_parameters_and_add_param_group():
    lin = deeprnn.nn.Linear(3, 2)
    opt = deeprnn.optim.Adam(lin.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    extra = deeprnn.nn.Parameter(np.zeros(2))
    opt.add_param_group({"params": extra, "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    assert opt.state_dict()["param_groups"][1]["params"] == [2]
