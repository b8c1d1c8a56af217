"""The wider op surface against torch: forward values, gradients, dtypes and error messages.

``check`` (from test_ops_parity) runs ``fn(lib, *tensors)`` with deeprnn and torch on the same
random inputs, back-propagates a random cotangent and compares through tests/oracle.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_ops_parity import check

import deeprnn
from oracle import assert_close

DTYPES = [np.float32, np.float64]


def _idx(L, values):  # noqa: ANN001, ANN202
    return L.tensor(values)


OPS = {
    # element-wise
    "sign_floor_ceil_round": (lambda L, a: a.sign() + a.floor() * a + a.ceil() + L.round(a * 3) + a.trunc(), [(3, 4)]),
    "frac": (lambda L, a: (a * 3).frac(), [(3, 4)]),
    "fmod_remainder_scalar": (lambda L, a: a.fmod(0.7) + L.remainder(a, 0.3), [(3, 4)]),
    "fmod_remainder_tensor": (lambda L, a, b: L.fmod(a, b + 3) + a.remainder(b * b + 0.5), [(3, 4), (3, 4)]),
    "reciprocal_rsqrt_square": (lambda L, a: (a * a + 1).reciprocal() + (a * a + 1).rsqrt() + a.square(), [(3, 4)]),
    "log1p_expm1_log2_log10": (
        lambda L, a: (a * a).log1p() + a.expm1() + (a * a + 1).log2() + L.log10(a * a + 1),
        [(3, 4)],
    ),
    "sin_cos": (lambda L, a: L.sin(a) * a.cos(), [(3, 4)]),
    "softmax_methods": (lambda L, a: a.softmax(1) * 2 + a.log_softmax(dim=0) + L.softmax(a, -1), [(3, 4)]),
    # more than 2**16 elements: the sum of exp is computed a block of rows at a time (ops_softmax._sum_exp)
    "log_softmax_large_vocab": (lambda L, a: L.log_softmax(a * 8, dim=1) + L.log_softmax(a, -1) * 2, [(40, 3503)]),
    "clamp_tensors": (lambda L, a, lo, hi: L.clamp(a, min=lo - 0.3, max=hi + 0.3), [(3, 4), (3, 4), (4,)]),
    "clamp_min_only": (lambda L, a: a.clamp(min=0.1) + a.clamp_max(0.2), [(3, 4)]),
    "minimum_maximum": (lambda L, a, b: L.minimum(a, b) + L.maximum(a, b * 2) + a.max(b), [(3, 4), (4,)]),
    "where": (lambda L, a, b: L.where(a > b, a, b * 2), [(3, 4), (3, 4)]),
    "masked_fill": (lambda L, a: a.masked_fill(a > 0.5, 0.25), [(3, 4)]),
    "pow_tensor_tensor": (lambda L, a, b: (a * a + 0.5) ** b + 2**a, [(3, 4), (3, 4)]),
    # reductions
    "sum_mean_dims": (lambda L, a: a.sum((0, 2), keepdim=True) * a.mean((1, 2)).sum(), [(2, 3, 4)]),
    "prod": (lambda L, a: a.prod() + a.prod(1).sum() + a.prod(-1, keepdim=True).sum(), [(2, 3)]),
    "std_var": (
        lambda L, a: (
            a.std()
            + a.var(0).sum()
            + a.std(1, keepdim=True).sum()
            + a.var(unbiased=False)
            + a.std(dim=(0, 1), correction=0)
        ),
        [(3, 4)],
    ),
    "norm_p": (
        lambda L, a: a.norm() + a.norm(1) + a.norm(p=3, dim=1).sum() + a.norm(float("inf")) + L.norm(a, dim=0).sum(),
        [(3, 4)],
    ),
    "logsumexp": (lambda L, a: a.logsumexp(1) + L.logsumexp(a, dim=(0, 1), keepdim=True), [(3, 4)]),
    "max_min_dim": (lambda L, a: a.max(1).values + a.min(dim=1, keepdim=True)[0].squeeze(1) + L.max(a, 1)[0], [(3, 4)]),
    "amax_amin": (lambda L, a: a.amax(1) + a.amin(dim=(0, 1)), [(3, 4)]),
    "cumsum_cumprod": (lambda L, a: a.cumsum(0) + a.cumprod(1) + L.cumsum(a, dim=-1), [(3, 4)]),
    "median": (lambda L, a: a.median() + a.median(1).values.sum() + a.median(0, keepdim=True)[0].sum(), [(3, 4)]),
    # sorting
    "sort_topk": (lambda L, a: a.sort(1)[0] + a.sort(0, descending=True).values + a.topk(4, dim=1)[0], [(3, 4)]),
    "topk_smallest": (lambda L, a: a.topk(2, dim=0, largest=False).values, [(3, 4)]),
    # indexing
    "gather": (lambda L, a: a.gather(1, _idx(L, [[0, 0], [3, 1], [2, 2]])), [(3, 4)]),
    "scatter_src": (lambda L, a, s: a.scatter(1, _idx(L, [[0, 1], [3, 2], [2, 0]]), s), [(3, 4), (3, 2)]),
    "scatter_value": (lambda L, a: a.scatter(0, _idx(L, [[0, 1, 2, 0]]), 0.5), [(3, 4)]),
    "scatter_add": (lambda L, a, s: a.scatter_add(1, _idx(L, [[0, 0], [1, 1], [3, 3]]), s), [(3, 4), (3, 2)]),
    "index_select": (
        lambda L, a: a.index_select(1, _idx(L, [3, 0, 3])) + L.index_select(a, 1, _idx(L, [1, 1, 2])),
        [(3, 4)],
    ),
    "masked_select": (lambda L, a: a.masked_select(a > 0.1) * 2, [(3, 4)]),
    "bool_mask_index": (lambda L, a: a[a > 0] * 3, [(3, 4)]),
    "long_index_tensor": (lambda L, a: a[_idx(L, [2, 0, 2]), 1:], [(3, 4)]),
    "take": (lambda L, a: a.take(_idx(L, [[0, 11], [5, 5]])), [(3, 4)]),
    "narrow_split_chunk": (
        lambda L, a: (
            a.narrow(1, 1, 2).sum(1)
            + a.split(1, dim=1)[3].squeeze(1)
            + a.chunk(2, 1)[0].sum(1)
            + a.split([3, 1], 1)[0].mean(1)
            + L.chunk(a, 3)[0].sum()
        ),
        [(3, 4)],
    ),
    "unbind_select": (lambda L, a: a.unbind(1)[2] * 2 + a.select(1, 0), [(3, 4)]),
    # layout
    "repeat_tile": (lambda L, a: a.repeat(2, 1, 3).sum(0)[:, :4] + L.tile(a, (2,)).reshape(3, 2, 4).sum(1), [(3, 4)]),
    "flip_roll": (lambda L, a: a.flip(0) + L.flip(a, (0, 1)) + a.roll(1, 1) + a.roll(2), [(3, 4)]),
    "expand_as_movedim": (lambda L, a, b: a.expand_as(b) * b + b.movedim(0, 2).sum(2), [(1, 4), (3, 3, 4)]),
    "unflatten_view_as": (lambda L, a, b: a.unflatten(1, (2, 2)).sum(2) + a.view_as(b)[:, ::2], [(3, 4), (3, 4)]),
    "squeeze_dims": (lambda L, a: a.squeeze((0, 2)) * 2 + a.squeeze(0).squeeze(-1), [(1, 4, 1)]),
    "cat_stack_promote": (
        lambda L, a, b: L.cat([a, b.double()], dim=1).sum(1) + L.stack([a, b], 1).sum((1, 2)),
        [(3, 2), (3, 2)],
    ),
    # products
    "mv_dot_outer": (lambda L, a, v, u: a.mv(v) + L.dot(v, u) + L.outer(v, u).sum(0)[:3], [(3, 4), (4,), (4,)]),
    "bmm": (lambda L, a, b: L.bmm(a, b), [(2, 3, 4), (2, 4, 5)]),
    "einsum_batched": (lambda L, a, b: L.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)]),
    "einsum_implicit_and_sums": (
        lambda L, a, b: L.einsum("ij,kj", a, b) + L.einsum("ij,j->i", a, b[0])[:, None],
        [(3, 4), (3, 4)],
    ),
    "einsum_only_one_has": (lambda L, a, b: L.einsum("ij,k->i", a, b), [(3, 4), (5,)]),
    "tril_triu": (lambda L, a: a.tril() + L.triu(a, 1) + a.tril(-1), [(2, 4, 4)]),
    "tan_sinh_cosh_erf": (lambda L, a: L.tan(a * 0.5) + a.sinh() + L.cosh(a) + a.erf(), [(3, 4)]),
    "lerp_addmm": (
        lambda L, a, b, m: L.lerp(a, b, 0.3) + L.addmm(a, m, b, beta=0.5, alpha=2),
        [(3, 4), (3, 4), (3, 3)],
    ),
    "diag": (lambda L, a, v: L.diag(a).sum() + L.diag(a, 1)[0] + L.diag(v, -1).sum(0)[:4] * 2, [(4, 4), (4,)]),
    "repeat_interleave": (
        lambda L, a: a.repeat_interleave(2, dim=1).sum(1) + L.repeat_interleave(a, 3).reshape(3, 12)[:, :4].sum(1),
        [(3, 4)],
    ),
    "broadcast_stack": (
        lambda L, a, b: (
            L.broadcast_tensors(a, b)[0] * L.broadcast_to(b, (3, 4))
            + L.hstack([a, b.expand(3, 4)])[:, :4]
            + L.vstack([b, b])[0]
        ),
        [(3, 1), (4,)],
    ),
    "meshgrid": (
        lambda L, a, b: (
            sum(g.sum() for g in L.meshgrid(a, b, indexing="xy")) + L.meshgrid(a, b, indexing="ij")[1].sum()
        ),
        [(3,), (4,)],
    ),
    "index_add_fill": (
        lambda L, a, s: (a * 1).index_add_(0, _idx(L, [2, 0, 2]), s).index_fill_(1, _idx(L, [1]), 0.5),
        [(3, 4), (3, 4)],
    ),
    "addcmul_addcdiv": (
        lambda L, a, b: (a * 1).addcmul_(a, b, value=0.5).addcdiv_(a, b * b + 1, value=2),
        [(3, 4), (3, 4)],
    ),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OPS))
def test_op_matches_torch(name: str, dtype: type) -> None:
    fn, shapes = OPS[name]
    check(fn, *shapes, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_prod_and_cumprod_gradients_are_exact_with_zeros(dtype: type) -> None:
    x = np.array([[0.0, 2.0, 3.0, 0.5], [1.5, 0.0, 0.0, 2.0], [1.0, 2.0, -1.0, 0.5]], dtype=dtype)
    for fn in (lambda t: t.prod(1), lambda t: t.prod(), lambda t: t.cumprod(1), lambda t: t.cumprod(0)):
        a, b = deeprnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fa, fb = fn(a), fn(b)
        cot = np.arange(1, fb.numel() + 1, dtype=dtype).reshape(tuple(fb.shape))
        (fa * deeprnn.tensor(cot)).sum().backward()
        (fb * torch.tensor(cot)).sum().backward()
        assert_close(fa, fb, dtype, "forward")
        assert_close(a.grad, b.grad, dtype, "grad")


def test_ties_share_the_gradient_as_torch() -> None:
    x = np.array([1.0, 3.0, 3.0, -3.0])
    for fn in (lambda t: t.max(), lambda t: t.amax(), lambda t: t.min(), lambda t: t.norm(float("inf"))):
        a, b = deeprnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fn(a).backward()
        fn(b).backward()
        assert_close(a.grad, b.grad, np.float64, "grad")
    a, b = (
        deeprnn.zeros(3, dtype=deeprnn.float64, requires_grad=True),
        torch.zeros(3, dtype=torch.float64, requires_grad=True),
    )
    a.norm().backward()
    b.norm().backward()
    assert_close(a.grad, b.grad, np.float64, "grad of a zero norm")


def test_sort_and_topk_indices_match_torch_on_distinct_values() -> None:
    x = np.random.default_rng(4).permutation(24).reshape(4, 6).astype(np.float32)
    ours, ref = deeprnn.tensor(x), torch.tensor(x)
    for fn in (
        lambda t: t.sort(1).indices,
        lambda t: t.sort(0, descending=True)[1],
        lambda t: t.argsort(1),
        lambda t: t.topk(3).indices,
        lambda t: t.max(0).indices,
        lambda t: t.argmax(),
        lambda t: t.argmin(1, keepdim=True),
    ):
        np.testing.assert_array_equal(fn(ours).numpy(), fn(ref).numpy())


PROMOTION = [
    ("f32 * f64 0-d", lambda L: L.ones(2) * L.tensor(2.0, dtype=L.float64)),
    ("i32 + f64 0-d", lambda L: L.ones(2, dtype=L.int32) + L.tensor(1.5, dtype=L.float64)),
    ("bool + int", lambda L: L.tensor([True]) + 1),
    ("bool + bool", lambda L: L.tensor([True]) + True),
    ("i32 + i64 0-d", lambda L: L.ones(2, dtype=L.int32) + L.tensor(3)),
    ("f16 + i64", lambda L: L.ones(2, dtype=L.float16) + L.ones(2, dtype=L.long)),
    ("u8 + i8", lambda L: L.ones(2, dtype=L.uint8) + L.ones(2, dtype=L.int8)),
    ("0-d f32 + 0-d f64", lambda L: L.tensor(1.0) + L.tensor(1, dtype=L.float64)),
    ("i64 / i64", lambda L: L.ones(2, dtype=L.long) / L.ones(2, dtype=L.long)),
    ("i32 / 2", lambda L: L.ones(2, dtype=L.int32) / 2),
    ("i64 ** 2", lambda L: L.ones(2, dtype=L.long) ** 2),
    ("i64 ** 0.5", lambda L: L.ones(2, dtype=L.long) ** 0.5),
    ("2 ** i64", lambda L: 2 ** L.ones(2, dtype=L.long)),
    ("f32 * np.float64", lambda L: L.ones(2) * np.float64(2)),
    ("i64 * np.float32", lambda L: L.ones(2, dtype=L.long) * np.float32(2)),
    ("f32 > f64", lambda L: L.ones(2) > L.ones(2, dtype=L.float64)),
    ("i64 // 2", lambda L: L.ones(2, dtype=L.long) // 2),
    ("sum of i32", lambda L: L.ones(2, dtype=L.int32).sum()),
    ("sum of bool", lambda L: L.ones(2, dtype=L.bool).sum()),
    ("cumsum of i32", lambda L: L.ones(2, dtype=L.int32).cumsum(0)),
    ("i64 remainder 3", lambda L: L.tensor([5, -5]) % 3),
    ("f32 where f64", lambda L: L.where(L.ones(2) > 0, L.ones(2), L.ones(2, dtype=L.float64))),
    ("i64.tanh()", lambda L: L.ones(2, dtype=L.long).tanh()),
    ("f32 clamp f64", lambda L: L.clamp(L.ones(2), L.zeros(2, dtype=L.float64))),
]


@pytest.mark.parametrize("name", [n for n, _ in PROMOTION])
def test_type_promotion_matches_torch(name: str) -> None:
    fn = dict(PROMOTION)[name]
    ours, ref = fn(deeprnn), fn(torch)
    assert str(ours.dtype) == str(ref.dtype).removeprefix("torch."), name
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


ERRORS = [
    lambda L: L.ones(3, 4).gather(1, L.ones(3, 1)),
    lambda L: L.ones(3, 4).gather(1, L.tensor([[5, 0]])),
    lambda L: L.ones(3, 4).narrow(1, 3, 2),
    lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]),
    lambda L: L.ones(5).split([2, 2]),
    lambda L: L.ones(3, 4)[L.tensor([True, False])],
    lambda L: L.ones(3, 4)[5],
    lambda L: L.ones(3).view(L.float64),
    lambda L: L.ones(2, 3).t().view(6),
    lambda L: L.ones(3).expand(2, 4),
    lambda L: L.ones(2, dtype=L.long) ** -1,
    lambda L: L.ones(2, 3).mm(L.ones(2, 3)),
    lambda L: L.dot(L.ones(3), L.ones(3, dtype=L.float64)),
    lambda L: L.ones(2).mean() if False else L.ones(2, dtype=L.long).mean(),
    lambda L: L.tensor([True]) - L.tensor([False]),
    lambda L: -L.tensor([True]),
    lambda L: L.ones(3).sum(dim=3),
    lambda L: L.ones(2, 3).permute(0, 0),
    lambda L: L.ones(3).topk(4),
    lambda L: L.multinomial(L.tensor([0.5, 0.5]), 3),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_match_torch(k: int) -> None:
    fn = ERRORS[k]
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(deeprnn)
    assert type(ours.value) is type(ref.value)
    assert str(ours.value) == str(ref.value)
