"""The shared stack's kernels for every kind against torch 2.13's modules: forward, every gradient.

LSTM (with and without projections) and GRU through `recurrent_forward`/`recurrent_backward`
and their named entry points; explicit dropout masks against torch composed layer by layer;
token ids against torch fed one_hot(ids); a packed batch (rows of PackedSequence.data)
against torch's packed modules; and the lean path against the cached one, bit for bit.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from _kernels_helpers import kernel_grads_of, load_kernel_weights, make_kind_weights, rng_for, torch_module_for

from deeprnn.kernels import (
    KINDS,
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    recurrent_backward,
    recurrent_forward,
)
from oracle import assert_close

torch = pytest.importorskip("torch")

T_, N_, I_, H_ = 5, 3, 4, 6
MODES = [("LSTM", 0), ("LSTM", 3), ("GRU", 0)]


def _torch_run(module, x, states, d_out, d_n, mode, batch_sizes=None):
    """Outputs, final states and gradients of sum(out * d_out) + sum(state_n * d_n) from torch."""
    if batch_sizes is None:
        xt = torch.from_numpy(x).requires_grad_(True)
        inp = xt
    else:
        xt = torch.from_numpy(x).requires_grad_(True)
        inp = torch.nn.utils.rnn.PackedSequence(xt, torch.from_numpy(np.asarray(batch_sizes)))
    st = [torch.from_numpy(s).requires_grad_(True) for s in states]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "LSTM with projections is not supported with oneDNN"
        out, final = module(inp, tuple(st) if mode == "LSTM" else st[0])
    out = out.data if batch_sizes is not None else out
    final = list(final) if mode == "LSTM" else [final]
    loss = (out * 0).sum()
    if d_out is not None:
        loss = loss + (out * torch.from_numpy(d_out)).sum()
    for f, g in zip(final, d_n):
        if g is not None:
            loss = loss + (f * torch.from_numpy(g)).sum()
    loss.backward()
    return out.detach().numpy(), [f.detach().numpy() for f in final], xt.grad.numpy(), [s.grad.numpy() for s in st]


def _check(mode, proj, L, bi, bias, dtype, grads, key, batch_sizes=None, masks=False):
    rng = rng_for(*key)
    D = 2 if bi else 1
    S = proj or H_
    N = N_ if batch_sizes is None else batch_sizes[0]  # a packed batch has b_0 sequences
    kind = KINDS[mode]
    weights = make_kind_weights(rng, mode, I_, H_, L, D, bias, dtype, proj=proj)
    R = T_ * N if batch_sizes is None else sum(batch_sizes)
    x = rng.standard_normal((T_, N, I_) if batch_sizes is None else (R, I_)).astype(dtype)
    states = [rng.standard_normal((L * D, N, w)).astype(dtype) for w in kind.state_widths(H_, S)]
    out_shape = (T_, N, D * S) if batch_sizes is None else (R, D * S)
    d_out = rng.standard_normal(out_shape).astype(dtype) if grads in ("both", "d_out") else None
    d_n = [rng.standard_normal(s.shape).astype(dtype) if grads in ("both", "d_n") else None for s in states]
    bs = None if batch_sizes is None else np.asarray(batch_sizes)

    out, state_n, cache = recurrent_forward(kind, x, tuple(states), weights, L, bi, batch_sizes=bs)
    dx, d_state0, dweights = recurrent_backward(d_out, tuple(d_n), cache)
    module = torch_module_for(mode, I_, H_, L, D, bias, dtype, proj)
    load_kernel_weights(module, weights)
    ref_out, ref_n, ref_dx, ref_d0 = _torch_run(module, x, states, d_out, d_n, mode, batch_sizes)
    assert_close(out, ref_out, dtype, "out")
    for i, (a, b) in enumerate(zip(state_n, ref_n)):
        assert_close(a, b, dtype, f"state_n[{i}]")
    assert_close(dx, ref_dx, dtype, "dx")
    for i, (a, b) in enumerate(zip(d_state0, ref_d0)):
        assert_close(a, b, dtype, f"d state0[{i}]")
    for k, (mine, ref) in enumerate(zip(dweights, kernel_grads_of(module, weights))):
        assert len(mine) == len(ref)
        for j, (a, b) in enumerate(zip(mine, ref)):
            if b is None:
                assert a is None, f"weight {j} of group {k} has no bias: no gradient"
            else:
                assert_close(a, b, dtype, f"dweights[{k}][{j}]")


GRID = list(
    itertools.product(
        MODES, [1, 2, 3], [False, True], [True, False], [np.float64, np.float32], ["both", "d_out", "d_n"]
    )
)


@pytest.mark.parametrize(
    "mode_proj,L,bi,bias,dtype,grads",
    GRID,
    ids=[f"{m}{p or ''}-L{L}-{bi}-{b}-{np.dtype(d).name}-{g}" for (m, p), L, bi, b, d, g in GRID],
)
def test_kernels_match_torch(mode_proj, L, bi, bias, dtype, grads):
    mode, proj = mode_proj
    _check(mode, proj, L, bi, bias, dtype, grads, ("kinds", mode, proj, L, bi, bias, np.dtype(dtype).name, grads))


PACKED = [[5, 3, 3, 1, 1], [3, 3, 3, 3, 3], [4, 2], [2, 2, 2, 1, 1]]  # batch_sizes, N = 3 .. 5


@pytest.mark.parametrize("mode,proj", MODES + [("RNN_TANH", 0), ("RNN_RELU", 0)])
@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("sizes", PACKED, ids=["-".join(map(str, s)) for s in PACKED])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_packed_rows_match_torch(mode, proj, bi, sizes, dtype):
    """Only the active rows of each step: the kernels on PackedSequence.data against torch's packed modules."""
    key = ("packed", mode, proj, bi, tuple(sizes), np.dtype(dtype).name)
    _check(mode, proj, 2, bi, True, dtype, "both", key, batch_sizes=sizes)


def test_named_entry_points_are_the_stack():
    rng = rng_for("entry")
    weights = make_kind_weights(rng, "LSTM", I_, H_, 2, 2, True, np.float64, proj=2)
    x = rng.standard_normal((T_, N_, I_))
    h0, c0 = rng.standard_normal((4, N_, 2)), rng.standard_normal((4, N_, H_))
    out, h_n, c_n, cache = lstm_forward(x, h0, c0, weights, 2, True)
    ref_out, (ref_h, ref_c), ref_cache = recurrent_forward(KINDS["LSTM"], x, (h0, c0), weights, 2, True)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(h_n, ref_h)
    np.testing.assert_array_equal(c_n, ref_c)
    g = rng.standard_normal(out.shape)
    a = lstm_backward(g, None, None, cache)
    b = recurrent_backward(g, (None, None), ref_cache)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1][0])
    np.testing.assert_array_equal(a[2], b[1][1])
    gw = make_kind_weights(rng, "GRU", I_, H_, 1, 1, False, np.float64)
    out, h_n, cache = gru_forward(x, None, gw, 1, False)
    dx, dh0, dws = gru_backward(np.ones_like(out), None, cache)
    assert dx.shape == x.shape and dh0.shape == (1, N_, H_) and dws[0][2] is None and dws[0][3] is None


def _torch_dropout_reference(mode, proj, weights, x, states, masks, L, bi, dtype, d_out, d_n):
    """The masked stack built by hand from single-layer torch modules with our explicit masks."""
    D = 2 if bi else 1
    layer_in = torch.from_numpy(x).requires_grad_(True)
    xt = layer_in
    st = [torch.from_numpy(s).requires_grad_(True) for s in states]
    finals, modules = [], []
    for layer in range(L):
        m = torch_module_for(mode, layer_in.shape[2], H_, 1, D, True, dtype, proj)
        load_kernel_weights(m, weights[layer * D : (layer + 1) * D])
        s = [t[layer * D : (layer + 1) * D] for t in st]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, fin = m(layer_in, tuple(s) if mode == "LSTM" else s[0])
        finals.append(list(fin) if mode == "LSTM" else [fin])
        modules.append(m)
        layer_in = out * torch.from_numpy(masks[layer]) if layer < L - 1 else out
    final = [torch.cat([f[i] for f in finals]) for i in range(len(states))]
    loss = (out * torch.from_numpy(d_out)).sum() + sum((f * torch.from_numpy(g)).sum() for f, g in zip(final, d_n))
    loss.backward()
    grads = [g for m, lw in zip(modules, range(L)) for g in kernel_grads_of(m, weights[lw * D : (lw + 1) * D])]
    return (
        out.detach().numpy(),
        [f.detach().numpy() for f in final],
        xt.grad.numpy(),
        [s.grad.numpy() for s in st],
        grads,
    )


@pytest.mark.parametrize("mode,proj", MODES)
@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dropout_masks_match_torch_composition(mode, proj, bi, dtype):
    rng = rng_for("kind-dropout", mode, proj, bi, np.dtype(dtype).name)
    L, D, S = 3, 2 if bi else 1, proj or H_
    kind = KINDS[mode]
    weights = make_kind_weights(rng, mode, I_, H_, L, D, True, dtype, proj=proj)
    x = rng.standard_normal((T_, N_, I_)).astype(dtype)
    states = [rng.standard_normal((L * D, N_, w)).astype(dtype) for w in kind.state_widths(H_, S)]
    masks = [((rng.random((T_, N_, D * S)) >= 0.4) / 0.6).astype(dtype) for _ in range(L - 1)]
    d_out = rng.standard_normal((T_, N_, D * S)).astype(dtype)
    d_n = [rng.standard_normal(s.shape).astype(dtype) for s in states]
    out, state_n, cache = recurrent_forward(kind, x, tuple(states), weights, L, bi, masks)
    dx, d_state0, dweights = recurrent_backward(d_out, tuple(d_n), cache)
    ref = _torch_dropout_reference(mode, proj, weights, x, states, masks, L, bi, dtype, d_out, d_n)
    assert_close(out, ref[0], dtype, "out")
    for a, b in zip(state_n, ref[1]):
        assert_close(a, b, dtype, "state_n")
    assert_close(dx, ref[2], dtype, "dx")
    for a, b in zip(d_state0, ref[3]):
        assert_close(a, b, dtype, "d state0")
    for k, (mine, theirs) in enumerate(zip(dweights, ref[4])):
        for j, (a, b) in enumerate(zip(mine, theirs)):
            assert_close(a, b, dtype, f"dweights[{k}][{j}]")
    lean_out, lean_n, none = recurrent_forward(kind, x, tuple(states), weights, L, bi, masks, need_cache=False)
    assert none is None
    np.testing.assert_array_equal(lean_out, out)  # the lean path applies the same masks
    for a, b in zip(lean_n, state_n):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode,proj", MODES)
@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_token_ids_match_torch_one_hot(mode, proj, bi, dtype):
    rng = rng_for("kind-ids", mode, proj, bi, np.dtype(dtype).name)
    V, L, D, S = 9, 2, 2 if bi else 1, proj or H_
    kind = KINDS[mode]
    weights = make_kind_weights(rng, mode, V, H_, L, D, True, dtype, proj=proj)
    ids = rng.integers(0, V, (T_, N_))
    states = [rng.standard_normal((L * D, N_, w)).astype(dtype) for w in kind.state_widths(H_, S)]
    d_out = rng.standard_normal((T_, N_, D * S)).astype(dtype)
    d_n = [rng.standard_normal(s.shape).astype(dtype) for s in states]
    out, state_n, cache = recurrent_forward(kind, ids, tuple(states), weights, L, bi)
    dx, d_state0, dweights = recurrent_backward(d_out, tuple(d_n), cache)
    assert dx is None  # no gradient for integer ids
    module = torch_module_for(mode, V, H_, L, D, True, dtype, proj)
    load_kernel_weights(module, weights)
    onehot = np.eye(V, dtype=dtype)[ids]
    ref_out, ref_n, _, ref_d0 = _torch_run(module, onehot, states, d_out, d_n, mode)
    assert_close(out, ref_out, dtype, "out")
    for a, b in zip(state_n, ref_n):
        assert_close(a, b, dtype, "state_n")
    for a, b in zip(d_state0, ref_d0):
        assert_close(a, b, dtype, "d state0")
    for k, (mine, ref) in enumerate(zip(dweights, kernel_grads_of(module, weights))):
        for j, (a, b) in enumerate(zip(mine, ref)):
            assert_close(a, b, dtype, f"dweights[{k}][{j}]")


@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("L,bi", [(1, False), (3, True)])
@pytest.mark.parametrize("packed", [False, True])
def test_lean_path_is_bit_identical(mode, L, bi, packed):
    rng = rng_for("kind-lean", mode, L, bi, packed)
    D = 2 if bi else 1
    kind = KINDS[mode]
    weights = make_kind_weights(rng, mode, I_, H_, L, D, True, np.float32)
    sizes = np.array([3, 2, 2, 1, 1]) if packed else None
    x = rng.standard_normal((T_, N_, I_) if not packed else (sizes.sum(), I_)).astype(np.float32)
    out, state_n, cache = recurrent_forward(kind, x, (None,) * len(kind.state_names), weights, L, bi, batch_sizes=sizes)
    lean, lean_n, none = recurrent_forward(
        kind, x, (None,) * len(kind.state_names), weights, L, bi, need_cache=False, batch_sizes=sizes
    )
    assert cache is not None and none is None
    np.testing.assert_array_equal(lean, out)
    for a, b in zip(lean_n, state_n):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
@pytest.mark.parametrize("L,bi", [(1, False), (2, True)])
def test_backward_without_dx_gives_the_same_other_gradients(mode, L, bi):
    """need_dx=False: dx is None, and d state0 and every weight gradient are those with dx, bit for bit."""
    rng = rng_for("kind-no-dx", mode, L, bi)
    D = 2 if bi else 1
    kind = KINDS[mode]
    weights = make_kind_weights(rng, mode, I_, H_, L, D, True, np.float32)
    x = rng.standard_normal((T_, N_, I_)).astype(np.float32)
    out, state_n, cache = recurrent_forward(kind, x, (None,) * len(kind.state_names), weights, L, bi)
    g = rng.standard_normal(out.shape).astype(np.float32)
    dx, d0, dw = recurrent_backward(g, (None,) * len(state_n), cache)
    none, d0_, dw_ = recurrent_backward(g, (None,) * len(state_n), cache, need_dx=False)
    assert dx is not None and dx.shape == x.shape and none is None
    for a, b in zip(d0_, d0):
        np.testing.assert_array_equal(a, b)
    for group, ref in zip(dw_, dw):
        for a, b in zip(group, ref):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("bias", [True, False])
def test_a_cell_computes_what_the_stack_computes_for_one_step(mode, bias):
    """The cells skip the stack's bookkeeping but run the same step code: the numbers are bit-identical."""
    from deeprnn.kernels import cell_backward, cell_forward

    rng = rng_for("cell-vs-stack", mode, bias)
    kind = KINDS[mode]
    (w,) = make_kind_weights(rng, mode, I_, H_, 1, 1, bias, np.float64)
    x = rng.standard_normal((N_, I_))
    states = tuple(rng.standard_normal((N_, H_)) for _ in kind.state_names)
    new, cache = cell_forward(kind, x, states, *w)
    _, state_n, stack_cache = recurrent_forward(kind, x[None], tuple(s[None] for s in states), [w], 1, False)
    for a, b in zip(new, state_n):
        np.testing.assert_array_equal(a, b[0])
    g = tuple(rng.standard_normal((N_, H_)) for _ in kind.state_names)
    mine = cell_backward(g, cache)
    dx, d0, ((dw_ih, dw_hh, db_ih, db_hh),) = recurrent_backward(None, tuple(v[None] for v in g), stack_cache)
    expected = (dx[0], *(d[0] for d in d0), dw_ih, dw_hh, db_ih, db_hh)
    for a, b in zip(mine, expected, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)


STEP_KINDS = [("RNN_TANH", 0), ("RNN_RELU", 0), ("LSTM", 0), ("GRU", 0)]
PREPARED = list(itertools.product(STEP_KINDS, [1, 2], [False, True], [np.float64, np.float32]))


@pytest.mark.parametrize(
    "mode_proj,L,bi,dtype", PREPARED, ids=[f"{m}-L{L}-{bi}-{np.dtype(d).name}" for (m, _), L, bi, d in PREPARED]
)
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("grads", ["both", "d_n"])
@pytest.mark.parametrize("loop", ["compiled", "python"])
def test_compiled_steps_with_blas_products_match_torch(monkeypatch, mode_proj, L, bi, dtype, packed, grads, loop):
    """The twin that "auto" gives a layer too large for the compiled loops (kernels/backend.py): each
    step's product in BLAS and the rest of the step (and the LSTM's and GRU's backward preparation)
    compiled; forced here at every size.  loop "compiled": the time loop compiled, calling NumPy's
    OpenBLAS itself (kernels/compiled/_blas.py); "python": the time loop in Python with np.matmul, as
    where that library is not found and at batch 1.  grads "d_n" leaves the output without a gradient,
    so that the top layer's backward step runs without one from above (has_dy False)."""
    pytest.importorskip("numba")
    from deeprnn.kernels import backend
    from deeprnn.kernels.compiled import _blas

    assert _blas.available()  # the wheels' OpenBLAS, which CI installs: the compiled loop is tested
    monkeypatch.setattr(_blas, "_FOUND", loop == "compiled")
    monkeypatch.setattr(backend, "_chosen", "auto")
    monkeypatch.setattr(backend, "MAX_ROWS", 0)
    mode, proj = mode_proj
    twin = backend.kind_for(KINDS[mode], N_, H_, dtype)
    assert twin is not KINDS[mode] and isinstance(twin, type(KINDS[mode])) and twin.loops is False
    sizes = [5, 3, 3, 1, 1] if packed else None
    _check(mode, proj, L, bi, True, dtype, grads, ("steps", mode, L, bi, np.dtype(dtype).name, packed, grads), sizes)


@pytest.mark.parametrize(
    "mode_proj,L,bi,dtype", PREPARED, ids=[f"{m}-L{L}-{bi}-{np.dtype(d).name}" for (m, _), L, bi, d in PREPARED]
)
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("product", ["packed", "hand"])
def test_compiled_loops_with_each_product_match_torch(monkeypatch, mode_proj, L, bi, dtype, packed, product):
    """The compiled loops with the packed product (compiled/_gemm.py, AVX-512's choice) and with the
    hand-written one (elsewhere), each forced here whatever this processor is, so that CI checks both
    on any machine."""
    pytest.importorskip("numba")
    from deeprnn.kernels import backend
    from deeprnn.kernels.compiled import _gemm

    monkeypatch.setattr(_gemm, "enabled", lambda: product == "packed")
    monkeypatch.setattr(backend, "_chosen", "numba")
    mode, proj = mode_proj
    twin = backend.kind_for(KINDS[mode], N_, H_, dtype)
    assert twin.loops is True
    sizes = [5, 3, 3, 1, 1] if packed else None
    key = ("loops", product, mode, L, bi, np.dtype(dtype).name, packed)
    _check(mode, proj, L, bi, True, dtype, "both", key, sizes)


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
@pytest.mark.parametrize("batch1", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_twin_on_a_layout_its_loops_cannot_take_matches_torch(monkeypatch, mode, batch1, dtype):
    """Buffers that flat_rows cannot describe (forced here): the compiled twin's forward falls back to NumPy's loop,
    which needs W_hh^T made from the loops' operands, W_hh's own buffer (packed product at N = 3, dot products
    at batch 1)."""
    pytest.importorskip("numba")
    from deeprnn.kernels import backend
    from deeprnn.kernels.compiled import _gemm, gru, lstm, rnn

    monkeypatch.setattr(_gemm, "enabled", lambda: True)
    monkeypatch.setattr(backend, "_chosen", "numba")
    if mode == "RNN_TANH":
        monkeypatch.setattr(rnn, "flat_rows", lambda x: None)
    else:
        monkeypatch.setattr(lstm if mode == "LSTM" else gru, "loop_rows", lambda work, v, prev, names: None)
    sizes = [1, 1, 1, 1, 1] if batch1 else None  # a packed batch of one sequence: N = 1
    assert backend.kind_for(KINDS[mode], 1 if batch1 else N_, H_, dtype).loops is True
    key = ("fallback-layout", mode, batch1, np.dtype(dtype).name)
    _check(mode, 0, 2, False, True, dtype, "both", key, sizes)
