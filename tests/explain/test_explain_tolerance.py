"""The explainer's checks judge a difference against the rounding error of the sums behind it
(n * eps * max|reference|, floor 1e-10), so long sums pass and wrong numbers still fail;
and a network too large for the memory is refused before anything is allocated."""

from __future__ import annotations

import numpy as np
import pytest

import deeprnn.memory as memory
from deeprnn.explain import ExplainConfig, explain
from deeprnn.explain import api as explain_api
from deeprnn.explain.checks import FLOOR, tolerance
from deeprnn.explain.config import footprint


def test_tolerance_rule():
    ref = np.array([[3.0e4, -1.0], [2.0, 0.0]])
    assert tolerance(ref, 19_200) == pytest.approx(19_200 * np.finfo(np.float64).eps * 3.0e4)
    assert tolerance(np.array([0.5, -0.25]), 10) == FLOOR  # small sums keep the absolute 1e-10
    assert tolerance(np.zeros(0), 10**9) == FLOOR


def test_long_sums_are_not_a_false_mismatch():
    """T * N = 19,200 terms per bias-gradient entry of size ~1e3: rounding alone differs by about 1e-10
    there, which an absolute 1e-10 called a MISMATCH (and did, by 7.7e-10, at H = 1000, T = 500, N = 64)."""
    report = explain(ExplainConfig(8, 16, 1, seq_len=300, batch_size=64), backward=True, max_steps=1)
    assert report.ok
    for c in report.backward_checks:
        assert c.diff <= c.tol, c
        assert c.tol >= FLOOR
    bias = next(c for c in report.backward_checks if c.what == "dbias_ih_l0")
    assert bias.tol > 1e-9  # the scaled tolerance, well above the old absolute 1e-10


def test_a_wrong_gradient_still_fails(monkeypatch):
    real = explain_api.trace_backward

    def off_by_a_millionth(fwd, weights, loss):
        bt = real(fwd, weights, loss)
        g = bt.grads[0][2]  # db_ih of layer 0
        g += 1e-6 * np.abs(g).max()
        return bt

    monkeypatch.setattr(explain_api, "trace_backward", off_by_a_millionth)
    report = explain(ExplainConfig(8, 16, 1, seq_len=300, batch_size=64), backward=True, max_steps=1)
    assert not report.ok
    assert [c.what for c in report.backward_checks if not c.ok] == ["dbias_ih_l0"]


def test_a_network_too_large_is_refused_before_it_is_built(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 30)

    def never(*a, **k):
        raise AssertionError("the module was built")

    monkeypatch.setattr(explain_api, "make_problem", never)
    with pytest.raises(memory.MemoryLimitError, match=r"explaining 2 x 20000 units .* needs about .* GiB of memory"):
        explain(ExplainConfig(3, 20000))


def test_footprint_covers_what_explaining_uses():
    """The estimate is at least the memory that a run actually takes (tracemalloc counts NumPy's
    arrays), and not wildly more.  A first run of the same configuration warms the kernels up: the
    first call in a process also allocates the compiled loops and caches once (59 MB against 25 MB
    estimated when this test ran alone), and a smaller first run does not compile the split loops
    and projection that this one takes (30 MB against 25 MB)."""
    import tracemalloc

    cfg = ExplainConfig(40, 60, 2, bidirectional=True, seq_len=50, batch_size=16)
    explain(cfg, backward=True, max_steps=1)
    tracemalloc.start()
    try:
        explain(cfg, backward=True, max_steps=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = footprint(40, 60, 2, 2, 50, 16, backward=True)
    assert peak <= estimate <= 4 * peak, (peak, estimate)
