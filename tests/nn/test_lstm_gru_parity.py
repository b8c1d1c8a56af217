"""nn.LSTM, nn.GRU, nn.LSTMCell and nn.GRUCell against torch 2.13: outputs, final states and every gradient.

The grid of the LSTM/GRU issue: kind x num_layers 1-3 x bidirectional x batch_first x bias x
batched/unbatched x given/default states, plus the LSTM with proj_size, in float32 (1e-5) and
float64 (1e-10) through tests/oracle.py.  Weights are copied from torch with load_state_dict
(a torch state_dict, unchanged); the loss weights the output and every final state with random
coefficients so that every gradient path is exercised.
"""

from __future__ import annotations

import itertools
import warnings
import zlib

import numpy as np
import pytest
import torch

import deeprnn
from oracle import assert_close, torch_dtype

GRID = list(
    itertools.product(
        [1, 2, 3],  # num_layers
        [False, True],  # bidirectional
        [False, True],  # batch_first
        [True, False],  # bias
        [True, False],  # batched
        [True, False],  # states given
    )
)
CONFIGS = (
    [("LSTM", 0, *c) for c in GRID] + [("LSTM", 3, *c) for c in GRID] + [("GRU", 0, *c) for c in GRID]
)  # (kind, proj_size, L, bi, bf, bias, batched, given)


def _id(c: tuple) -> str:
    kind, proj, L, bi, bf, bias, batched, given = c
    return (
        f"{kind}{f'-proj{proj}' if proj else ''}-L{L}-{'bi' if bi else 'uni'}-{'bf' if bf else 'tm'}-"
        f"{'bias' if bias else 'nobias'}-{'batched' if batched else 'unbatched'}-{'h0' if given else 'noh0'}"
    )


def _seed(*key: object) -> int:
    return zlib.crc32(repr(key).encode())


def make_pair(kind: str, I: int, H: int, L: int, proj: int, dtype: np.dtype, **kw: object) -> tuple:
    """A torch module and a deeprnn one holding the same weights (torch's state_dict, loaded unchanged)."""
    extra = {"proj_size": proj} if proj else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "LSTM with projections is not supported with oneDNN"
        ref = getattr(torch.nn, kind)(I, H, L, dtype=torch_dtype(dtype), **extra, **kw)
    ours = getattr(deeprnn.nn, kind)(I, H, L, dtype=dtype, **extra, **kw)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def run_pair(
    cfg: tuple, dtype: np.dtype, T: int = 5, N: int = 3, I: int = 4, H: int = 6, data_input: bool = False
) -> None:
    """data_input: x needs no gradient (data, as in most programs): neither library gives it one."""
    kind, proj, L, bi, bf, bias, batched, given = cfg
    rng = np.random.default_rng(_seed(cfg, dtype.name, T, N, I, H))
    ref, ours = make_pair(kind, I, H, L, proj, dtype, bias=bias, batch_first=bf, bidirectional=bi)
    D = 2 if bi else 1
    S = proj or H
    x_shape = ((N, T, I) if bf else (T, N, I)) if batched else (T, I)
    state_shapes = [(L * D, N, S)] + ([(L * D, N, H)] if kind == "LSTM" else [])
    if not batched:
        state_shapes = [(s[0], s[2]) for s in state_shapes]
    x = rng.standard_normal(x_shape).astype(dtype)
    states = [(0.5 * rng.standard_normal(s)).astype(dtype) for s in state_shapes]
    out_shape = ((N, T, D * S) if bf else (T, N, D * S)) if batched else (T, D * S)
    r_out = rng.standard_normal(out_shape).astype(dtype)
    r_states = [rng.standard_normal(s).astype(dtype) for s in state_shapes]

    def run(lib, m):
        xt = lib.tensor(x, requires_grad=not data_input)
        st = [lib.tensor(s, requires_grad=True) for s in states] if given else []
        hx = None if not given else (tuple(st) if kind == "LSTM" else st[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, final = m(xt, hx)
        final = list(final) if kind == "LSTM" else [final]
        loss = (out * lib.tensor(r_out)).sum()
        for f, r in zip(final, r_states):
            loss = loss + (f * lib.tensor(r)).sum()
        loss.backward()
        return out, final, xt.grad, [s.grad for s in st]

    t_out, t_final, t_dx, t_dst = run(torch, ref)
    d_out, d_final, d_dx, d_dst = run(deeprnn, ours)
    assert_close(d_out, t_out, dtype, "output")
    for i, (a, b) in enumerate(zip(d_final, t_final)):
        assert_close(a, b, dtype, ["h_n", "c_n"][i])
    if data_input:
        assert d_dx is None and t_dx is None
    else:
        assert_close(d_dx, t_dx, dtype, "d input")
    for i, (a, b) in enumerate(zip(d_dst, t_dst)):
        assert_close(a, b, dtype, ["d h_0", "d c_0"][i])
    t_params = dict(ref.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(t_params)
    for name, p in ours.named_parameters():
        assert_close(p.grad, t_params[name].grad, dtype, f"d {name}")


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_module_matches_torch_float64(cfg: tuple) -> None:
    run_pair(cfg, np.dtype(np.float64))


@pytest.mark.parametrize("cfg", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_module_matches_torch_float32(cfg: tuple) -> None:
    run_pair(cfg, np.dtype(np.float32))


@pytest.mark.parametrize("kind,proj", [("LSTM", 0), ("LSTM", 7), ("GRU", 0)])
def test_longer_wider_float32(kind: str, proj: int) -> None:
    """A longer sequence with wider layers, where float32 accumulation error has room to grow."""
    run_pair((kind, proj, 2, True, True, True, True, True), np.dtype(np.float32), T=40, N=8, I=17, H=33)


@pytest.mark.parametrize("kind,proj", [("LSTM", 0), ("LSTM", 3), ("GRU", 0)])
@pytest.mark.parametrize("L,bi", [(1, False), (2, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_data_input_without_gradient(kind: str, proj: int, L: int, bi: bool, dtype: type) -> None:
    """An input that needs no gradient: the backward skips dL/dx, and every other gradient is torch's."""
    run_pair((kind, proj, L, bi, False, True, True, True), np.dtype(dtype), data_input=True)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("given", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cell_matches_torch(kind: str, bias: bool, batched: bool, given: bool, dtype: type) -> None:
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(_seed(kind, bias, batched, given, dtype.name))
    ref = getattr(torch.nn, kind)(4, 6, bias=bias, dtype=torch_dtype(dtype))
    ours = getattr(deeprnn.nn, kind)(4, 6, bias=bias, dtype=dtype)
    ours.load_state_dict(ref.state_dict())
    lstm = kind == "LSTMCell"
    x = rng.standard_normal((3, 4) if batched else (4,)).astype(dtype)
    shape = (3, 6) if batched else (6,)
    states = [rng.standard_normal(shape).astype(dtype) for _ in range(2 if lstm else 1)]
    rs = [rng.standard_normal(shape).astype(dtype) for _ in states]

    def run(lib, cell):
        xt = lib.tensor(x, requires_grad=True)
        st = [lib.tensor(s, requires_grad=True) for s in states] if given else []
        hx = None if not given else (tuple(st) if lstm else st[0])
        first = cell(xt, hx)  # two steps, so that the second step's gradient flows back through the first
        second = cell(xt, first)
        second = list(second) if lstm else [second]
        first = list(first) if lstm else [first]
        loss = sum((s * lib.tensor(r)).sum() for s, r in zip(second, rs))
        loss.backward()
        return first, second, xt.grad, [s.grad for s in st]

    t = run(torch, ref)
    d = run(deeprnn, ours)
    for i in range(len(states)):
        assert_close(d[0][i], t[0][i], dtype, f"step 1 state {i}")
        assert_close(d[1][i], t[1][i], dtype, f"step 2 state {i}")
    assert_close(d[2], t[2], dtype, "d x")
    for i, (a, b) in enumerate(zip(d[3], t[3])):
        assert_close(a, b, dtype, f"d state {i}")
    tp = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, tp[name].grad, dtype, f"d {name}")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "LSTMCell", "GRUCell"])
def test_parameter_names_shapes_init_and_repr(kind: str) -> None:
    kw = {} if "Cell" in kind else {"num_layers": 2, "bidirectional": True}
    extra = [{}] + ([{"proj_size": 3}] if kind == "LSTM" else [])
    for more in extra:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = getattr(torch.nn, kind)(5, 16, **kw, **more)
        ours = getattr(deeprnn.nn, kind)(5, 16, **kw, **more)
        assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
            (n, tuple(p.shape)) for n, p in ref.named_parameters()
        ]
        assert repr(ours) == repr(ref)
        bound = 1 / np.sqrt(16)
        allw = np.concatenate([p.detach().numpy().ravel() for p in ours.parameters()])
        assert np.abs(allw).max() <= bound
        assert abs(allw.mean()) < 0.03 and abs(allw.std() - bound / np.sqrt(3)) < 0.015  # U(-b, b)
        if "Cell" not in kind:
            assert ours._flat_weights_names == ref._flat_weights_names
            assert [[tuple(p.shape) for p in g] for g in ours.all_weights] == [
                [tuple(p.shape) for p in g] for g in ref.all_weights
            ]
            assert ours.flatten_parameters() is None


@pytest.mark.parametrize(
    "kw",
    [
        dict(num_layers=3, bias=False, batch_first=True, dropout=0.25, bidirectional=True),
        dict(proj_size=2, num_layers=2),
        dict(bidirectional=1),
    ],
)
def test_repr_matches_torch(kw: dict) -> None:
    for kind in ("RNN", "LSTM", "GRU"):
        if "proj_size" in kw and kind != "LSTM":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert repr(getattr(deeprnn.nn, kind)(3, 4, **kw)) == repr(getattr(torch.nn, kind)(3, 4, **kw))
    assert repr(deeprnn.nn.LSTMCell(3, 4, bias=False)) == repr(torch.nn.LSTMCell(3, 4, bias=False))
    assert repr(deeprnn.nn.RNNCell(3, 4, nonlinearity="relu")) == repr(torch.nn.RNNCell(3, 4, nonlinearity="relu"))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_eval_dropout_matches_torch_and_training_draws_masks(kind: str) -> None:
    ref, ours = make_pair(kind, 3, 8, 3, 0, np.dtype(np.float64), dropout=0.5)
    ours.generator = deeprnn.Generator(1)
    x = np.random.default_rng(1).standard_normal((6, 2, 3))
    ours.eval()
    ref.eval()
    assert_close(ours(deeprnn.tensor(x))[0], ref(torch.tensor(x))[0], np.float64, "eval output")
    ours.train()
    a = ours(deeprnn.tensor(x))[0].detach().numpy()
    b = ours(deeprnn.tensor(x))[0].detach().numpy()
    assert not np.allclose(a, b)  # fresh masks each call


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_empty_batch_as_torch(kind: str) -> None:
    ref, ours = make_pair(kind, 3, 4, 2, 0, np.dtype(np.float32), bidirectional=True)
    x = deeprnn.zeros(5, 0, 3, requires_grad=True)
    out, final = ours(x)
    t_out, t_final = ref(torch.zeros(5, 0, 3))
    assert tuple(out.shape) == tuple(t_out.shape) == (5, 0, 8)
    finals = (final, t_final) if kind == "GRU" else (final[0], t_final[0])
    assert tuple(finals[0].shape) == tuple(finals[1].shape) == (4, 0, 4)
    out.sum().backward()
    assert tuple(x.grad.shape) == (5, 0, 3)
    assert all(p.grad is not None and not p.grad.detach().numpy().any() for p in ours.parameters())


def test_one_graph_node_per_call_and_no_grad() -> None:
    for kind in ("LSTM", "GRU"):
        m = getattr(deeprnn.nn, kind)(3, 4, 3, bidirectional=True, batch_first=True)
        out, final = m(deeprnn.randn(2, 5, 3))
        h = final[0] if kind == "LSTM" else final
        assert out.grad_fn is h.grad_fn
        assert all(t is None or t.grad_fn is None for t in out.grad_fn.inputs)
        with deeprnn.no_grad():
            out2, _ = m(deeprnn.randn(2, 5, 3))
        assert out2.grad_fn is None and not out2.requires_grad


def test_torch_namespace_paths() -> None:
    assert deeprnn.nn.modules.rnn.LSTM is deeprnn.nn.LSTM
    assert deeprnn.nn.modules.rnn.GRUCell is deeprnn.nn.GRUCell
    assert deeprnn.nn.modules.rnn.RNNBase is deeprnn.nn.RNNBase
    assert issubclass(deeprnn.nn.LSTMCell, deeprnn.nn.RNNCellBase)
    assert issubclass(deeprnn.nn.GRU, deeprnn.nn.RNNBase)
