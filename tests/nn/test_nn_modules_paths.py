"""The torch.nn.modules.* import paths that programs use resolve to deeprnn's classes."""

from __future__ import annotations

import importlib

import pytest
import torch

import deeprnn

PATHS = {
    "module": ["Module"],
    "container": ["Sequential", "ModuleList", "ModuleDict"],
    "linear": ["Linear", "Identity"],
    "sparse": ["Embedding"],
    "dropout": ["Dropout", "Dropout1d", "Dropout2d"],
    "flatten": ["Flatten", "Unflatten"],
    "batchnorm": ["BatchNorm1d", "BatchNorm2d"],
    "normalization": ["LayerNorm"],
    "activation": [
        "ReLU",
        "Tanh",
        "Sigmoid",
        "LeakyReLU",
        "ELU",
        "GELU",
        "Softplus",
        "Hardtanh",
        "ReLU6",
        "SiLU",
        "LogSigmoid",
        "Softmax",
        "LogSoftmax",
    ],
    "loss": [
        "CrossEntropyLoss",
        "NLLLoss",
        "MSELoss",
        "BCELoss",
        "BCEWithLogitsLoss",
        "L1Loss",
        "SmoothL1Loss",
        "HuberLoss",
        "_Loss",
        "_WeightedLoss",
    ],
    "rnn": ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell", "PackedSequence"],
}


@pytest.mark.parametrize("module", list(PATHS))
def test_paths_exist_in_torch_and_deeprnn_and_name_the_same_classes(module):
    ours = importlib.import_module(f"deeprnn.nn.modules.{module}")
    ref = importlib.import_module(f"torch.nn.modules.{module}")
    for name in PATHS[module]:
        assert hasattr(ref, name), f"torch.nn.modules.{module}.{name} does not exist in torch"
        cls = getattr(ours, name)
        if not name.startswith("_") and hasattr(torch.nn, name):
            assert cls is getattr(deeprnn.nn, name) is getattr(deeprnn.nn.modules, name)
            assert getattr(torch.nn, name) is getattr(torch.nn.modules, name)


def test_subclassing_the_private_loss_bases_works():
    from deeprnn.nn.modules.loss import _Loss

    class Halved(_Loss):
        def forward(self, input, target):
            return deeprnn.nn.functional.mse_loss(input, target, reduction=self.reduction) / 2

    assert Halved()(deeprnn.ones(2), deeprnn.zeros(2)).item() == 0.5
    assert deeprnn.nn.modules.module.Module is deeprnn.nn.Module
