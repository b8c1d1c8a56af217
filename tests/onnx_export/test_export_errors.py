"""What cannot be exported faithfully raises a clear error naming it, writes no file, and leaves deeprnn as it was."""

from __future__ import annotations

import sys

import pytest
from _onnx_helpers import export_bytes

import deeprnn as torch
import deeprnn.nn as nn
from deeprnn.nn.utils.rnn import PackedSequence
from deeprnn.onnx import OnnxExporterError, TrainingMode, UnsupportedOperatorError


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _export(fn, x=None, **kwargs):
    x = torch.randn(3, 4, 2) if x is None else x
    return export_bytes(Fn(fn), (x,), input_names=["x"], **kwargs)


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda x: x.cumsum(1), "Tensor.cumsum is not supported by deeprnn.onnx.export"),
        (lambda x: torch.where(x > 0, x, 0.0), "Tensor.__gt__ is not supported"),
        (lambda x: x.max(dim=1)[0], "Tensor.max is not supported"),
        (lambda x: torch.nn.functional.mse_loss(x, x * 2), "torch.nn.functional.mse_loss is not supported"),
        (lambda x: torch.tensor(x.numpy()), "Tensor.numpy is not supported"),
        (lambda x: torch.FloatTensor([x[0], x[1]]), "FloatTensor(...) of data computed from the inputs"),
        (lambda x: torch.Tensor(x), "Tensor(tensor) (a legacy constructor) is not supported"),
        (lambda x: x + x.sum().item(), "Tensor.item is not supported"),
        (lambda x: x.add_(1), "Tensor.add_ is not supported"),
        (lambda x: torch.relu(x).relu_(), "Tensor.relu_ is not supported"),
        (lambda x: torch.nn.functional.relu(x, inplace=True), "relu(inplace=True) is not supported"),
        (lambda x: x[x > 0], "Tensor.__gt__ is not supported"),
        (lambda x: torch.nn.functional.dropout(x, 0.5), "dropout in training mode (p=0.5) is not supported"),
    ],
    ids=[
        "cumsum",
        "where",
        "max",
        "loss",
        "numpy",
        "legacy_type",
        "legacy_init",
        "item",
        "add_",
        "relu_",
        "relu_inplace",
        "mask",
        "F.dropout",
    ],
)
def test_unsupported_operations_are_named(fn, message, tmp_path):
    path = tmp_path / "m.onnx"
    with pytest.raises(UnsupportedOperatorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        torch.onnx.export(Fn(fn), (torch.randn(3, 4, 2),), path)
    assert not path.exists()
    assert not torch.onnx.is_in_onnx_export()
    assert torch.Tensor.add.__module__ == "deeprnn.autograd.tensor_methods"  # the wrappers are gone
    assert nn.Module.__call__.__module__ == "deeprnn.nn.module"


@pytest.mark.parametrize(
    "fn, message",
    [
        pytest.param(
            lambda x: x.add(2, x),
            r"the legacy form add\(Number, Tensor\) is not supported",
            marks=pytest.mark.filterwarnings("ignore:This overload of add is deprecated"),
        ),
        (lambda x: x.clamp(x * 0, x * 0 + 1), "clamp\\(\\) with tensor bounds is not supported"),
        (lambda x: torch.full((2,), x[0, 0, 0]), "full\\(\\) with a fill value computed from the inputs"),
        (lambda x: torch.full_like(x, x[0, 0, 0]), "full_like\\(\\) with a fill value computed from the inputs"),
        (lambda x: x.view(torch.int32), r"Tensor.view\(dtype\) is not supported"),
        (lambda x: x[x[0, 0] > 0], "Tensor.__gt__ is not supported"),
        (lambda x: x[torch.tensor([True, False, True])], "indexing with Tensor .* is not supported"),
        (lambda x: x[torch.tensor([0, 1]), torch.tensor([1, 0])], "indexing with more than one list or tensor"),
        (lambda x: x[:, : (x[0, 0, 0] * 0 + 2).long()], "a slice bound computed from the inputs is not supported"),
        (lambda x: x.unflatten(1, (2, 2)), "unflatten\\(\\) of the dynamic axis 'seq' is not supported"),
    ],
    ids=["legacy_add", "clamp", "full", "full_like", "view_dtype", "mask", "bool", "two_tensors", "bound", "unflatten"],
)
def test_unsupported_forms_of_supported_operations(fn, message):
    with pytest.raises(UnsupportedOperatorError, match=message):
        _export(fn, dynamic_axes={"x": {1: "seq"}})


def test_reshape_to_a_zero_size_is_refused():
    with pytest.raises(UnsupportedOperatorError, match="reshape/view to a size of 0 is not supported"):
        _export(lambda x: x.reshape(0, 2), torch.randn(3, 0, 2))


def test_lstm_with_projection_is_refused():
    m = nn.LSTM(2, 4, proj_size=3)
    with pytest.raises(UnsupportedOperatorError, match="LSTM with proj_size > 0 is not supported.*no projection"):
        export_bytes(m, (torch.randn(5, 1, 2),))


def test_packed_sequence_is_refused():
    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(2, 3)

        def forward(self, x):
            return self.gru(PackedSequence(x.view(-1, 2), torch.tensor([2, 2, 2, 2])))[1]

    with pytest.raises(UnsupportedOperatorError, match="GRU with a PackedSequence input is not supported"):
        export_bytes(Packed(), (torch.randn(4, 2, 2),))


def test_training_mode_dropout_is_refused_when_preserved():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1))
    with pytest.raises(UnsupportedOperatorError, match="Dropout in training mode"):
        export_bytes(m, (torch.randn(3, 2),), training=TrainingMode.PRESERVE)
    lstm = nn.LSTM(2, 2, num_layers=2, dropout=0.5)
    with pytest.raises(UnsupportedOperatorError, match="dropout=0.5 between layers in training mode"):
        export_bytes(lstm, (torch.randn(3, 1, 2),), training=TrainingMode.PRESERVE)
    assert m.training and lstm.training
    with pytest.raises(ValueError, match="TrainingMode.TRAINING is not supported"):
        export_bytes(m, (torch.randn(3, 2),), training=TrainingMode.TRAINING)


def test_a_dynamic_size_used_as_a_python_number_raises():
    def loop(x):
        return torch.stack([x[:, t] * 2 for t in range(x.size(1))], 1)

    with pytest.raises(OnnxExporterError, match=r"the size 4 of the dynamic axis 'seq' was used as a Python number"):
        _export(loop, dynamic_axes={"x": {1: "seq"}})
    _export(loop, dynamic_axes={"x": {0: "batch"}})  # a fixed length unrolls, as torch's tracer does
    with pytest.raises(OnnxExporterError, match=r"in a comparison"):
        _export(lambda x: x if x.size(0) > 1 else -x, dynamic_axes={"x": [0]})
    with pytest.raises(OnnxExporterError, match=r"numel\(\) of a tensor with a dynamic axis"):
        _export(lambda x: x * x.numel(), dynamic_axes={"x": [0]})


def test_squeezing_a_dynamic_axis_of_size_one_is_refused():
    with pytest.raises(UnsupportedOperatorError, match="squeeze\\(\\) of the dynamic axis 'batch'"):
        _export(lambda x: x.squeeze(), torch.randn(1, 4, 2), dynamic_axes={"x": {0: "batch"}})


def test_split_along_a_dynamic_axis_is_refused():
    with pytest.raises(UnsupportedOperatorError, match="split/chunk/unbind along the dynamic axis 'seq'"):
        _export(lambda x: x.chunk(2, dim=1)[0], dynamic_axes={"x": {1: "seq"}})


def test_a_function_bound_before_the_export_is_caught():
    from deeprnn import cat as bound_cat  # not the torch.cat attribute the exporter wraps

    with pytest.raises(UnsupportedOperatorError, match=r"computed a tensor with cat\(\) at .*test_export_errors.py"):
        _export(lambda x: bound_cat([x, x], 1))


def test_a_subclass_with_its_own_forward_is_traced_into():
    class MyLSTM(nn.LSTM):
        def forward(self, x, hx=None):
            return super().forward(x, hx)[0] * 2

    with pytest.raises(UnsupportedOperatorError, match=r"computed a tensor with forward\(\) at .*, which "):
        export_bytes(MyLSTM(2, 3), (torch.randn(4, 1, 2),))

    class Plain(nn.LSTM):  # keeps LSTM's forward: still one LSTM operator
        pass

    data = export_bytes(Plain(2, 3), (torch.randn(4, 1, 2),))
    assert "LSTM" in [n.op_type for n in __import__("onnx").load_from_string(data).graph.node]


def test_forward_hooks_on_a_leaf_are_refused():
    m = nn.Linear(2, 2)
    m.register_forward_hook(lambda mod, inp, out: out * 2)
    with pytest.raises(UnsupportedOperatorError, match="forward hooks on Linear"):
        export_bytes(m, (torch.randn(3, 2),))


def test_options_that_do_not_apply_are_refused():
    m, x = nn.Linear(2, 2), torch.randn(3, 2)
    with pytest.raises(ValueError, match="Unsupported ONNX opset version: 9"):
        export_bytes(m, (x,), opset_version=9)
    with pytest.raises(ValueError, match="dynamic_shapes is not supported"):
        export_bytes(m, (x,), dynamic_shapes={"input": {0: "batch"}})
    with pytest.raises(ValueError, match="export_params=False is not supported"):
        export_bytes(m, (x,), export_params=False)
    for option in ("custom_translation_table", "custom_opsets", "export_modules_as_functions"):
        with pytest.raises(ValueError, match=f"{option} is not supported"):
            export_bytes(m, (x,), **{option: {"x": 1}})
    with pytest.raises(ValueError, match="operator_export_type='ONNX_ATEN' is not supported"):
        export_bytes(m, (x,), operator_export_type="ONNX_ATEN")
    with pytest.raises(TypeError, match="export\\(\\) got an unexpected keyword argument 'dynamic_axis'"):
        export_bytes(m, (x,), dynamic_axis={"x": [0]})
    export_bytes(m, (x,), dynamo=False, do_constant_folding=False, optimize=True, verify=False)  # accepted
    with pytest.raises(TypeError, match="exports a deeprnn.nn.Module, got function"):
        torch.onnx.export(lambda x: x, (x,), None)
    with pytest.raises(ValueError, match="3 input_names were given, but the model has 1 inputs"):
        export_bytes(m, (x,), input_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        export_bytes(m, (x,), input_names=["x"], dynamic_axes={"x": [2]})
    with pytest.warns(UserWarning, match="Provided key y for dynamic axes is not a valid input/output name"):
        export_bytes(m, (x,), input_names=["x"], dynamic_axes={"y": [0]})


def test_missing_onnx_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx -> ImportError
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'deeprnn\[onnx\]'"):
        export_bytes(nn.Linear(2, 2), (torch.randn(3, 2),))


def test_an_export_inside_an_export_is_refused_not_deadlocked():
    inner = nn.Linear(2, 2)
    with pytest.raises(OnnxExporterError, match="called from a forward that is being exported"):
        _export(lambda x: torch.onnx.export(inner, (x,)) or x)
