"""torch.nn.utils.rnn in deeprnn.nn.utils.rnn, and RNN, LSTM and GRU run on packed batches, against torch.

The utilities: values, lengths, indices, gradients through pack and pad, torch's errors.
The modules: a PackedSequence in, a PackedSequence out, each sequence's h_n at its own last
step and the reverse direction starting at each sequence's own end; output, every final
state and every gradient as torch's, sorted and unsorted, and the kernels touching only the
active rows of each step.
"""

from __future__ import annotations

import itertools
import warnings
import zlib

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

import deeprnn
from deeprnn.nn.utils import rnn as drnn
from oracle import assert_close, torch_dtype


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _pair(x: np.ndarray, grad: bool = True) -> tuple:
    return torch.tensor(x, requires_grad=grad), deeprnn.tensor(x, requires_grad=grad)


# ---- the utilities -----------------------------------------------------------------------------
PACK_CASES = [
    (lengths, enforce)
    for lengths in ([5, 3, 3, 1], [2, 5, 1, 3], [1, 1, 1, 1], [5])
    for enforce in (True, False)
    if not enforce or lengths == sorted(lengths, reverse=True)  # enforce_sorted needs decreasing lengths
]


@pytest.mark.parametrize(
    "lengths,enforce_sorted", PACK_CASES, ids=[f"{'-'.join(map(str, c[0]))}-{c[1]}" for c in PACK_CASES]
)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_match_torch_with_gradients(lengths, batch_first, enforce_sorted) -> None:
    rng = _rng("pack", lengths, batch_first, enforce_sorted)
    T, N = 6, len(lengths)
    x = rng.standard_normal((N, T, 3) if batch_first else (T, N, 3))
    tx, dx = _pair(x)
    tp = trnn.pack_padded_sequence(tx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    dp = drnn.pack_padded_sequence(dx, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert isinstance(dp, drnn.PackedSequence) and isinstance(dp, tuple) and dp._fields == tp._fields
    assert_close(dp.data, tp.data, np.float64, "data")
    assert dp.batch_sizes.tolist() == tp.batch_sizes.tolist() and dp.batch_sizes.dtype == np.int64
    for name in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(dp, name), getattr(tp, name)
        assert (a is None) == (b is None) and (a is None or a.tolist() == b.tolist()), name
    r = rng.standard_normal((7, N, 3) if not batch_first else (N, 7, 3))
    tpad, tlen = trnn.pad_packed_sequence(tp, batch_first=batch_first, padding_value=-1.5, total_length=7)
    dpad, dlen = drnn.pad_packed_sequence(dp, batch_first=batch_first, padding_value=-1.5, total_length=7)
    assert_close(dpad, tpad, np.float64, "padded")
    assert dlen.tolist() == tlen.tolist() and dlen.dtype == np.int64
    (tpad * torch.tensor(r)).sum().backward()
    (dpad * deeprnn.tensor(r)).sum().backward()
    assert_close(dx.grad, tx.grad, np.float64, "d input through pack and pad")


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_unpad_and_unpack_match_torch(padding_side, batch_first) -> None:
    rng = _rng("padseq", padding_side, batch_first)
    arrays = [rng.standard_normal((L, 2, 3)) for L in (3, 0, 5, 1)]
    tseq = [torch.tensor(a, requires_grad=True) for a in arrays]
    dseq = [deeprnn.tensor(a, requires_grad=True) for a in arrays]
    tp = trnn.pad_sequence(tseq, batch_first=batch_first, padding_value=9.0, padding_side=padding_side)
    dp = drnn.pad_sequence(dseq, batch_first=batch_first, padding_value=9.0, padding_side=padding_side)
    assert_close(dp, tp, np.float64, "padded")
    r = rng.standard_normal(tuple(tp.shape))
    (tp * torch.tensor(r)).sum().backward()
    (dp * deeprnn.tensor(r)).sum().backward()
    for a, b in zip(dseq, tseq):
        assert_close(a.grad, b.grad, np.float64, "d sequence")
    if padding_side == "right":
        lengths = torch.tensor([3, 0, 5, 1])
        for a, b in zip(
            drnn.unpad_sequence(dp, lengths, batch_first), trnn.unpad_sequence(tp.detach(), lengths, batch_first)
        ):
            assert_close(a, b, np.float64, "unpadded")
    nonempty = [a for a in arrays if len(a)]
    tpk = trnn.pack_sequence([torch.tensor(a) for a in nonempty], enforce_sorted=False)
    dpk = drnn.pack_sequence([deeprnn.tensor(a) for a in nonempty], enforce_sorted=False)
    assert_close(dpk.data, tpk.data, np.float64, "pack_sequence")
    for a, b in zip(drnn.unpack_sequence(dpk), trnn.unpack_sequence(tpk)):
        assert_close(a, b, np.float64, "unpack_sequence")


def test_pad_sequence_broadcasts_and_takes_the_first_dtype() -> None:
    tseq = [torch.randn(3, 4, dtype=torch.float64), torch.ones(2, 1, dtype=torch.float32)]
    dseq = [deeprnn.tensor(t.numpy(), requires_grad=True) for t in tseq]
    out = drnn.pad_sequence(dseq)
    assert_close(out, trnn.pad_sequence(tseq), np.float64, "padded")
    out.sum().backward()
    assert tuple(dseq[1].grad.shape) == (2, 1) and np.all(dseq[1].grad.numpy() == 4)  # the broadcast sums back


def test_packed_sequence_is_torchs_namedtuple() -> None:
    data, sizes = deeprnn.randn(3, 2), deeprnn.tensor(np.array([2, 1]))
    p = drnn.PackedSequence(data, sizes, deeprnn.tensor(np.array([1, 0])))
    assert p.unsorted_indices.tolist() == [1, 0]  # filled from sorted_indices, as torch
    d, b, s, u = p
    assert d is data and b is sizes
    q = drnn.PackedSequence((data, sizes))
    assert q.sorted_indices is None and q.unsorted_indices is None and q.batch_sizes is sizes
    assert p.double().data.dtype == np.float64 and p.double().batch_sizes is sizes
    assert p.to(deeprnn.float32) is p and not p.is_cuda and p.cpu() is p
    assert drnn.invert_permutation(deeprnn.tensor(np.array([2, 0, 1]))).tolist() == [1, 2, 0]
    assert drnn.invert_permutation(None) is None
    assert deeprnn.nn.modules.rnn.PackedSequence is drnn.PackedSequence


ERRORS = [
    ("unsorted", lambda lib, R: R.pack_padded_sequence(lib.randn(4, 3, 2), [2, 4, 1])),
    ("zero-length", lambda lib, R: R.pack_padded_sequence(lib.randn(4, 3, 2), [4, 2, 0])),
    ("negative-length", lambda lib, R: R.pack_padded_sequence(lib.randn(4, 3, 2), [4, 2, -1])),
    (
        "zero-length-unsorted",
        lambda lib, R: R.pack_padded_sequence(lib.randn(4, 3, 2), [0, 2, 4], enforce_sorted=False),
    ),
    ("fewer-lengths", lambda lib, R: R.pack_padded_sequence(lib.randn(4, 3, 2), [4, 2])),
    ("more-lengths", lambda lib, R: R.pack_padded_sequence(lib.randn(4, 3, 2), [4, 2, 1, 1])),
    ("2D-lengths", lambda lib, R: R.pack_padded_sequence(lib.randn(4, 3, 2), lib.tensor([[4, 2, 1]]))),
    ("1D-input", lambda lib, R: R.pack_padded_sequence(lib.randn(4), [4])),
    ("empty", lambda lib, R: R.pack_padded_sequence(lib.randn(4, 0, 2), [])),
    (
        "total_length-short",
        lambda lib, R: R.pad_packed_sequence(R.pack_padded_sequence(lib.randn(4, 3, 2), [4, 2, 1]), total_length=3),
    ),
    ("pad-side", lambda lib, R: R.pad_sequence([lib.randn(3, 2)], padding_side="middle")),
    ("pad-mismatch", lambda lib, R: R.pad_sequence([lib.randn(3, 2), lib.randn(1, 3)])),
    ("pad-empty", lambda lib, R: R.pad_sequence([])),
    ("pad-not-iterable", lambda lib, R: R.pad_sequence(5)),
    ("pad-0D", lambda lib, R: R.pad_sequence([lib.tensor(1.0)])),
    ("pack_sequence-unsorted", lambda lib, R: R.pack_sequence([lib.randn(1, 2), lib.randn(3, 2)])),
    ("PackedSequence-one-argument", lambda lib, R: R.PackedSequence(lib.randn(3))),
    (
        "RNN-packed-3D-data",
        lambda lib, R: lib.nn.GRU(3, 4)(R.PackedSequence(lib.randn(5, 2, 3), lib.tensor([2, 2, 1]))),
    ),
    (
        "RNN-packed-hidden-size",
        lambda lib, R: lib.nn.RNN(3, 4)(R.pack_sequence([lib.randn(3, 3), lib.randn(2, 3)]), lib.randn(1, 3, 4)),
    ),
    ("RNN-packed-dtype", lambda lib, R: lib.nn.RNN(3, 4)(R.pack_sequence([lib.randn(3, 3, dtype=lib.float64)]))),
    ("RNN-packed-features", lambda lib, R: lib.nn.GRU(3, 4)(R.pack_sequence([lib.randn(3, 5)]))),
]


@pytest.mark.parametrize("case", [c for _, c in ERRORS], ids=[i for i, _ in ERRORS])
def test_errors_as_torch(case) -> None:
    def outcome(lib, R):
        try:
            case(lib, R)
        except Exception as err:  # noqa: BLE001 - the class is compared
            return type(err).__name__, str(err).split("\n")[0]
        return "no error", ""

    expected = outcome(torch, trnn)
    assert expected[0] != "no error"
    got = outcome(deeprnn, drnn)
    assert got == (expected[0], expected[1].replace("torch.", "deeprnn.")), (got, expected)


def test_lstm_checks_a_packed_input_as_any_other() -> None:
    """torch's LSTM skips its checks on a PackedSequence (a wrong feature size then runs on whatever memory
    oneDNN reads, or fails deep in C++); deeprnn checks it as torch checks every other input."""
    m = deeprnn.nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        m(drnn.pack_sequence([deeprnn.randn(3, 5)]))
    packed = drnn.pack_sequence([deeprnn.randn(3, 3), deeprnn.randn(2, 3)])
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 2, 4\), got \[1, 2, 5\]"):
        m(packed, (deeprnn.randn(1, 2, 4), deeprnn.randn(1, 2, 5)))


def test_a_length_beyond_the_padding_is_refused() -> None:
    """torch reads past the end of the padded tensor here (and returns batch_sizes that do not add up)."""
    with pytest.raises(RuntimeError, match="at most the padded sequence length 4, got 5"):
        drnn.pack_padded_sequence(deeprnn.randn(4, 3, 2), [5, 2, 1])


# ---- the modules on packed batches ----------------------------------------------------------------
MODULES = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {})]
LENGTHS = [[6, 4, 4, 1], [2, 6, 1, 4, 4], [3, 3, 3], [1]]
CASES = list(itertools.product(range(len(MODULES)), [1, 2, 3], [False, True], range(len(LENGTHS)), [True, False]))


def _case_id(c) -> str:
    m, L, bi, lengths, given = c
    kind, kw = MODULES[m]
    sizes = "-".join(map(str, LENGTHS[lengths]))
    extra = "".join(f"-{v}" for v in kw.values())
    return f"{kind}{extra}-L{L}-{'bi' if bi else 'uni'}-{sizes}-{'h0' if given else 'noh0'}"


def _run_packed(lib, R, module, x, lengths, states, r_out, r_states, batch_first):
    xt = lib.tensor(x, requires_grad=True)
    st = [lib.tensor(s, requires_grad=True) for s in states]
    packed = R.pack_padded_sequence(xt, lengths, batch_first=batch_first, enforce_sorted=False)
    lstm = isinstance(module, lib.nn.LSTM)
    hx = (tuple(st) if lstm else st[0]) if st else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's oneDNN notice for projections
        out, final = module(packed, hx)
    assert isinstance(out, R.PackedSequence)
    final = list(final) if lstm else [final]
    padded, out_lengths = R.pad_packed_sequence(out, batch_first=batch_first)
    loss = (padded * lib.tensor(r_out[: padded.shape[0]] if not batch_first else r_out[:, : padded.shape[1]])).sum()
    for f, r in zip(final, r_states):
        loss = loss + (f * lib.tensor(r)).sum()
    loss.backward()
    return [out.data, padded, *final, xt.grad, *[s.grad for s in st], *[p.grad for p in module.parameters()]], out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("c", CASES, ids=[_case_id(c) for c in CASES])
def test_modules_on_packed_batches_match_torch(c, dtype) -> None:
    m, L, bi, li, given = c
    kind, kw = MODULES[m]
    lengths = LENGTHS[li]
    dtype = np.dtype(dtype)
    rng = _rng("packed-module", c, dtype.name)
    batch_first = bool(li % 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(torch.nn, kind)(
            3, 4, L, bidirectional=bi, batch_first=batch_first, dtype=torch_dtype(dtype), **kw
        )
    ours = getattr(deeprnn.nn, kind)(3, 4, L, bidirectional=bi, batch_first=batch_first, dtype=dtype, **kw)
    ours.load_state_dict(ref.state_dict())
    N, T, D, S = len(lengths), max(lengths) + 1, 2 if bi else 1, kw.get("proj_size", 4)
    x = rng.standard_normal((N, T, 3) if batch_first else (T, N, 3)).astype(dtype)
    widths = [S, 4] if kind == "LSTM" else [S]
    states = [rng.standard_normal((L * D, N, w)).astype(dtype) for w in widths] if given else []
    r_out = rng.standard_normal((N, T, D * S) if batch_first else (T, N, D * S)).astype(dtype)
    r_states = [rng.standard_normal((L * D, N, w)).astype(dtype) for w in widths]
    theirs, tout = _run_packed(torch, trnn, ref, x, lengths, states, r_out, r_states, batch_first)
    mine, dout = _run_packed(deeprnn, drnn, ours, x, lengths, states, r_out, r_states, batch_first)
    assert dout.batch_sizes.tolist() == tout.batch_sizes.tolist()
    assert dout.sorted_indices.tolist() == tout.sorted_indices.tolist()
    assert dout.unsorted_indices.tolist() == tout.unsorted_indices.tolist()
    names = ["output.data", "padded output"] + [f"state_n{i}" for i in range(len(widths))] + ["d input"]
    names += [f"d state0[{i}]" for i in range(len(states))] + [f"d {n}" for n, _ in ours.named_parameters()]
    for name, a, b in zip(names, mine, theirs, strict=True):
        assert_close(a, b, dtype, name)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_each_sequence_is_run_as_if_alone(kind: str) -> None:
    """h_n of every sequence is taken at its own last step, and the reverse direction starts at its own end."""
    m = getattr(deeprnn.nn, kind)(3, 5, 2, bidirectional=True, dtype=np.float64)
    rng = _rng("alone", kind)
    lengths = [2, 5, 3]
    seqs = [rng.standard_normal((L, 3)) for L in lengths]
    out, final = m(drnn.pack_sequence([deeprnn.tensor(s) for s in seqs], enforce_sorted=False))
    h_n = final[0] if kind == "LSTM" else final
    per_seq = drnn.unpack_sequence(out)
    for j, s in enumerate(seqs):
        alone_out, alone_final = m(deeprnn.tensor(s))  # unbatched: (L_j, 3)
        alone_h = alone_final[0] if kind == "LSTM" else alone_final
        np.testing.assert_allclose(per_seq[j].detach().numpy(), alone_out.detach().numpy(), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(h_n[:, j].detach().numpy(), alone_h.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
def test_the_kernels_touch_only_the_active_rows(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every time loop runs over (steps, active rows) blocks that add up to the packed rows, never the padding."""
    from deeprnn.kernels import KINDS, backend

    # The NumPy loops, the ones spied on.  The compiled twins get the same segments from the stack;
    # tests/kernels/test_kernels_kinds_parity.py::test_packed_rows_match_torch runs them on packed rows.
    monkeypatch.setattr(backend, "_chosen", "numpy")
    kind = KINDS[mode]
    seen = {"forward": [], "backward": []}
    fwd, bwd = kind.forward_steps, kind.backward_steps  # bound (or static) as the stack calls them

    def spy_forward(consts, v, prev, reverse, work):
        seen["forward"].append(v["h"].shape[0] * v["h"].shape[1])  # (steps, active rows) of one run
        return fwd(consts, v, prev, reverse, work)

    def spy_backward(weights, v, carries, reverse, work):
        seen["backward"].append(v["d_gates"].shape[0] * v["d_gates"].shape[1])
        return bwd(weights, v, carries, reverse, work)

    monkeypatch.setattr(kind, "forward_steps", spy_forward)  # on the kind object, not its class
    monkeypatch.setattr(kind, "backward_steps", spy_backward)
    m = {"RNN_TANH": deeprnn.nn.RNN, "LSTM": deeprnn.nn.LSTM, "GRU": deeprnn.nn.GRU}[mode](3, 4, 2, bidirectional=True)
    lengths = [7, 3, 2, 1, 1]
    packed = drnn.pack_sequence([deeprnn.randn(L, 3) for L in lengths])
    out, _ = m(packed)
    out.data.sum().backward()
    R = sum(lengths)
    per_layer_direction = 4  # 2 layers x 2 directions
    assert sum(seen["forward"]) == per_layer_direction * R < per_layer_direction * 7 * 5
    assert sum(seen["backward"]) == per_layer_direction * R
