"""LSTM and GRU inputs: configurations fail with the module's own errors, saved state_dicts are
explained as the kind their shapes say, and what cannot be explained is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

import deeprnn as dr
from deeprnn.explain import EXAMPLES, ExplainConfig, explain, load_model
from deeprnn.explain.config import footprint

BAD = [
    ("lstm", dict(input_size=0)),
    ("gru", dict(hidden_size=-1)),
    ("lstm", dict(num_layers=0)),
    ("gru", dict(input_size=2.5)),
    ("lstm", dict(nonlinearity="relu")),
    ("gru", dict(nonlinearity="relu")),
]


@pytest.mark.parametrize("kind, bad", BAD, ids=[f"{k}-{next(iter(b))}={next(iter(b.values()))!r}" for k, b in BAD])
def test_bad_gate_config_raises_the_module_error(kind, bad):
    args = dict(input_size=3, hidden_size=4, num_layers=1) | bad
    extra = {"nonlinearity": args.pop("nonlinearity")} if "nonlinearity" in args else {}
    cls = dr.nn.LSTM if kind == "lstm" else dr.nn.GRU
    with pytest.raises(Exception) as from_module:
        cls(args["input_size"], args["hidden_size"], args["num_layers"], **extra)
    with pytest.raises(type(from_module.value)) as from_explain:
        explain(ExplainConfig(**args, **extra, mode=kind))
    assert str(from_explain.value) == str(from_module.value)


def test_unknown_mode_names_the_expected_ones():
    with pytest.raises(ValueError, match="mode must be one of rnn, lstm, gru, got 'cnn'"):
        explain(ExplainConfig(mode="cnn"))


def test_bad_lstm_states():
    with pytest.raises(ValueError, match=r"an LSTM's hx is the pair \(h0, c0\), got ndarray"):
        explain(ExplainConfig(3, 4, 1, mode="lstm"), hx=np.zeros((1, 2, 4)))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 2, 4\), got \[1, 2, 5\]"):
        explain(ExplainConfig(3, 4, 1, mode="lstm"), hx=(np.zeros((1, 2, 4)), np.zeros((1, 2, 5))))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 2"):
        explain(ExplainConfig(3, 4, 1, mode="gru"), input=np.zeros((4, 2, 2)))


def test_projected_lstm_is_refused(tmp_path):
    model = dr.nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="expected proj_size=0, got proj_size=2"):
        explain(model)
    path = tmp_path / "proj.npz"
    np.savez(path, **{k: v.detach().numpy() for k, v in model.state_dict().items()})
    with pytest.raises(ValueError, match="expected proj_size=0, got proj_size=2"):
        explain(path)


def _save(tmp_path, model, name):
    path = tmp_path / name
    np.savez(path, **{k: v.detach().numpy() for k, v in model.state_dict().items()})
    return path


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_saved_state_dict_is_explained_as_its_kind(kind, tmp_path):
    cls = dr.nn.LSTM if kind == "lstm" else dr.nn.GRU
    model = cls(3, 4, 2, bidirectional=True, generator=dr.Generator(7))  # float32 on purpose
    path = _save(tmp_path, model, f"{kind}.npz")
    loaded = load_model(path)
    assert type(loaded) is cls and loaded.num_layers == 2 and loaded.bidirectional and loaded.hidden_size == 4
    rep = explain(path, seq_len=3, batch_size=None, backward=True, color=False)
    assert rep.ok and rep.problem.kind == kind
    assert ("Explaining an LSTM" if kind == "lstm" else "Explaining a GRU") in rep.text
    direct = explain(model, seq_len=3, batch_size=None, color=False)
    assert np.array_equal(rep.forward.output, direct.forward.output)
    # the weights are the saved ones, to float64
    w = model.weight_hh_l1_reverse.detach().numpy().astype(np.float64)
    assert np.array_equal(rep.problem.model.weight_hh_l1_reverse.detach().numpy(), w)


def test_state_dict_kind_must_fit_the_given_mode(tmp_path):
    path = _save(tmp_path, dr.nn.LSTM(3, 4), "lstm.npz")
    with pytest.raises(ValueError) as e:
        load_model(path, mode="gru")
    msg = str(e.value)
    assert "\n" not in msg and "3*hidden_size = 12 rows" in msg and "got 16 (nn.LSTM)" in msg
    assert type(load_model(path, mode="lstm")) is dr.nn.LSTM


def test_state_dict_that_fits_no_kind(tmp_path):
    sd = {k: v.detach().numpy() for k, v in dr.nn.GRU(3, 4).state_dict().items()}
    sd["weight_hh_l0"] = np.zeros((10, 4), dtype=np.float32)
    path = tmp_path / "odd.npz"
    np.savez(path, **sd)
    with pytest.raises(
        ValueError, match=r"G = 1 \(nn.RNN\), 3 \(nn.GRU\) or 4 \(nn.LSTM\), got 10 rows for hidden_size 4"
    ):
        load_model(path)
    sd["weight_hh_l0"] = np.zeros((12, 4), dtype=np.float32)
    sd["bias_ih_l0"] = np.zeros(16, dtype=np.float32)
    np.savez(path, **sd)
    with pytest.raises(ValueError, match=r"bias_ih_l0 \(16,\) \(expected \(12,\)\)"):
        load_model(path)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gate_examples_keep_the_seed_shapes_and_data(kind):
    rep = explain(f"two-layer-{kind}", backward=True, color=False)
    assert rep.ok and rep.problem.kind == kind and EXAMPLES[f"two-layer-{kind}"].config.mode == kind
    assert rep.problem.input[3, 1].tolist() == [2.2, 2.3, 2.4]
    assert rep.forward.output.shape == (4, 2, 5) and rep.forward.h_n.shape == (2, 2, 5)
    assert "DIFFERENT" not in rep.text
    rel = {r.where: r.diff for r in rep.relations}
    assert rel["output[-1]"] < 1e-12  # output[-1] is h_n[1], the last layer's


@pytest.mark.parametrize("kind, gates", [("lstm", 4), ("gru", 3)])
@pytest.mark.parametrize("backward", [False, True])
def test_footprint_covers_what_explaining_a_gated_network_uses(kind, gates, backward):
    """As for the RNN (test_explain_tolerance.py): the estimate is at least what a run takes
    (tracemalloc counts NumPy's arrays), and not wildly more; a first run warms the kernels up."""
    import tracemalloc

    cfg = ExplainConfig(20, 60, 2, bidirectional=True, seq_len=40, batch_size=8, mode=kind)
    explain(ExplainConfig(2, 3, 1, mode=kind), backward=backward, max_steps=1)
    tracemalloc.start()
    try:
        explain(cfg, backward=backward, max_steps=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = footprint(20, 60, 2, 2, 40, 8, backward=backward, gates=gates)
    assert peak <= estimate <= 4 * peak, (peak, estimate)
