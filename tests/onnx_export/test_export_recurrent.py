"""nn.RNN / LSTM / GRU and their cells exported to ONNX give deeprnn's numbers in onnxruntime.

Every kind, uni- and bidirectional, batch_first or not, with and without initial states,
with 1 to 3 layers; each file is run on the example inputs and again on a different batch
size and sequence length (dynamic_axes).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _onnx_helpers import assert_runs_like, export_bytes, graph_ops

import deeprnn
import deeprnn.nn as nn

KINDS = {
    "rnn_tanh": lambda *a, **k: nn.RNN(*a, nonlinearity="tanh", **k),
    "rnn_relu": lambda *a, **k: nn.RNN(*a, nonlinearity="relu", **k),
    "lstm": nn.LSTM,
    "gru": nn.GRU,
}
CASES = [
    (kind, bidirectional, batch_first, given_h0, 1 + i % 3)
    for i, (kind, bidirectional, batch_first, given_h0) in enumerate(
        itertools.product(KINDS, (False, True), (False, True), (False, True))
    )
]
I, H = 3, 5


def _inputs(kind: str, L: int, D: int, batch_first: bool, given: bool, N: int, T: int, gen: deeprnn.Generator):
    x = deeprnn.randn(N, T, I, generator=gen) if batch_first else deeprnn.randn(T, N, I, generator=gen)
    if not given:
        return (x,), {"x": x}
    h0 = deeprnn.randn(L * D, N, H, generator=gen)
    if kind == "lstm":
        c0 = deeprnn.randn(L * D, N, H, generator=gen)
        return (x, (h0, c0)), {"x": x, "h0": h0, "c0": c0}
    return (x, h0), {"x": x, "h0": h0}


@pytest.mark.parametrize(
    "kind, bidirectional, batch_first, given_h0, layers",
    CASES,
    ids=[f"{k}-{'bi' if b else 'uni'}-{'bf' if f else 'tm'}-{'h0' if h else 'noh0'}-L{n}" for k, b, f, h, n in CASES],
)
def test_layers_match_deeprnn_in_onnxruntime(kind, bidirectional, batch_first, given_h0, layers):
    gen = deeprnn.Generator(7)
    m = KINDS[kind](I, H, num_layers=layers, batch_first=batch_first, bidirectional=bidirectional, generator=gen)
    D = 2 if bidirectional else 1
    args, feeds = _inputs(kind, layers, D, batch_first, given_h0, 4, 6, gen)
    n_ax, t_ax = (0, 1) if batch_first else (1, 0)
    axes = {"x": {n_ax: "batch", t_ax: "seq"}, "h0": {1: "batch"}, "c0": {1: "batch"}}
    outs = ["output", "h_n", "c_n"] if kind == "lstm" else ["output", "h_n"]
    axes.update({"output": {n_ax: "batch", t_ax: "seq"}, "h_n": {1: "batch"}, "c_n": {1: "batch"}})
    data = export_bytes(
        m,
        args,
        input_names=list(feeds),
        output_names=outs,
        dynamic_axes={k: v for k, v in axes.items() if k in feeds or k in outs},
    )
    assert graph_ops(data).count({"lstm": "LSTM", "gru": "GRU"}.get(kind, "RNN")) == layers
    assert_runs_like(data, m, feeds, args, "example input")
    args2, feeds2 = _inputs(kind, layers, D, batch_first, given_h0, 2, 9, gen)  # another batch and length
    assert_runs_like(data, m, feeds2, args2, "other batch and length")


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input(kind):
    gen = deeprnn.Generator(3)
    m = KINDS[kind](I, H, num_layers=2, bidirectional=True, generator=gen)
    x = deeprnn.randn(6, I, generator=gen)  # (L, H_in)
    data = export_bytes(m, (x,), input_names=["x"], dynamic_axes={"x": {0: "seq"}})
    assert_runs_like(data, m, {"x": x}, (x,), "unbatched")
    x2 = deeprnn.randn(3, I, generator=gen)
    assert_runs_like(data, m, {"x": x2}, (x2,), "unbatched, another length")


def test_no_bias():
    gen = deeprnn.Generator(4)
    m = nn.GRU(I, H, num_layers=2, bias=False, generator=gen)
    x = deeprnn.randn(5, 2, I, generator=gen)
    data = export_bytes(m, (x,), input_names=["x"])
    assert_runs_like(data, m, {"x": x}, (x,), "no bias")


def test_gate_order_is_torchs_reordering():
    """LSTM i f g o -> ONNX i o f c; GRU r z n -> ONNX z r h with linear_before_reset=1; B = [Wb, Rb]."""
    import onnx
    from onnx import numpy_helper

    gen = deeprnn.Generator(5)
    for cls, order in ((nn.LSTM, [0, 3, 1, 2]), (nn.GRU, [1, 0, 2])):
        m = cls(2, 3, generator=gen)
        x = deeprnn.randn(4, 1, 2, generator=gen)
        proto = onnx.load_from_string(export_bytes(m, (x,)))
        inits = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
        w = m.weight_ih_l0.detach().numpy()
        blocks = np.split(w, len(order))
        np.testing.assert_array_equal(inits["l0.W"][0], np.concatenate([blocks[i] for i in order]))
        b = [np.split(p.detach().numpy(), len(order)) for p in (m.bias_ih_l0, m.bias_hh_l0)]
        expected_b = np.concatenate([np.concatenate([bb[i] for i in order]) for bb in b])
        np.testing.assert_array_equal(inits["l0.B"][0], expected_b)
        node = next(n for n in proto.graph.node if n.op_type in ("LSTM", "GRU"))
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attrs["hidden_size"] == 3
        assert attrs.get("linear_before_reset", 0) == (1 if cls is nn.GRU else 0)


CELLS = {
    "rnn_tanh": lambda: nn.RNNCell(I, H, generator=deeprnn.Generator(1)),
    "rnn_relu": lambda: nn.RNNCell(I, H, nonlinearity="relu", generator=deeprnn.Generator(1)),
    "lstm": lambda: nn.LSTMCell(I, H, generator=deeprnn.Generator(1)),
    "gru": lambda: nn.GRUCell(I, H, generator=deeprnn.Generator(1)),
    "gru_no_bias": lambda: nn.GRUCell(I, H, bias=False, generator=deeprnn.Generator(1)),
}


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("given", [False, True], ids=["no-hx", "hx"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_cells(kind, given, batched):
    cell = CELLS[kind]()
    gen = deeprnn.Generator(2)
    shape = (4,) if batched else ()
    x = deeprnn.randn(*shape, I, generator=gen)
    args, feeds = (x,), {"x": x}
    if given:
        h = deeprnn.randn(*shape, H, generator=gen)
        hx = (h, deeprnn.randn(*shape, H, generator=gen)) if kind == "lstm" else h
        args = (x, hx)
        feeds = {"x": x, "h": h, "c": hx[1]} if kind == "lstm" else {"x": x, "h": h}
    axes = {k: {0: "batch"} for k in feeds} if batched else None
    data = export_bytes(cell, args, input_names=list(feeds), dynamic_axes=axes)
    assert_runs_like(data, cell, feeds, args, kind)
