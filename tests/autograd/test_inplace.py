"""In-place operations in the graph follow torch's rules: values, gradients, grad_fn names and errors.

``same(fn, *shapes)`` runs ``fn(lib, *leaves)`` in deeprnn and torch on the same inputs,
back-propagates the same cotangent and compares the result and every leaf's gradient.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import deeprnn
from oracle import assert_close

LIBS = pytest.mark.parametrize("lib", [deeprnn, torch], ids=["deeprnn", "torch"])


def same(fn: Callable[..., Any], *shapes: tuple, dtype: Any = np.float64, seed: int = 0) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours_in = [deeprnn.tensor(x, requires_grad=True) for x in xs]
    ref_in = [torch.tensor(x, requires_grad=True) for x in xs]
    ours, ref = fn(deeprnn, *ours_in), fn(torch, *ref_in)
    assert_close(ours, ref, dtype, "forward")
    assert ours.grad_fn.name() == ref.grad_fn.name()
    cot = rng.standard_normal(tuple(ref.shape)).astype(dtype)
    (ours * deeprnn.tensor(cot)).sum().backward()
    (ref * torch.tensor(cot)).sum().backward()
    for i, (a, b) in enumerate(zip(ours_in, ref_in)):
        if b.grad is None:
            assert a.grad is None
        else:
            assert_close(a.grad, b.grad, dtype, f"grad of input {i}")
    return ours, ref


def _loss_accumulated(L, x):
    loss = 0
    for t in range(x.shape[0]):
        loss += (x[t] * x[t]).sum()  # the first += makes a tensor, later ones add in place
    return loss * 1


def _states_written_into_zeros(L, x, w):
    T, N, H = 4, 2, 3
    out = L.zeros(T, N, H, dtype=L.float64)
    h = L.zeros(N, H, dtype=L.float64)
    for t in range(T):
        h = L.tanh(x[t] @ w + h)
        out[t] = h  # CopySlices
    return out


def _advanced_setitem(L, x, v):
    y = x * 1
    y[[0, 2]] = v  # IndexPutBackward0
    y[y > 1] = 0.0
    return y


def _iadd_on_a_view(L, x):
    y = x * 1
    y[0] += 1  # add_ on a view, then setitem of the view onto itself
    y[:, 1] *= 2
    return y


def _write_through_view_then_use_old_view(L, x):
    y = x * 2
    row = y[1]  # recorded before the write below
    y.mul_(3)  # row's grad_fn is regenerated from y's new graph, as torch
    return row * y[0]


def _mul_div_by_graph_tensors(L, x, w):
    y = x + 1
    y.mul_(w)
    y.div_(w * w + 1)
    y.sub_(w, alpha=0.5)
    return y


def _unary_in_place(L, x):
    y = x * 1
    y.tanh_()  # saves its result: y may not be written again before backward
    a = y * 2
    a.sigmoid_()
    z = x * 1
    z.relu_()
    b = z + 1
    b.exp_()
    return a + b


def _clamp_fill_copy(L, x, w):
    y = x * 1
    y.clamp_(-0.5, 0.5)
    y.masked_fill_(x > 1, 2.0)
    z = x * 1
    z[0].zero_()
    z[1].fill_(3.0)
    z[2].copy_(w[0])  # the gradient reaches w through copy_
    return y + z


def _metadata_in_place(L, x):
    y = x * 1
    y.unsqueeze_(0)
    y.squeeze_(0)
    y.t_()
    return y * 2


def _scatter_one_hot(L, x):
    idx = L.tensor([[0], [2], [1]])
    y = L.zeros(3, 4, dtype=L.float64)
    y.scatter_(1, idx, 1.0)
    return y * x


CASES = {
    "loss_accumulated": (_loss_accumulated, [(3, 4)]),
    "states_written_into_zeros": (_states_written_into_zeros, [(4, 2, 5), (5, 3)]),
    "advanced_setitem": (_advanced_setitem, [(3, 4), (4,)]),
    "iadd_on_a_view": (_iadd_on_a_view, [(3, 4)]),
    "write_through_view_then_use_old_view": (_write_through_view_then_use_old_view, [(3, 4)]),
    "mul_div_by_graph_tensors": (_mul_div_by_graph_tensors, [(3, 4), (4,)]),
    "unary_in_place": (_unary_in_place, [(3, 4)]),
    "clamp_fill_copy": (_clamp_fill_copy, [(3, 4), (2, 4)]),
    "metadata_in_place": (_metadata_in_place, [(3, 4)]),
    "scatter_one_hot": (_scatter_one_hot, [(3, 4)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_in_place_in_the_graph_matches_torch(name: str) -> None:
    fn, shapes = CASES[name]
    same(fn, *shapes)


def _write_a_saved_output_again(L, x):
    y = x * 1
    y.relu_()
    y.exp_()  # exp_ overwrites the result relu_ saved
    return y


def _write_a_saved_exp(L, x):
    y = x.exp()
    y.mul_(2)
    return y


def _overwrite_a_saved_operand(L, x):
    y = x * 1
    y[:, 1] *= y[:, 0].detach()  # mul_ saves the detached column, which the setitem then rewrites
    return y


@pytest.mark.parametrize("fn", [_write_a_saved_output_again, _write_a_saved_exp, _overwrite_a_saved_operand])
def test_illegal_in_place_programs_raise_the_same_error_as_torch(fn: Callable[..., Any]) -> None:
    x = np.random.default_rng(3).standard_normal((3, 4))
    messages = []
    for lib in (deeprnn, torch):
        out = fn(lib, lib.tensor(x, requires_grad=True))
        with pytest.raises(RuntimeError) as info:
            out.sum().backward()
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@LIBS
def test_in_place_grad_fn_names_and_versions(lib) -> None:
    x = lib.ones(3, requires_grad=True)
    y = x * 1
    y += 1
    assert y.grad_fn.name() == "AddBackward0" and y._version == 1
    z = lib.zeros(2, 3)
    z[0] = y
    assert z.grad_fn.name() == "torch::autograd::CopySlices" and not z.is_leaf and z._version == 1
    w = y.clone()
    v = w[1:]
    v.mul_(2)
    assert w.grad_fn.name() == "torch::autograd::CopySlices" and v.grad_fn.name() == "AsStridedBackward0"
    assert repr(w).endswith("grad_fn=<CopySlices>)")


@LIBS
def test_in_place_on_a_leaf_that_requires_grad_is_refused(lib) -> None:
    w = lib.ones(3, requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.uniform_(), lambda: w.unsqueeze_(0)):
        with pytest.raises(
            RuntimeError, match=r"^a leaf Variable that requires grad is being used in an in-place operation\.$"
        ):
            op()
    with pytest.raises(
        RuntimeError, match=r"^a view of a leaf Variable that requires grad is being used in an in-place"
    ):
        w[0] = 2.0
    with pytest.raises(RuntimeError, match=r"^a view of a leaf Variable that requires grad"):
        w.view(3).mul_(2)
    with lib.no_grad():
        w.mul_(2)
        w[0] = 5.0
    assert w.tolist() == [5.0, 2.0, 2.0] and w.is_leaf and w._version == 2


@LIBS
def test_a_view_made_under_no_grad_cannot_be_written_with_grad_on(lib) -> None:
    y = lib.ones(3, requires_grad=True) * 1
    with lib.no_grad():
        v = y[0]
    with pytest.raises(RuntimeError, match="^A view was created in no_grad mode and is being modified inplace"):
        v.add_(1)


@LIBS
def test_in_place_dtype_and_shape_errors(lib) -> None:
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired output type Long$"):
        lib.ones(3, dtype=lib.long).add_(0.5)
    with pytest.raises(RuntimeError, match="^result type Long can't be cast to the desired output type Bool$"):
        lib.ones(3, dtype=lib.bool).add_(1)
    with pytest.raises(RuntimeError, match=r"^output with shape \[3\] doesn't match the broadcast shape \[2, 3\]$"):
        lib.ones(3).add_(lib.ones(2, 3))
    with pytest.raises(RuntimeError, match="^unsupported operation: more than one element of the written-to tensor"):
        lib.ones(1, 4).expand(3, 4).add_(1)
    f = lib.ones(3)
    f.add_(lib.ones(3, dtype=lib.float64))  # a float64 result fits a float32 tensor
    assert f.dtype == lib.float32 and f.tolist() == [2.0, 2.0, 2.0]


@LIBS
def test_legacy_add_with_a_number_first_warns_and_works(lib) -> None:
    t = lib.ones(3)
    with pytest.warns(
        UserWarning, match=r"^This overload of add_ is deprecated:\n\tadd_\(Number alpha, Tensor other\)"
    ):
        t.add_(2, lib.ones(3))
    assert t.tolist() == [3.0, 3.0, 3.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch warns once per process, deeprnn every time
        r = lib.add(t, 2, lib.ones(3))
        s = t.sub(2, lib.ones(3))
    assert r.tolist() == [5.0, 5.0, 5.0] and s.tolist() == [1.0, 1.0, 1.0]


@LIBS
def test_hooks_see_the_summed_gradient_and_may_replace_it(lib) -> None:
    w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    seen = []
    w.register_hook(lambda g: seen.append(g.clone()))
    handle = w.register_hook(lambda g: g.clamp(-1, 1))
    y = w * 2
    y.register_hook(lambda g: g * 10)
    (y.sum() + (w * 3).sum()).backward()
    assert seen[0].tolist() == [23.0, 23.0, 23.0] and w.grad.tolist() == [1.0, 1.0, 1.0]
    handle.remove()
    w.grad = None
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="^cannot register a hook on a tensor that doesn't require gradient$"):
        lib.ones(2).register_hook(lambda g: g)


@LIBS
def test_retain_grad_keeps_a_non_leaf_gradient(lib) -> None:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    assert y.retains_grad and y.grad.tolist() == [6.0, 12.0]


def test_writes_through_views_of_a_non_contiguous_base_match_torch() -> None:
    base = np.zeros((4, 3)).T  # a transposed array: strides that are not C order
    got = []
    for lib in (deeprnn, torch):
        w = lib.tensor(np.arange(1.0, 4.0), requires_grad=True)
        z = lib.from_numpy(base.copy().T.copy().T)
        v = z[1]
        v[1:] = w * 2  # CopySlices through a view
        z[:, ::2].mul_(w[0])
        (z * lib.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        got.append((z.detach(), w.grad))
    assert_close(got[0][0], got[1][0], np.float64, "values")
    assert_close(got[0][1], got[1][1], np.float64, "grad")


def test_in_place_ops_make_no_reference_cycles() -> None:
    """The buffer pool frees memory by reference count: a rebased tensor must not keep itself alive."""
    import gc
    import weakref

    gc.disable()
    try:
        x = deeprnn.ones(3, requires_grad=True)
        y = x * 1
        y += 1
        z = deeprnn.zeros(2, 3)
        z[0] = y
        v = z[1:]
        v.mul_(2)
        w = y * 1
        w.unsqueeze_(0)
        refs = [weakref.ref(t) for t in (y, z, w)]
        del y, z, v, w
        assert all(r() is None for r in refs)
    finally:
        gc.enable()
