"""What the user does with the outputs cannot change the gradients; non-finite inputs behave as in torch.

Writing into an RNN's output (through ``out.detach()``, ``.numpy()`` or under no_grad) used to
change its gradients, because the output was also the activation saved for backward; torch's
gradients are unaffected.  And a ReLU RNN given NaN or inf got NaN gradients everywhere, with
RuntimeWarnings (pytest turns warnings into errors here), where torch's stay finite.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from oracle import assert_close

KINDS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {})]
IDS = ["rnn-tanh", "rnn-relu", "lstm", "lstm-proj", "gru"]


def _grads(m: deeprnn.nn.Module, x: np.ndarray, r: list[np.ndarray], write=None) -> list[np.ndarray]:
    """Gradients of sum(out * r0) + sum(h_n * r1); `write(out, h_n)` changes the outputs before backward."""
    for p in m.parameters():
        p.grad = None
    xt = deeprnn.tensor(x, requires_grad=True)
    out, final = m(xt)
    h_n = final[0] if isinstance(final, tuple) else final
    loss = (out * deeprnn.tensor(r[0])).sum() + (h_n * deeprnn.tensor(r[1])).sum()
    if write is not None:
        write(out, h_n)
    loss.backward()
    return [xt.grad.numpy().copy()] + [p.grad.numpy().copy() for p in m.parameters()]


def _by_detach(out, h_n):
    d = out.detach()
    d[...] = 7.0
    h_n.detach()[...] = -3.0


def _by_numpy(out, h_n):
    out.data.numpy()[...] = 1e30
    h_n.detach().numpy()[...] = np.nan


def _under_no_grad(out, h_n):
    with deeprnn.no_grad():
        out.mul_(0.0)
        h_n.add_(5.0)


@pytest.mark.parametrize("write", [_by_detach, _by_numpy, _under_no_grad], ids=["detach", "numpy", "no_grad"])
@pytest.mark.parametrize("kind,kw", KINDS, ids=IDS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_writing_into_the_outputs_leaves_the_gradients(kind: str, kw: dict, write, batch_first: bool) -> None:
    m = getattr(deeprnn.nn, kind)(3, 5, 2, bidirectional=True, batch_first=batch_first, dtype=np.float64, **kw)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 3))
    S = kw.get("proj_size", 5)
    N = 4 if batch_first else 6  # x is (N, T, I) with batch_first, else (T, N, I)
    r = [rng.standard_normal((4, 6, 2 * S)), rng.standard_normal((4, N, S))]  # like output and h_n
    clean = _grads(m, x, r)
    written = _grads(m, x, r, write)
    for a, b in zip(written, clean):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind,kw", KINDS, ids=IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_input_gives_torchs_gradients_without_warnings(kind: str, kw: dict, bad: float) -> None:
    ref = getattr(torch.nn, kind)(3, 4, 2, dtype=torch.float64, **kw)
    ours = getattr(deeprnn.nn, kind)(3, 4, 2, dtype=np.float64, **kw)
    ours.load_state_dict(ref.state_dict())
    x = np.random.default_rng(1).standard_normal((5, 2, 3))
    x[2, 0, 1] = bad

    def run(lib, m):
        xt = lib.tensor(x, requires_grad=True)
        out, final = m(xt)
        h_n = final[0] if isinstance(final, tuple) else final
        (out.sum() + h_n.sum()).backward()
        return [out, h_n, xt.grad] + [p.grad for p in m.parameters()]

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own oneDNN notice about projections
        theirs = run(torch, ref)
    mine = run(deeprnn, ours)  # any RuntimeWarning here is an error (pytest's filterwarnings)
    names = ["output", "h_n", "d input"] + [f"d {n}" for n, _ in ours.named_parameters()]
    for name, a, b in zip(names, mine, theirs):
        assert_close(a, b, np.float64, name)  # the NaN and inf entries sit where torch's do
    if kw.get("nonlinearity") == "relu":
        assert np.isfinite(mine[2].numpy()).all()  # finite input gradients, as torch's


def test_relu_derivative_is_one_at_nan_and_zero_at_zero() -> None:
    """torch's threshold_backward: 0 where the output is <= 0, 1 elsewhere, NaN included."""
    from deeprnn.kernels._activation import derivative_from_output

    y = np.array([np.nan, 0.0, -0.0, 2.0, np.inf])
    out = np.empty_like(y)
    derivative_from_output(y, out, "relu")
    np.testing.assert_array_equal(out, [1.0, 0.0, 0.0, 1.0, 1.0])


def _inplace_outcome(lib, make, target: str, input_grad: bool) -> str:
    m = make(lib)
    x = lib.randn(4, 2, 3, requires_grad=input_grad)
    lstm = isinstance(m, lib.nn.LSTM)
    S = getattr(m, "proj_size", 0) or 4
    hx = [lib.randn(2, 2, S, requires_grad=True)] + ([lib.randn(2, 2, 4, requires_grad=True)] if lstm else [])
    out, final = m(x, tuple(hx) if lstm else hx[0])
    final = list(final) if lstm else [final]
    loss = out.sum() + sum(f.sum() for f in final)
    with lib.no_grad():
        if target == "input":
            x.add_(1.0)
        elif target.startswith("hx"):
            hx[int(target[2])].add_(1.0)
        else:
            getattr(m, target).add_(1.0)
    try:
        loss.backward()
    except RuntimeError as err:  # torch refuses some parameters with another in-place message (unbind views)
        assert lib is torch or "modified by an inplace operation" in str(err), err
        return "raises"
    return "ok"


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.RNN(3, 4, 2),
        lambda lib: lib.nn.GRU(3, 4, 2),
        lambda lib: lib.nn.LSTM(3, 4, 2, proj_size=2),
    ],
    ids=["rnn", "gru", "lstm-proj"],
)
@pytest.mark.parametrize("input_grad", [True, False])
def test_inplace_writes_before_backward_raise_where_torch_raises(make, input_grad: bool) -> None:
    """Version checks on what backward reads, as torch's generic recurrent path (its oneDNN LSTM also
    refuses changed biases, an artifact of its workspace: deeprnn's backward does not read them)."""
    import warnings

    names = [n for n, _ in make(deeprnn).named_parameters()]
    lstm = "weight_hr_l0" in names
    for target in ["input", "hx0"] + (["hx1"] if lstm else []) + names:
        if target == "input" and not input_grad:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = _inplace_outcome(torch, make, target, input_grad)
        assert _inplace_outcome(deeprnn, make, target, input_grad) == expected, target
