"""Activation modules and functions against torch 2.13: forward, gradients, boundaries, repr and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _layers_parity import check_parity, rng_for, same_error

import deeprnn

DTYPES = [np.float64, np.float32]

MODULES = {
    "ReLU": lambda lib: lib.nn.ReLU(),
    "ReLU-inplace": lambda lib: lib.nn.ReLU(inplace=True),
    "Tanh": lambda lib: lib.nn.Tanh(),
    "Sigmoid": lambda lib: lib.nn.Sigmoid(),
    "LeakyReLU": lambda lib: lib.nn.LeakyReLU(),
    "LeakyReLU-0.2": lambda lib: lib.nn.LeakyReLU(0.2),
    "ELU": lambda lib: lib.nn.ELU(),
    "ELU-alpha": lambda lib: lib.nn.ELU(alpha=0.5),
    "GELU": lambda lib: lib.nn.GELU(),
    "GELU-tanh": lambda lib: lib.nn.GELU(approximate="tanh"),
    "Softplus": lambda lib: lib.nn.Softplus(),
    "Softplus-beta": lambda lib: lib.nn.Softplus(beta=2.0, threshold=3.0),
    "Hardtanh": lambda lib: lib.nn.Hardtanh(),
    "Hardtanh-range": lambda lib: lib.nn.Hardtanh(-0.5, 2.0),
    "ReLU6": lambda lib: lib.nn.ReLU6(),
    "SiLU": lambda lib: lib.nn.SiLU(),
    "LogSigmoid": lambda lib: lib.nn.LogSigmoid(),
    "Softmax-1": lambda lib: lib.nn.Softmax(dim=1),
    "Softmax--1": lambda lib: lib.nn.Softmax(dim=-1),
    "LogSoftmax-1": lambda lib: lib.nn.LogSoftmax(dim=1),
    "LogSoftmax-0": lambda lib: lib.nn.LogSoftmax(0),
}


def _input(name, dtype, shape=(4, 5)):
    """Values spread over [-8, 8] plus each activation's boundary points (0, +-1, 6, thresholds)."""
    x = 4 * rng_for("act", name, shape).standard_normal(shape)
    x.flat[:8] = [0.0, 1.0, -1.0, 6.0, -0.5, 2.0, 1.5, 10.0]
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(MODULES))
def test_activation_modules_match_torch(name, dtype):
    # an in-place module may not write into a leaf in torch, so it gets a computed tensor
    check_parity(lambda lib, m, x: m(x * 1), [_input(name, dtype)], dtype=dtype, module=MODULES[name])


@pytest.mark.parametrize("name", list(MODULES))
def test_activation_repr_matches_torch(name):
    assert repr(MODULES[name](deeprnn)) == repr(MODULES[name](torch))


FUNCTIONS = {
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1),
    "elu": lambda lib, x: lib.nn.functional.elu(x, 1.5),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "gelu-tanh": lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"),
    "softplus": lambda lib, x: lib.nn.functional.softplus(x, beta=0.5, threshold=2.0),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, -2.0, 1.0),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("shape", [(3, 4), (), (2, 3, 2)])
def test_functional_activations_match_torch(name, dtype, shape):
    x = _input(name, dtype, shape) if shape else np.asarray(-0.75, dtype=dtype)
    check_parity(lambda lib, m, t: FUNCTIONS[name](lib, t), [x], dtype=dtype)


def test_extreme_inputs_stay_finite_as_torch():
    x = np.array([-1000.0, -50.0, 50.0, 1000.0])
    for name in ("softplus", "silu", "logsigmoid", "elu", "gelu"):
        check_parity(lambda lib, m, t, name=name: FUNCTIONS[name](lib, t), [x], dtype=np.float64)


def test_softmax_without_dim_warns_as_torch():
    x = deeprnn.tensor(np.ones((2, 3)))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        deeprnn.nn.Softmax()(x)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax has been deprecated"):
        deeprnn.nn.LogSoftmax()(x)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.Hardtanh(1.0, -1.0),
        lambda lib: lib.nn.functional.gelu(lib.ones(2), approximate="exact"),
        lambda lib: lib.nn.functional.hardtanh(lib.ones(2), 2.0, 1.0),
        lambda lib: lib.nn.LogSoftmax(dim=2)(lib.ones(2, 3)),
    ],
)
def test_activation_errors_match_torch(call):
    same_error(call)


def test_integer_input_is_refused():
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        deeprnn.nn.functional.gelu(deeprnn.tensor([1, 2]))
