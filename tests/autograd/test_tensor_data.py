"""``Tensor.data`` is torch's: a detached tensor on the same memory, and ``t.data = other`` replaces the values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn


@pytest.mark.parametrize("lib", [deeprnn, torch], ids=["deeprnn", "torch"])
def test_data_is_a_detached_tensor_on_the_same_memory(lib) -> None:
    p = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = p.data
    assert isinstance(d, lib.Tensor) and not d.requires_grad and d.grad_fn is None
    d.add_(lib.tensor([1.0, 1.0, 1.0]), alpha=-0.5)  # the manual-SGD idiom p.data.add_(p.grad, alpha=-lr)
    np.testing.assert_array_equal(p.detach().numpy(), [0.5, 1.5, 2.5])
    np.testing.assert_array_equal(p.data.numpy(), [0.5, 1.5, 2.5])  # .data.numpy() works on a leaf that requires grad


@pytest.mark.parametrize("lib", [deeprnn, torch], ids=["deeprnn", "torch"])
def test_assigning_data_replaces_the_values_and_keeps_the_leaf(lib) -> None:
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    p.data = lib.tensor([5.0, 6.0, 7.0])
    assert p.requires_grad and p.is_leaf
    np.testing.assert_array_equal(p.detach().numpy(), [5.0, 6.0, 7.0])
    (p * 2).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("lib", [deeprnn, torch], ids=["deeprnn", "torch"])
def test_hidden_state_carried_through_data_starts_a_new_graph(lib) -> None:
    w = lib.tensor([0.5], requires_grad=True)
    h = lib.tensor([1.0])
    for _ in range(3):
        h = (h * w).tanh()
        h = h.data  # truncated BPTT, the old way
        assert h.grad_fn is None and not h.requires_grad


@pytest.mark.parametrize("lib", [deeprnn, torch], ids=["deeprnn", "torch"])
def test_data_rejects_a_non_tensor(lib) -> None:
    p = lib.tensor([1.0])
    with pytest.raises(TypeError, match="^Variable data has to be a tensor, but got list$"):
        p.data = [2.0]
