"""The seeds' worked examples reproduce the shapes the seeds state, with their literal numbers."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn.explain import EXAMPLES, explain
from deeprnn.explain.examples import SEED_001_INPUT

STATED = {  # written out from the seeds' text, not from our own output
    "two-layer": {"output": (4, 2, 5), "h_n": (2, 2, 5)},
    "two-layer-batch-first": {"output": (2, 4, 5), "h_n": (2, 2, 5)},
    "chapter4": {"output": (4, 5, 2), "h_n": (1, 5, 2)},
    "single-feature": {"output": (3, 1), "h_n": (1, 1)},
}


@pytest.mark.parametrize("name", sorted(STATED))
def test_example_reproduces_the_seed_shapes(name):
    rep = explain(name, backward=True, color=False)
    assert rep.ok
    run_out = rep.problem.model(__import__("deeprnn").tensor(rep.problem.input))[0]
    assert tuple(run_out.shape) == STATED[name]["output"]
    for key, shape in STATED[name].items():
        assert EXAMPLES[name].seed_shapes[key] == shape
    assert "DIFFERENT" not in rep.text and "same" in rep.text


def test_seed001_uses_the_literal_input_and_zero_h0():
    tm = explain("two-layer", color=False).problem
    bf = explain("two-layer-batch-first", color=False).problem
    assert tm.input[1, 0].tolist() == [0.7, 0.8, 0.9] and tm.input[3, 1].tolist() == [2.2, 2.3, 2.4]
    assert np.array_equal(bf.input, SEED_001_INPUT.transpose(1, 0, 2))
    assert not tm.h0.any() and tm.h0.shape == (2, 2, 5)


def test_seed001_output_last_equals_hn_of_last_layer_not_first():
    """The seed's illustrative numbers show output[-1] == hn[0]; the real network gives hn[1]."""
    rep = explain("two-layer", color=False)
    import deeprnn as dr

    out, hn = rep.problem.model(dr.tensor(rep.problem.input), dr.tensor(rep.problem.h0))
    assert np.allclose(out.detach().numpy()[-1], hn.detach().numpy()[1], atol=1e-12)
    assert not np.allclose(out.detach().numpy()[-1], hn.detach().numpy()[0])
    rel = {r.where: r.diff for r in rep.relations}
    assert rel["output[-1]"] < 1e-12


def test_chapter1_keeps_the_seed_weights():
    rep = explain("single-feature", color=False)
    m = rep.problem.model
    assert m.weight_ih_l0.detach().numpy().item() == 0.1 and m.weight_hh_l0.detach().numpy().item() == 0.3
    assert m.bias_ih_l0.detach().numpy().item() == 0.2 and m.bias_hh_l0.detach().numpy().item() == 0.0
    s = rep.forward.steps[0]
    assert s.h.item() == pytest.approx(np.tanh(0.04 * 0.1 + 0.2 + 0.3 * s.h_prev.item()), abs=1e-15)
