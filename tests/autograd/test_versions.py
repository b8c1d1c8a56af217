"""Version counters and torch's check of saved tensors, each rule run in deeprnn and torch alike.

Before version counters, every case below that raises in torch gave deeprnn a silently
wrong gradient (the backward read the overwritten values).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from oracle import assert_close

LIBS = pytest.mark.parametrize("lib", [deeprnn, torch], ids=["deeprnn", "torch"])


def _error(fn) -> str:
    with pytest.raises(RuntimeError) as info:
        fn()
    return str(info.value)


@LIBS
def test_in_place_ops_bump_a_counter_shared_by_views_and_detach(lib) -> None:
    x = lib.zeros(3, 4)
    views = [x[0], x[:, 1:], x.view(12), x.t(), x.transpose(0, 1), x.unsqueeze(0), x.detach(), x.reshape(4, 3)]
    x.add_(1)
    x[0] = 2.0
    x.mul_(2)
    x += 1
    x.zero_()
    assert x._version == 5
    assert [v._version for v in views] == [5] * len(views)
    views[0].fill_(3.0)
    assert x._version == 6 and x[1, 1].item() == 0 and x[0, 0].item() == 3
    assert x.data._version == 0  # .data has its own counter, as in torch
    copy = x.t().reshape(12)  # not a view: its own counter
    copy.add_(1)
    assert x._version == 6


@LIBS
def test_a_modified_saved_output_raises_torchs_error(lib) -> None:
    def run() -> None:
        a = lib.ones(3, 4, requires_grad=True)
        b = (a * 2).tanh()
        b.add_(1)
        b.sum().backward()

    assert _error(run) == (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[torch.FloatTensor [3, 4]], which is output 0 of Tanh, is at version 1; expected version 0 instead. "
        "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )


@LIBS
def test_a_modified_saved_leaf_is_named_without_a_node(lib) -> None:
    def run() -> None:
        a = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        b = lib.ones(2, 3, dtype=lib.float64)
        c = a * b
        b.mul_(2)
        c.sum().backward()

    assert _error(run).startswith(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[torch.DoubleTensor [2, 3]] is at version 1; expected version 0 instead."
    )


@LIBS
def test_ops_that_do_not_read_their_inputs_do_not_check_them(lib) -> None:
    a = lib.ones(3, requires_grad=True)
    b = lib.ones(3)
    c = a + b * 3  # add saves nothing; mul saves b only for a's gradient, and a needs none
    d = a * 2
    b.add_(1)
    (c.sum() + d.sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0, 3.0])


@LIBS
def test_a_write_through_a_view_is_seen_by_the_saved_base(lib) -> None:
    def run() -> None:
        a = lib.ones(2, 3, requires_grad=True)
        b = (a * 1).exp()
        b[0].mul_(2)  # a view shares b's counter
        b.sum().backward()

    assert "which is output 0 of Exp, is at version 1; expected version 0 instead" in _error(run)


def _rnn_pair(seed: int = 0):
    torch.manual_seed(seed)
    ref = torch.nn.RNN(4, 5, 2)
    ours = deeprnn.nn.RNN(4, 5, 2)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    return ours, ref


def test_rnn_input_modified_between_forward_and_backward_raises_as_in_torch() -> None:
    x = np.random.default_rng(0).standard_normal((6, 3, 4)).astype(np.float32)
    for lib, rnn in zip((deeprnn, torch), _rnn_pair()):
        inp = lib.tensor(x)
        out, _ = rnn(inp)
        inp.add_(1)
        msg = _error(lambda out=out: out.sum().backward())
        assert "modified by an inplace operation" in msg and "is at version 1; expected version 0" in msg


@pytest.mark.parametrize(
    "name, input_grad, raises",
    [
        ("weight_ih_l0", True, True),
        ("weight_ih_l0", False, False),  # only the input's gradient reads W_ih of layer 0
        ("weight_hh_l0", False, True),
        ("weight_hh_l1", False, True),
    ],
)
def test_rnn_weight_modified_between_forward_and_backward_raises_as_in_torch(
    name: str, input_grad: bool, raises: bool
) -> None:
    x = np.random.default_rng(1).standard_normal((6, 3, 4)).astype(np.float32)
    grads = []
    for lib, rnn in zip((deeprnn, torch), _rnn_pair()):
        out, _ = rnn(lib.tensor(x, requires_grad=input_grad))
        with lib.no_grad():
            getattr(rnn, name).add_(0.5)
        if raises:
            assert "modified by an inplace operation" in _error(lambda out=out: out.sum().backward())
        else:
            out.sum().backward()
            grads.append(rnn.weight_ih_l0.grad)
    if grads:
        assert_close(grads[0], grads[1], np.float32, "weight_ih_l0.grad")


def test_rnn_h0_modified_raises_and_a_bias_may_change_as_in_torch() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 3, 4)).astype(np.float32)
    h = rng.standard_normal((2, 3, 5)).astype(np.float32)
    grads = []
    for lib, rnn in zip((deeprnn, torch), _rnn_pair()):
        h0 = lib.tensor(h)
        out, _ = rnn(lib.tensor(x), h0)
        h0.mul_(2)
        assert "modified by an inplace operation" in _error(lambda out=out: out.sum().backward())
        out, _ = rnn(lib.tensor(x), lib.tensor(h))
        with lib.no_grad():
            rnn.bias_hh_l0.add_(1.0)  # no backward formula reads a bias
        out.sum().backward()
        grads.append(rnn.weight_hh_l0.grad)
    assert_close(grads[0], grads[1], np.float32, "weight_hh_l0.grad")


@LIBS
def test_rnn_cell_output_is_saved_as_in_torch(lib) -> None:
    cell = lib.nn.RNNCell(3, 4)
    h = cell(lib.ones(2, 3))
    h.mul_(2)
    assert "modified by an inplace operation" in _error(lambda: h.sum().backward())


@LIBS
def test_an_optimizer_step_between_forward_and_backward_raises(lib) -> None:
    lin = lib.nn.Linear(3, 2)
    opt = lib.optim.SGD(lin.parameters(), lr=0.1)
    lin(lib.ones(4, 3)).sum().backward()
    out = lin(lib.ones(4, 3, requires_grad=True))
    opt.step()  # updates the weight that out's backward needs
    assert "modified by an inplace operation" in _error(lambda: out.sum().backward())


@LIBS
def test_linear_bias_and_logits_may_change_after_the_loss_as_in_torch(lib) -> None:
    lin = lib.nn.Linear(3, 2)
    logits = lin(lib.ones(4, 3))
    loss = lib.nn.functional.cross_entropy(logits, lib.tensor([0, 1, 1, 0]))
    with lib.no_grad():
        lin.bias.add_(1)
        logits.add_(1)
    loss.backward()
    assert lin.weight.grad is not None


@LIBS
def test_init_fillers_and_load_state_dict_bump_versions(lib) -> None:
    lin = lib.nn.Linear(3, 2)
    v = lin.weight._version
    lib.nn.init.uniform_(lin.weight, -0.1, 0.1)
    assert lin.weight._version == v + 1
    lin.load_state_dict(lin.state_dict())
    assert lin.weight._version > v + 1
