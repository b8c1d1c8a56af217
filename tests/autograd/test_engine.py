"""Autograd semantics, each compared with what torch does in the same situation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from deeprnn import autograd


def test_backward_accumulates_like_torch() -> None:
    for lib in (deeprnn, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        (w * w).sum().backward()
        (w * 3).sum().backward()
        np.testing.assert_allclose(
            np.asarray(w.grad.detach().numpy() if lib is torch else w.grad.detach().numpy()), [5.0, 7.0]
        )


def test_second_backward_through_freed_graph_fails_and_retain_graph_allows_it() -> None:
    w = deeprnn.tensor([1.0], requires_grad=True)
    y = deeprnn.tanh(w * 2)
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_grad_returns_gradients_without_touching_dot_grad() -> None:
    a = deeprnn.tensor([1.0, 2.0], requires_grad=True)
    b = deeprnn.tensor([3.0], requires_grad=True)
    (ga, gb) = autograd.grad((a * b).sum(), [a, b])
    np.testing.assert_allclose(ga.detach().numpy(), [3.0, 3.0])
    np.testing.assert_allclose(gb.detach().numpy(), [3.0])
    assert a.grad is None and b.grad is None


def test_grad_for_unused_input() -> None:
    a = deeprnn.tensor([1.0], requires_grad=True)
    b = deeprnn.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="The differentiated Tensor at index 1 appears to not have been used"):
        autograd.grad((a * 2).sum(), [a, b])
    a2 = deeprnn.tensor([1.0], requires_grad=True)
    ga, gb = autograd.grad((a2 * 2).sum(), [a2, b], allow_unused=True)
    assert gb is None and ga.item() == 2.0


def test_gradients_flow_only_along_paths_to_the_inputs() -> None:
    """The seed pattern: a hidden state from a freed graph feeds the next iteration."""
    w0 = deeprnn.tensor([0.5], requires_grad=True)
    h = deeprnn.tanh(w0 * 1.0)
    (g,) = autograd.grad(h.sum(), [w0])  # frees the graph behind h
    w1 = w0 - 0.1 * g  # a non-leaf that requires grad
    h2 = deeprnn.tanh(w1 * 1.0 + h * 0.3)  # h's freed graph is upstream
    (g1,) = autograd.grad(h2.sum(), [w1])  # fine: w1's path does not enter it
    np.testing.assert_allclose(
        g1.detach().numpy(), 1 - np.tanh(w1.detach().numpy() + h.detach().numpy() * 0.3) ** 2, rtol=1e-6
    )
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        h2.sum().backward()  # backward() reaches every leaf, so it must enter


def test_non_scalar_backward_needs_gradient() -> None:
    x = deeprnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(deeprnn.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.detach().numpy(), [2.0, 20.0])


def test_backward_of_tensor_without_grad_fn() -> None:
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        deeprnn.tensor([1.0]).sum().backward()


def test_no_grad_and_detach() -> None:
    w = deeprnn.tensor([1.0], requires_grad=True)
    with deeprnn.no_grad():
        y = w * 2
    assert not y.requires_grad and y.grad_fn is None
    z = (w * 2).detach()
    assert not z.requires_grad and z.is_leaf

    @deeprnn.no_grad()
    def f(t: deeprnn.Tensor) -> deeprnn.Tensor:
        return t * 3

    assert f(w).grad_fn is None
    with deeprnn.no_grad(), deeprnn.enable_grad():
        assert (w * 2).requires_grad
    assert deeprnn.is_grad_enabled()


def test_in_place_update_rules() -> None:
    w = deeprnn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        w -= 1
    with deeprnn.no_grad():
        w -= 0.5
    assert w.item() == 0.5 and w.is_leaf and w.requires_grad


def test_int_tensors_cannot_require_grad() -> None:
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        deeprnn.tensor([1, 2], requires_grad=True)


def test_dtypes_follow_torch() -> None:
    pairs = [
        (deeprnn.tensor([0.04]), torch.tensor([0.04])),
        (deeprnn.tensor([1, 2]), torch.tensor([1, 2])),
        (deeprnn.tensor(np.array([1.0])), torch.tensor(np.array([1.0]))),
        (deeprnn.tensor(np.float64(1.5)), torch.tensor(np.float64(1.5))),
        (deeprnn.tensor(np.float32(1.5)), torch.tensor(np.float32(1.5))),
        (deeprnn.tensor([1, 2]) * 0.5, torch.tensor([1, 2]) * 0.5),
        (
            deeprnn.tensor([1.0], dtype=deeprnn.float64) + deeprnn.tensor([1.0]),
            torch.tensor([1.0], dtype=torch.float64) + torch.tensor([1.0]),
        ),
        (deeprnn.tensor([1, 2]) + deeprnn.tensor([1.0]), torch.tensor([1, 2]) + torch.tensor([1.0])),
        (deeprnn.randn(2), torch.randn(2)),
        (deeprnn.arange(3), torch.arange(3)),
        (deeprnn.arange(0, 1, 0.5), torch.arange(0, 1, 0.5)),
        (deeprnn.tensor([1, 2]) / 2, torch.tensor([1, 2]) / 2),
        (deeprnn.zeros(2, 3).double(), torch.zeros(2, 3).double()),
    ]
    for ours, ref in pairs:
        assert str(ours.dtype) == str(ref.dtype).removeprefix("torch."), (ours, ref)


def test_float64_gradients_stay_float64() -> None:
    w = deeprnn.randn(3, 3, dtype=deeprnn.float64, requires_grad=True)
    (w @ w).tanh().sum().backward()
    assert w.grad.dtype == np.float64


def test_shape_size_dim_item_numpy() -> None:
    t = deeprnn.zeros(4, 2, 3)
    assert t.shape == (4, 2, 3) and t.size() == (4, 2, 3) and t.size(1) == 2 and t.size(-1) == 3
    assert t.dim() == 3 and t.numel() == 24 and len(t) == 4
    assert deeprnn.tensor([2.5]).item() == 2.5
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        deeprnn.tensor([1.0, 2.0]).item()
    w = deeprnn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Use tensor.detach\\(\\).numpy\\(\\) instead"):
        w.numpy()
    assert isinstance(w.detach().numpy(), np.ndarray)


def test_shape_errors_name_both_shapes() -> None:
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"):
        deeprnn.mm(deeprnn.ones(2, 3), deeprnn.ones(2, 3))
    with pytest.raises(
        RuntimeError,
        match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) "
        r"at non-singleton dimension 1",
    ):
        deeprnn.ones(2, 3) + deeprnn.ones(2, 4)
    with pytest.raises(RuntimeError, match=r"shape '\[5, 5\]' is invalid for input of size 6"):
        deeprnn.ones(2, 3).reshape(5, 5)


def test_manual_seed_and_generators_are_reproducible() -> None:
    deeprnn.manual_seed(3)
    a = deeprnn.randn(4)
    deeprnn.manual_seed(3)
    b = deeprnn.randn(4)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    g = deeprnn.Generator(9)
    state = g.get_state()
    c = deeprnn.rand(3, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(c.detach().numpy(), deeprnn.rand(3, generator=g).detach().numpy())


def test_repr_matches_torch() -> None:
    for vals in ([0.04], [[0.1234, -0.5678], [1.5, 2.0]], [1.0, 2.0], [3.3528e-08], [1e10, 1.0]):
        assert repr(deeprnn.tensor(vals)) == repr(torch.tensor(vals))
    assert repr(deeprnn.tensor([1.0], requires_grad=True)) == repr(torch.tensor([1.0], requires_grad=True))
    assert repr(deeprnn.tensor(3.0, requires_grad=True) * 2) == "tensor(6., grad_fn=<MulBackward0>)"
