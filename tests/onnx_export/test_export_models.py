"""Composed models, exported by deeprnn and, with the same weights, by torch's own exporter
(torch.onnx.export(dynamo=False)): both files run in onnxruntime and agree, and agree with deeprnn."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import torch as real_torch
from _onnx_helpers import assert_runs_like, export_bytes, run

import deeprnn as torch
import deeprnn.nn as nn
from oracle import assert_close


def _torch_twin(model: nn.Module, twin: real_torch.nn.Module) -> real_torch.nn.Module:
    twin.load_state_dict({k: real_torch.tensor(v.detach().numpy()) for k, v in model.state_dict().items()})
    return twin.eval()


def _torch_export(twin: real_torch.nn.Module, args: tuple, **kwargs) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():  # its deprecation of dynamo=False, and its RNN batch-size notice
        warnings.simplefilter("ignore")
        real_torch.onnx.export(twin, args, buf, dynamo=False, opset_version=17, **kwargs)
    return buf.getvalue()


def _make_lm(lib):
    class LM(lib.nn.Module):
        """Embedding -> 2-layer LSTM -> Linear on the last step (a classifier over token sequences)."""

        def __init__(self):
            super().__init__()
            self.emb = lib.nn.Embedding(30, 8)
            self.lstm = lib.nn.LSTM(8, 16, num_layers=2, batch_first=True, dropout=0.3)
            self.drop = lib.nn.Dropout(0.5)
            self.fc = lib.nn.Linear(16, 5)

        def forward(self, tokens):
            out, (h, c) = self.lstm(self.emb(tokens))
            return self.fc(self.drop(out[:, -1, :]))

    return LM()


def _make_gru_classifier(lib):
    class Classifier(lib.nn.Module):
        """A bidirectional GRU whose last layer's two final states are concatenated, then a Linear."""

        def __init__(self):
            super().__init__()
            self.gru = lib.nn.GRU(4, 6, num_layers=2, bidirectional=True)
            self.fc = lib.nn.Linear(12, 3)

        def forward(self, x, h0):
            _, h_n = self.gru(x, h0)
            return lib.log_softmax(self.fc(lib.cat((h_n[-2], h_n[-1]), dim=1)), dim=1)

    return Classifier()


def _make_rnn_regressor(lib):
    class Regressor(lib.nn.Module):
        """A tanh RNN over (N, T, 1) whose every step goes through a Linear, carrying h_n out."""

        def __init__(self):
            super().__init__()
            self.rnn = lib.nn.RNN(1, 8, batch_first=True)
            self.out = lib.nn.Linear(8, 1)

        def forward(self, x, h):
            r_out, h = self.rnn(x, h)
            return self.out(r_out).squeeze(-1), h

    return Regressor()


def test_embedding_lstm_linear_agrees_with_torchs_export():
    torch.manual_seed(0)
    m = _make_lm(torch)
    twin = _torch_twin(m, _make_lm(real_torch))
    tokens = torch.randint(0, 30, (3, 7), generator=torch.Generator(1))
    axes = {"tokens": {0: "batch", 1: "seq"}, "logits": {0: "batch"}}
    ours = export_bytes(m, (tokens,), input_names=["tokens"], output_names=["logits"], dynamic_axes=axes)
    theirs = _torch_export(
        twin, (real_torch.tensor(tokens.numpy()),), input_names=["tokens"], output_names=["logits"], dynamic_axes=axes
    )
    for n, t in ((3, 7), (5, 2)):
        tok = torch.randint(0, 30, (n, t), generator=torch.Generator(n))
        assert_close(run(ours, {"tokens": tok})[0], run(theirs, {"tokens": tok})[0], np.float32, "ours vs torch's")
        assert_runs_like(ours, m, {"tokens": tok}, (tok,), "LM")


def test_gru_classifier_agrees_with_torchs_export():
    torch.manual_seed(1)
    m = _make_gru_classifier(torch)
    twin = _torch_twin(m, _make_gru_classifier(real_torch))
    x, h0 = torch.randn(6, 2, 4), torch.randn(4, 2, 6)
    axes = {"x": {0: "seq", 1: "batch"}, "h0": {1: "batch"}, "p": {0: "batch"}}
    names = {"input_names": ["x", "h0"], "output_names": ["p"], "dynamic_axes": axes}
    ours = export_bytes(m, (x, h0), **names)
    theirs = _torch_export(twin, (real_torch.tensor(x.numpy()), real_torch.tensor(h0.numpy())), **names)
    x2, h2 = torch.randn(3, 5, 4), torch.randn(4, 5, 6)
    for xx, hh in ((x, h0), (x2, h2)):
        feeds = {"x": xx, "h0": hh}
        assert_close(run(ours, feeds)[0], run(theirs, feeds)[0], np.float32, "ours vs torch's")
        assert_runs_like(ours, m, feeds, (xx, hh), "GRU classifier")


def test_rnn_regressor_agrees_with_torchs_export():
    torch.manual_seed(2)
    m = _make_rnn_regressor(torch)
    twin = _torch_twin(m, _make_rnn_regressor(real_torch))
    x, h = torch.randn(2, 9, 1), torch.randn(1, 2, 8)
    names = {"input_names": ["x", "h"], "output_names": ["y", "h_n"]}
    ours = export_bytes(m, (x, h), **names)
    theirs = _torch_export(twin, (real_torch.tensor(x.numpy()), real_torch.tensor(h.numpy())), **names)
    for a, b in zip(run(ours, {"x": x, "h": h}), run(theirs, {"x": x, "h": h})):
        assert_close(a, b, np.float32, "ours vs torch's")
    assert_runs_like(ours, m, {"x": x, "h": h}, (x, h), "regressor")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_bidirectional_batch_first_layer_agrees_with_torchs_export(kind):
    torch.manual_seed(3)
    m = getattr(nn, kind)(3, 4, num_layers=3, bidirectional=True, batch_first=True)
    twin = _torch_twin(m, getattr(real_torch.nn, kind)(3, 4, num_layers=3, bidirectional=True, batch_first=True))
    x = torch.randn(2, 5, 3)
    ours = export_bytes(m, (x,), input_names=["x"])
    theirs = _torch_export(twin, (real_torch.tensor(x.numpy()),), input_names=["x"])
    for a, b in zip(run(ours, {"x": x}), run(theirs, {"x": x})):
        assert_close(a, b, np.float32, f"{kind}: ours vs torch's")
