"""The LSTM's and GRU's step-by-step trace (trace_gates.py, bptt_gates.py) against torch 2.13's
nn.LSTM / nn.GRU, float64 at the oracle's 1e-10: outputs, h_n, c_n and every gradient, for
1-2 layers, both directions, batch_first, bias, unbatched, both losses.

torch draws the weights; deeprnn's module only carries them into explain, and every
expected number comes from torch (the loss seed G is written out here, not taken from bptt.py).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import deeprnn as dr
from deeprnn.explain import ExplainConfig, explain
from deeprnn.explain.checks import forward_checks, run_module
from deeprnn.explain.problem import make_problem
from deeprnn.explain.trace_gates import trace_forward_gates

torch = pytest.importorskip("torch")
from oracle import assert_close  # noqa: E402

I, H, T, N = 3, 4, 5, 2
CASES = list(itertools.product(["lstm", "gru"], [1, 2], [False, True], [False, True], [True, False], [True, False]))


def _ids(case):
    kind, layers, bi, bf, bias, batched = case
    return (
        f"{kind}-L{layers}-{'bi' if bi else 'uni'}-{'bf' if bf else 'tm'}-{'bias' if bias else 'nobias'}-"
        f"{'batched' if batched else 'unbatched'}"
    )


def _to_module_layout(a: np.ndarray, batched: bool, bf: bool) -> np.ndarray:
    """(T, N, F) time-major -> the module's layout, written out here independently of checks.py."""
    if not batched:
        return a[:, 0, :]
    return a.transpose(1, 0, 2) if bf else a


def _states(a: np.ndarray, batched: bool) -> np.ndarray:
    return a if batched else a[:, 0, :]


def _torch_reference(kind, layers, bi, bf, bias, batched, loss, x, h0, c0):
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    ref = cls(I, H, layers, bias=bias, batch_first=bf, bidirectional=bi, dtype=torch.float64)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    ht = torch.from_numpy(h0.copy()).requires_grad_()
    ct = torch.from_numpy(c0.copy()).requires_grad_() if kind == "lstm" else None
    out, states = ref(xt, (ht, ct) if kind == "lstm" else ht)
    G = torch.zeros_like(out)  # dL/d(output): ones (sum) or ones at the last time step (last)
    if loss == "sum":
        G[...] = 1.0
    elif not batched:
        G[-1] = 1.0
    elif bf:
        G[:, -1] = 1.0
    else:
        G[-1] = 1.0
    (out * G).sum().backward()
    return ref, xt, ht, ct, out, states


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_gate_trace_matches_torch_forward_and_backward(case):
    kind, layers, bi, bf, bias, batched = case
    loss = ("sum", "last")[CASES.index(case) % 2]
    D = 2 if bi else 1
    rng = np.random.default_rng(CASES.index(case))
    shape = ((N, T, I) if bf else (T, N, I)) if batched else (T, I)
    x = rng.standard_normal(shape)
    hshape = (D * layers, N, H) if batched else (D * layers, H)
    h0, c0 = rng.standard_normal(hshape), rng.standard_normal(hshape)
    ref, xt, ht, ct, out, states = _torch_reference(kind, layers, bi, bf, bias, batched, loss, x, h0, c0)

    mod_cls = dr.nn.LSTM if kind == "lstm" else dr.nn.GRU
    model = mod_cls(I, H, layers, bias=bias, batch_first=bf, bidirectional=bi, dtype=np.float64)
    model.load_state_dict({k: dr.tensor(v.detach().numpy().copy()) for k, v in ref.state_dict().items()})
    hx = (h0, c0) if kind == "lstm" else h0
    rep = explain(model, input=x, hx=hx, backward=True, loss=loss, color=False)
    assert rep.ok, [c for c in rep.forward_checks + rep.backward_checks if not c.ok]
    fwd, bt = rep.forward, rep.backward

    assert_close(_to_module_layout(fwd.output, batched, bf), out, what="output")
    h_n = states[0] if kind == "lstm" else states
    assert_close(_states(fwd.h_n, batched), h_n, what="h_n")
    if kind == "lstm":
        assert_close(_states(fwd.c_n, batched), states[1], what="c_n")
    names = [n for n, _ in ref.named_parameters()]
    per = 4 if bias else 2
    for k, grads in enumerate(bt.grads):
        for name, g in zip(names[k * per : (k + 1) * per], grads):
            assert_close(g, getattr(ref, name).grad, what=f"d{name}")
    assert_close(_to_module_layout(bt.dx, batched, bf), xt.grad, what="d_input")
    assert_close(_states(bt.dh0, batched), ht.grad, what="d_h0")
    if kind == "lstm":
        assert_close(_states(bt.dc0, batched), ct.grad, what="d_c0")
    # the report checks every gradient it computes, and with h0 (and c0) given, their gradients too
    expected = layers * D * per + 2 + (1 if kind == "lstm" else 0)
    assert len(rep.backward_checks) == expected


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gate_trace_without_h0_matches_torch(kind):
    """No h0 (and c0): the module's zeros, as torch's default."""
    cfg = ExplainConfig(I, H, 2, bidirectional=True, seq_len=T, batch_size=N, mode=kind)
    rep = explain(cfg, backward=True, color=False, seed=4)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    ref = cls(I, H, 2, bidirectional=True, dtype=torch.float64)
    ref.load_state_dict(
        {k: torch.from_numpy(v.detach().numpy().copy()) for k, v in rep.problem.model.named_parameters()}
    )
    xt = torch.from_numpy(rep.problem.input.copy()).requires_grad_()
    out, states = ref(xt)
    out.sum().backward()
    assert_close(rep.forward.output, out, what="output")
    assert_close(rep.backward.dx, xt.grad, what="d_input")
    assert_close(rep.backward.grads[3][1], ref.weight_hh_l1_reverse.grad, what="dweight_hh_l1_reverse")
    assert not any(c.what in ("d_h0", "d_c0") for c in rep.backward_checks)
    assert rep.ok


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gate_trace_is_not_the_kernel(kind):
    """A wrong gate block in the trace shows up as a difference: the check can fail."""
    p = make_problem(ExplainConfig(I, H, 1, mode=kind), seed=2)
    x, h0 = p.to_kernel_layout()
    w = p.weights()
    w_ih = w[0][0].copy()
    w_ih[H : 2 * H] *= 1.01  # the forget gate's (LSTM) or update gate's (GRU) block only
    fwd = trace_forward_gates(kind, x, h0, p.c0_kernel_layout(), [(w_ih, *w[0][1:])], 1, 1)
    assert max(c.diff for c in forward_checks(fwd, p, run_module(p))) > 1e-6


def test_gru_reset_gate_scales_the_recurrent_candidate_term():
    """n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): b_hn inside r's product, checked by hand on one step."""
    p = make_problem(ExplainConfig(2, 3, 1, seq_len=1, batch_size=1, mode="gru"), seed=5, hx=np.ones((1, 1, 3)))
    x, h0 = p.to_kernel_layout()
    w_ih, w_hh, b_ih, b_hh = p.weights()[0]
    fwd = trace_forward_gates("gru", x, h0, None, p.weights(), 1, 1)
    s = fwd.steps[0]
    xv, hv = x[0, 0], h0[0, 0]
    r = 1 / (1 + np.exp(-(w_ih[0:3] @ xv + b_ih[0:3] + w_hh[0:3] @ hv + b_hh[0:3])))
    z = 1 / (1 + np.exp(-(w_ih[3:6] @ xv + b_ih[3:6] + w_hh[3:6] @ hv + b_hh[3:6])))
    n = np.tanh(w_ih[6:9] @ xv + b_ih[6:9] + r * (w_hh[6:9] @ hv + b_hh[6:9]))
    assert np.allclose(s.gates["r"][0], r, atol=1e-14) and np.allclose(s.gates["n"][0], n, atol=1e-14)
    assert np.allclose(s.h[0], (1 - z) * n + z * hv, atol=1e-14)
