"""Optimiser argument validation: the same exception classes and messages as torch.optim."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn


def _same_error(call):
    caught = {}
    for lib in (torch, deeprnn):
        p = lib.nn.Parameter(lib.ones(3))
        with pytest.raises(Exception) as info:
            call(lib, p)
        caught[lib] = info.value
    ours, ref = caught[deeprnn], caught[torch]
    assert type(ours) is type(ref)
    assert str(ours).replace("deeprnn.", "torch.") == str(ref)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, p: lib.optim.SGD([p], lr=-1.0),
        lambda lib, p: lib.optim.SGD([p], lr=0.1, momentum=-0.5),
        lambda lib, p: lib.optim.SGD([p], lr=0.1, weight_decay=-1e-3),
        lambda lib, p: lib.optim.SGD([p], lr=0.1, nesterov=True),
        lambda lib, p: lib.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        lambda lib, p: lib.optim.Adagrad([p], lr=-0.1),
        lambda lib, p: lib.optim.Adagrad([p], lr_decay=-0.1),
        lambda lib, p: lib.optim.Adagrad([p], initial_accumulator_value=-0.1),
        lambda lib, p: lib.optim.Adagrad([p], eps=-1.0),
        lambda lib, p: lib.optim.RMSprop([p], alpha=-0.1),
        lambda lib, p: lib.optim.RMSprop([p], momentum=-0.1),
        lambda lib, p: lib.optim.RMSprop([p], eps=-0.1),
        lambda lib, p: lib.optim.Adam([p], lr=-1.0),
        lambda lib, p: lib.optim.Adam([p], betas=(1.0, 0.999)),
        lambda lib, p: lib.optim.Adam([p], betas=(0.9, -0.1)),
        lambda lib, p: lib.optim.Adam([p], eps=-1e-8),
        lambda lib, p: lib.optim.AdamW([p], weight_decay=-0.1),
        lambda lib, p: lib.optim.SGD(p, lr=0.1),
        lambda lib, p: lib.optim.SGD([], lr=0.1),
        lambda lib, p: lib.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1),
        lambda lib, p: lib.optim.SGD([p * 2], lr=0.1),
        lambda lib, p: lib.optim.SGD([1], lr=0.1),
        lambda lib, p: lib.optim.SGD([p]).add_param_group([p]),
        lambda lib, p: lib.optim.SGD([p]).add_param_group({"params": {lib.nn.Parameter(lib.ones(1))}}),
        lambda lib, p: lib.optim.SGD([("w", p), lib.nn.Parameter(lib.ones(1))]),
        lambda lib, p: lib.optim.SGD([p]).load_state_dict({"state": {}, "param_groups": []}),
        lambda lib, p: lib.optim.SGD([p]).load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]}),
        lambda lib, p: lib.optim.lr_scheduler.StepLR(object(), 3),
        lambda lib, p: lib.optim.lr_scheduler.LambdaLR(lib.optim.SGD([p]), [lambda e: 1, lambda e: 2]),
        # issue 12
        lambda lib, p: lib.optim.Adadelta([p], lr=-1.0),
        lambda lib, p: lib.optim.Adadelta([p], rho=1.5),
        lambda lib, p: lib.optim.Adadelta([p], eps=-1.0),
        lambda lib, p: lib.optim.Adadelta([p], weight_decay=-1.0),
        lambda lib, p: lib.optim.LBFGS([p], lr=-1.0),
        lambda lib, p: lib.optim.LBFGS([{"params": [p]}, {"params": [lib.nn.Parameter(lib.ones(1))]}]),
    ],
)
def test_errors_match_torch(call):
    _same_error(call)


def test_duplicate_parameters_warn_like_torch():
    for lib in (torch, deeprnn):
        p = lib.nn.Parameter(lib.ones(3))
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.optim.SGD([p, p], lr=0.1)


def test_resuming_scheduler_without_initial_lr_is_a_key_error():
    for lib in (torch, deeprnn):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
            lib.optim.lr_scheduler.StepLR(opt, 2, last_epoch=3)


def test_state_dict_holds_only_checkpoint_friendly_values():
    p = deeprnn.nn.Parameter(np.ones(3))
    opt = deeprnn.optim.Adam([p], lr=0.1, amsgrad=True)
    p.grad = deeprnn.tensor(np.ones(3))
    opt.step()

    def check(v):
        if isinstance(v, dict):
            for x in v.values():
                check(x)
        elif isinstance(v, list):
            for x in v:
                check(x)
        else:
            assert isinstance(v, (np.ndarray, bool, int, float, str)), type(v)

    sd = opt.state_dict()
    check(sd)
    assert sd["state"][0]["step"] == 1 and sd["param_groups"][0]["betas"] == [0.9, 0.999]
