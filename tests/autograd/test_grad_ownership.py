"""A first gradient becomes .grad without a copy only when nothing else refers to it (autograd/unshared.py).

Each test builds a case where taking the array would alias something a user or another leaf can
see, and checks that .grad is its own memory; and the cases where it is taken, with their values.
"""

import sys

import numpy as np
import pytest
import torch

import deeprnn
from deeprnn.autograd.unshared import reference_counts, unshared
from oracle import assert_close


def test_a_fresh_array_and_a_whole_view_are_unshared():
    g = np.ones((3, 4))
    counts = reference_counts(g)
    assert unshared(g, counts)
    v = np.ones(12).reshape(3, 4)
    counts = reference_counts(v)
    assert unshared(v, counts)


def test_held_viewed_partial_or_read_only_arrays_are_shared():
    g = np.ones((3, 4))
    other = [g]  # a second holder
    counts = reference_counts(g)
    assert not unshared(g, counts)
    del other
    h = np.ones((3, 4))
    view = h[1:]  # a view holds h through its base
    counts = reference_counts(h)
    assert not unshared(h, counts)
    del view
    part = np.ones(24)[:12]  # a view of part of its base
    counts = reference_counts(part)
    assert not unshared(part, counts)
    ro = np.ones(3)
    ro.flags.writeable = False
    counts = reference_counts(ro)
    assert not unshared(ro, counts)
    t = np.ones((4, 3)).T  # not C-contiguous
    counts = reference_counts(t)
    assert not unshared(t, counts)


def test_a_seed_given_by_the_caller_is_copied():
    x = deeprnn.zeros(3, requires_grad=True)
    seed = deeprnn.tensor([1.0, 2.0, 3.0])
    x.backward(seed)
    seed._data[0] = 100.0
    assert x.grad.tolist() == [1.0, 2.0, 3.0]


def test_one_array_for_two_leaves_gives_each_its_own_grad():
    a = deeprnn.zeros(3, requires_grad=True)
    b = deeprnn.zeros(3, requires_grad=True)
    (a + b).sum().backward()  # add's backward hands the same array to both leaves
    assert not np.shares_memory(a.grad._data, b.grad._data)
    a.grad.mul_(5.0)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_a_retained_grad_and_a_leaf_do_not_share():
    a = deeprnn.ones(3, requires_grad=True)
    y = a * 1.0
    y.retain_grad()
    (y * 2.0).sum().backward()
    assert not np.shares_memory(a.grad._data, y.grad._data)
    y.grad.zero_()
    assert a.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_grads_are_distinct_arrays_and_exact(bidirectional):
    """The LSTM node's gradients, some taken and some copied (the bidirectional halves of one product):
    no two leaves share memory, and the values stay torch's."""
    torch.manual_seed(0)
    ref = torch.nn.LSTM(5, 4, num_layers=2, bidirectional=bidirectional)
    ours = deeprnn.nn.LSTM(5, 4, num_layers=2, bidirectional=bidirectional)
    ours.load_state_dict({k: deeprnn.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    xr = torch.randn(6, 3, 5, requires_grad=True)
    xo = deeprnn.tensor(xr.detach().numpy()).requires_grad_(True)
    ref(xr)[0].sum().backward()
    ours(xo)[0].sum().backward()
    grads = [xo.grad._data] + [p.grad._data for p in ours.parameters()]
    for i, a in enumerate(grads):
        for b in grads[i + 1 :]:
            assert not np.shares_memory(a, b)
    assert_close(xo.grad, xr.grad)
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        assert_close(p.grad, q.grad, what=name)


def test_a_second_backward_accumulates_into_the_taken_grad():
    torch.manual_seed(1)
    ref = torch.nn.GRU(3, 4)
    ours = deeprnn.nn.GRU(3, 4)
    ours.load_state_dict({k: deeprnn.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x = torch.randn(5, 2, 3)
    for _ in range(2):
        ref(x)[0].pow(2).sum().backward()
        ours(deeprnn.tensor(x.numpy()))[0].pow(2).sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        assert_close(p.grad, q.grad, what=name)


def test_without_reference_counts_nothing_is_taken(monkeypatch):
    """An interpreter without sys.getrefcount (or whose counts do not add up) copies every gradient."""
    import deeprnn.autograd.unshared as u

    monkeypatch.delattr(sys, "getrefcount")
    assert u._calibrate() == (-1, -1)
    monkeypatch.undo()
    monkeypatch.setattr(u, "_ALONE", -1)
    monkeypatch.setattr(u, "_BASE_ALONE", -1)
    g = np.ones(3)
    counts = (1, 0)
    assert not u.unshared(g, counts)
