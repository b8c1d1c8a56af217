"""Training state through files, both ways: model and optimiser state_dicts continue identically."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import deeprnn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared oracle
from oracle import assert_close  # noqa: E402

OPTIMISERS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("Adagrad", {"lr": 0.1}),
]


def _model(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 5), lib.nn.Linear(5, 2)).double()


def _steps(lib, model, opt, n, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x, y = lib.tensor(rng.standard_normal((8, 3))), lib.tensor(rng.standard_normal((8, 2)))
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return loss


@pytest.mark.parametrize("name,kwargs", OPTIMISERS, ids=[n for n, _ in OPTIMISERS])
def test_torch_checkpoint_resumes_in_deeprnn(tmp_path, name, kwargs):
    torch.manual_seed(0)
    ref = _model(torch)
    ropt = getattr(torch.optim, name)(ref.parameters(), **kwargs)
    _steps(torch, ref, ropt, 3)
    path = tmp_path / "ckpt.pt"
    torch.save({"model": ref.state_dict(), "optim": ropt.state_dict(), "epoch": 3}, path)
    ckpt = deeprnn.load(path)
    ours = _model(deeprnn)
    ours.load_state_dict(ckpt["model"])
    opt = getattr(deeprnn.optim, name)(ours.parameters(), **kwargs)
    opt.load_state_dict(ckpt["optim"])
    assert ckpt["epoch"] == 3
    lr, lo = _steps(torch, ref, ropt, 3, seed=1), _steps(deeprnn, ours, opt, 3, seed=1)
    assert_close(lo, lr, np.float64, "loss after resuming")
    for k, v in ref.state_dict().items():
        assert_close(ours.state_dict()[k], v, np.float64, k)


@pytest.mark.parametrize("name,kwargs", OPTIMISERS, ids=[n for n, _ in OPTIMISERS])
def test_deeprnn_checkpoint_resumes_in_torch(tmp_path, name, kwargs):
    torch.manual_seed(0)
    ref = _model(torch)
    ours = _model(deeprnn)
    ours.load_state_dict(ref.state_dict())
    opt = getattr(deeprnn.optim, name)(ours.parameters(), **kwargs)
    ropt = getattr(torch.optim, name)(ref.parameters(), **kwargs)
    _steps(deeprnn, ours, opt, 3)
    _steps(torch, ref, ropt, 3)
    path = tmp_path / "ckpt.pt"
    deeprnn.save({"model": ours.state_dict(), "optim": opt.state_dict()}, path)
    ckpt = torch.load(path, weights_only=True)
    fresh = _model(torch)
    fresh.load_state_dict(ckpt["model"])
    fopt = getattr(torch.optim, name)(fresh.parameters(), **kwargs)
    fopt.load_state_dict(ckpt["optim"])
    lf, lr = _steps(torch, fresh, fopt, 3, seed=1), _steps(torch, ref, ropt, 3, seed=1)
    assert_close(lf, lr, np.float64, "loss after resuming in torch")


def test_deeprnn_optimizer_state_round_trips_through_its_own_file(tmp_path):
    model = _model(deeprnn)
    opt = deeprnn.optim.Adam(model.parameters(), lr=0.01)
    _steps(deeprnn, model, opt, 2)
    deeprnn.save({"m": model.state_dict(), "o": opt.state_dict()}, tmp_path / "c.pt")
    expected = _steps(deeprnn, model, opt, 2, seed=5)
    ckpt = deeprnn.load(tmp_path / "c.pt")
    model2 = _model(deeprnn)
    model2.load_state_dict(ckpt["m"])
    opt2 = deeprnn.optim.Adam(model2.parameters(), lr=0.01)
    opt2.load_state_dict(ckpt["o"])
    np.testing.assert_array_equal(_steps(deeprnn, model2, opt2, 2, seed=5).detach().numpy(), expected.detach().numpy())
