"""torch.onnx.export's calling conventions: files and file objects, names, dynamic axes, opsets, modes, threads."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from _onnx_helpers import assert_runs_like, export_bytes, run

import deeprnn as torch
import deeprnn.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True, generator=torch.Generator(0))
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(4, 2, generator=torch.Generator(1)))
        self.seen_export = None

    def forward(self, x, hx=None):
        self.seen_export = torch.onnx.is_in_onnx_export()
        out, (h, c) = self.lstm(x, hx)
        return self.head(out), (h, c)


def _x(n=2, t=5):
    return torch.randn(n, t, 3, generator=torch.Generator(n * 10 + t))


def test_import_deeprnn_as_torch_exports_to_a_path_atomically(tmp_path):
    m, x = Net(), _x()
    path = tmp_path / "sub" / "net.onnx"
    proto = torch.onnx.export(m, (x,), str(path), input_names=["x"], output_names=["y", "h", "c"], dynamo=False)
    assert path.exists() and not list(path.parent.glob(".*.tmp"))
    loaded = onnx.load(path)
    assert loaded == proto
    onnx.checker.check_model(loaded, full_check=True)
    assert [i.name for i in loaded.graph.input] == ["x"]
    assert [o.name for o in loaded.graph.output] == ["y", "h", "c"]
    assert loaded.producer_name == "deeprnn" and loaded.opset_import[0].version == 20
    assert_runs_like(path.read_bytes(), m, {"x": x}, (x,), "from the file")


def test_file_object_and_no_file():
    m, x = Net(), _x()
    buf = io.BytesIO()
    proto = torch.onnx.export(m, x, buf)  # a single tensor as args
    assert buf.getvalue() == proto.SerializeToString()
    assert torch.onnx.export(m, (x,)).SerializeToString() == buf.getvalue()  # f=None writes nothing
    with pytest.raises(TypeError, match="f must be a path or a file-like object"):
        torch.onnx.export(m, (x,), 3)


def test_default_names_follow_the_forward_signature():
    m, x = Net(), _x()
    h0, c0 = torch.zeros(2, 2, 4), torch.ones(2, 2, 4)
    proto = onnx.load_from_string(export_bytes(m, (x, (h0, c0))))
    assert [i.name for i in proto.graph.input] == ["x", "hx.0", "hx.1"]
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1", "output_2"]
    data = export_bytes(m, (x, {"hx": (h0, c0)}))  # a final dict holds keyword arguments, as in torch
    assert_runs_like(data, m, {"x": x, "hx.0": h0, "hx.1": c0}, (x, (h0, c0)), "keyword hx")


def test_dynamic_axes_become_dim_params():
    m, x = Net(), _x()
    axes = {"x": {0: "batch", 1: "seq"}, "y": [0, 1]}
    proto = onnx.load_from_string(
        export_bytes(m, (x,), input_names=["x"], output_names=["y", "h", "c"], dynamic_axes=axes)
    )

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    assert dims(proto.graph.input[0]) == ["batch", "seq", 3]
    assert dims(proto.graph.output[0]) == ["y_dynamic_axes_1", "y_dynamic_axes_2", 2]
    assert dims(proto.graph.output[1]) == [2, "batch", 4]  # h_n follows the input's batch axis


@pytest.mark.parametrize("opset", range(13, 21))
def test_every_opset(opset):
    m, x = Net(), _x()
    data = export_bytes(m, (x,), input_names=["x"], opset_version=opset, dynamic_axes={"x": [0, 1]})
    assert onnx.load_from_string(data).opset_import[0].version == opset
    assert_runs_like(data, m, {"x": _x(3, 4)}, (_x(3, 4),), f"opset {opset}")


def test_eval_mode_during_export_and_the_modes_restored():
    m, x = Net(), _x()
    m.train()
    m.head[0].train(False)
    data = export_bytes(m, (x,), input_names=["x"])
    assert m.seen_export is True and not torch.onnx.is_in_onnx_export()
    assert m.training and m.lstm.training and not m.head[0].training
    m.eval()
    np.testing.assert_array_equal(run(data, {"x": x})[0], run(data, {"x": x})[0])  # no dropout in the file
    assert_runs_like(data, m, {"x": x}, (x,), "eval")


def test_keep_initializers_as_inputs_and_verbose(capsys):
    m, x = Net(), _x()
    proto = onnx.load_from_string(
        export_bytes(m, (x,), input_names=["x"], keep_initializers_as_inputs=True, verbose=True)
    )
    names = {i.name for i in proto.graph.input}
    assert {"x", "lstm.l0.W", "head.1.weight", "head.1.bias"} <= names
    assert "main_graph" in capsys.readouterr().out


def test_an_output_that_is_an_input_or_repeated():
    class Echo(nn.Module):
        def forward(self, x):
            y = x * 2
            return x, y, y

    x = _x()
    data = export_bytes(Echo(), (x,), input_names=["x"], output_names=["a", "b", "c"])
    a, b, c = run(data, {"x": x})
    np.testing.assert_array_equal(a, x.numpy())
    np.testing.assert_array_equal(b, c)


def test_other_threads_run_unchanged_during_an_export():
    results = {}

    def other():
        a = torch.ones(2, 3)
        results["cat"] = torch.cat([a, a + 1]).sum().item()

    class Spawning(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            t = threading.Thread(target=other)
            t.start()
            t.join()
            return self.fc(x)

    data = export_bytes(Spawning(), (_x(),))
    assert results["cat"] == 18.0  # 6 ones and 6 twos
    assert [n.op_type for n in onnx.load_from_string(data).graph.node] == ["Transpose", "MatMul", "Add"]


def test_the_readme_example_runs(tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"## Export to ONNX\n.*?```python\n(.*?)```", readme, flags=re.S).group(1)
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(code, "README", "exec"), ns)  # noqa: S102
    data = (tmp_path / "classifier.onnx").read_bytes()
    other = torch.randint(0, 100, (5, 3))
    assert_runs_like(data, ns["model"], {"tokens": other}, (other,), "README example, another batch and length")
