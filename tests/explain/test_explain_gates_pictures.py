"""The pictures for every kind, and the gradient-norm data that puts the tanh RNN, the LSTM and the GRU
side by side (the data function is tested, not the PNG bytes)."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn.explain import ExplainConfig, explain
from deeprnn.explain.pictures import GRAD_STEPS, gradient_norm_curves, kind_gradient_norm_curves
from deeprnn.explain.problem import make_problem


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_kind_curves_are_three_on_the_same_sizes(kind):
    p = make_problem(ExplainConfig(3, 5, 2, seq_len=4, batch_size=2, mode=kind))
    curves = kind_gradient_norm_curves(p, seed=0)
    assert sorted(curves) == ["gru", "lstm", "rnn"]
    for g in curves.values():
        assert g.shape == (GRAD_STEPS,) and np.isfinite(g).all() and (g > 0).all()
        # the loss is sum(output[-1]): dL/dh_T is all ones over N = 2 samples x H = 5 units
        assert g[-1] == pytest.approx(np.sqrt(2 * 5), rel=1e-12)
    # the tanh RNN's gradient vanishes going back in time; the gated paths keep far more of it
    rnn, lstm, gru = (curves[k][0] / curves[k][-1] for k in ("rnn", "lstm", "gru"))
    assert rnn < 1e-6
    assert lstm > 1e3 * rnn and gru > 1e3 * rnn
    # the same seed gives the same curves, another seed other ones
    again = kind_gradient_norm_curves(p, seed=0)
    assert all(np.array_equal(curves[k], again[k]) for k in curves)
    assert not np.array_equal(kind_gradient_norm_curves(p, seed=1)["lstm"], curves["lstm"])


def test_tanh_relu_panels_work_for_gated_problems():
    """For an LSTM or GRU the tanh/ReLU panels use an RNN of the same sizes."""
    curves = gradient_norm_curves(make_problem(ExplainConfig(3, 5, 1, mode="lstm")))
    assert sorted(curves) == [(0.5, "relu"), (0.5, "tanh"), (2.5, "relu"), (2.5, "tanh")]
    assert curves[0.5, "tanh"][0] < 1e-6 * curves[0.5, "tanh"][-1]


mpimg = pytest.importorskip("matplotlib.image")


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gate_pictures_are_written(kind, tmp_path):
    rep = explain(ExplainConfig(3, 4, 2, bidirectional=True, seq_len=6, mode=kind), pictures_dir=tmp_path, color=False)
    names = ["unrolled.png", "hidden_states.png"] + (["cell_states.png"] if kind == "lstm" else [])
    assert [p.name for p in rep.pictures] == names + ["gradient_norms.png"]
    for p in rep.pictures:
        img = mpimg.imread(p)
        assert img.ndim == 3 and img.shape[0] > 100 and float(np.var(img[..., :3])) > 1e-3
        assert p.stat().st_size < 250_000
