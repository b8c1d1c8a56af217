"""The step-by-step trace equals nn.RNN (and torch) for every kind of configuration, in float64."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from deeprnn.explain import ExplainConfig, explain
from deeprnn.explain.bptt import trace_backward
from deeprnn.explain.checks import backward_checks, forward_checks, relations, run_module
from deeprnn.explain.problem import make_problem
from deeprnn.explain.trace import trace_forward

TOL = 1e-10
CASES = list(itertools.product([1, 2, 3], [False, True], [False, True], [True, False], ["tanh", "relu"], [2, None]))


def _ids(case):
    layers, bi, bf, bias, act, n = case
    return (
        f"L{layers}-{'bi' if bi else 'uni'}-{'bf' if bf else 'tm'}-"
        f"{'bias' if bias else 'nobias'}-{act}-"
        f"{'N' + str(n) if n else 'unbatched'}"
    )


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_trace_matches_module_forward_and_backward(case):
    layers, bi, bf, bias, act, n = case
    cfg = ExplainConfig(
        3,
        4,
        layers,
        nonlinearity=act,
        bias=bias,
        batch_first=bf,
        bidirectional=bi,
        seq_len=5,
        batch_size=n,
    )
    p = make_problem(cfg, seed=sum(map(hash, map(str, case))) % 1000)
    x, h0 = p.to_kernel_layout()
    fwd = trace_forward(x, h0, p.weights(), act, layers, p.num_dirs)
    bt = trace_backward(fwd, p.weights(), "sum")
    run = run_module(p, "sum")
    # the module's shapes follow its own rules, and the trace agrees with every number
    D = 2 if bi else 1
    assert run.output.shape == ((5, 4 * D) if n is None else ((n, 5, 4 * D) if bf else (5, n, 4 * D)))
    for c in forward_checks(fwd, p, run) + backward_checks(bt, p, run):
        assert c.diff < TOL, c
    assert len(backward_checks(bt, p, run)) == layers * D * (4 if bias else 2) + 1
    for r in relations(fwd, p, run):
        assert r.diff < TOL, r


@pytest.mark.parametrize("loss", ["sum", "last"])
def test_explain_reports_both_losses_with_given_h0(loss):
    rng = np.random.default_rng(3)
    cfg = ExplainConfig(2, 3, 2, bidirectional=True, batch_first=True, seq_len=4, batch_size=3)
    rep = explain(cfg, backward=True, loss=loss, hx=rng.standard_normal((4, 3, 3)), color=False)
    assert rep.ok and rep.max_forward_diff < TOL and rep.max_backward_diff < TOL
    assert any(c.what == "d_h0" for c in rep.backward_checks)  # a given h0 gets its gradient checked too
    if loss == "last":  # only the last step feeds the loss: the top layer's earlier steps get nothing from above
        top = [s for s in rep.backward.steps if s.layer == 1 and s.direction == 0 and s.t < 4]
        assert all(not s.from_above.any() for s in top)


def test_trace_matches_torch_independently():
    """The trace against torch's nn.RNN itself, so the check does not rest on deeprnn alone."""
    torch = pytest.importorskip("torch")
    cfg = ExplainConfig(3, 4, 2, nonlinearity="relu", bidirectional=True, seq_len=6, batch_size=2)
    p = make_problem(cfg, seed=5)
    x, h0 = p.to_kernel_layout()
    fwd = trace_forward(x, h0, p.weights(), "relu", 2, 2)
    bt = trace_backward(fwd, p.weights(), "sum")
    ref = torch.nn.RNN(3, 4, 2, nonlinearity="relu", bidirectional=True, dtype=torch.float64)
    ref.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in p.model.named_parameters()})
    xt = torch.from_numpy(x.copy()).requires_grad_()
    out, hn = ref(xt, torch.from_numpy(h0.copy()))
    out.sum().backward()
    assert np.max(np.abs(out.detach().numpy() - fwd.output)) < TOL
    assert np.max(np.abs(hn.detach().numpy() - fwd.h_n)) < TOL
    assert np.max(np.abs(xt.grad.numpy() - bt.dx)) < TOL
    assert np.max(np.abs(ref.weight_hh_l0_reverse.grad.numpy() - bt.grads[1][1])) < TOL


def test_trace_is_not_the_kernel():
    """A wrong weight in the trace must show up as a difference (the check can fail)."""
    p = make_problem(ExplainConfig(3, 4, 2), seed=1)
    x, h0 = p.to_kernel_layout()
    w = p.weights()
    w[1] = (w[1][0] * 1.01, *w[1][1:])
    fwd = trace_forward(x, h0, w, "tanh", 2, 1)
    assert max(c.diff for c in forward_checks(fwd, p, run_module(p))) > 1e-6


def test_model_and_state_dict_inputs(tmp_path):
    import deeprnn as dr

    model = dr.nn.RNN(3, 4, 2, bidirectional=True, generator=dr.Generator(7))  # float32 on purpose
    rep = explain(model, seq_len=3, batch_size=None, color=False)
    assert rep.ok and rep.forward.output.shape == (3, 1, 8)
    path = tmp_path / "rnn.npz"
    np.savez(path, **{k: v.detach().numpy() for k, v in model.state_dict().items()})
    rep2 = explain(path, seq_len=3, batch_size=None, color=False)
    assert np.array_equal(rep2.forward.output, rep.forward.output)
    assert rep2.problem.model.bidirectional and rep2.problem.model.num_layers == 2
