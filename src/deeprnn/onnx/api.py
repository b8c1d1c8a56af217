"""``export(model, args, f, ...)``: torch.onnx.export's signature, for models made of deeprnn's layers.

The model runs once on ``args`` in evaluation mode (``training=TrainingMode.EVAL``, as torch),
without gradients, while the exporter records it (patching.py); the graph is checked with
``onnx.checker`` (full check, with shape inference) and written atomically to ``f``.

Inputs are the tensors among ``args`` (nested tuples and lists included; a final dict is the
keyword arguments, as in torch), in order; outputs the tensors the forward returns, flattened
in order.  Their names are ``input_names`` / ``output_names``, else the forward's parameter
names (``x``, ``hx.0``, ...) and ``output_0``, ...  ``dynamic_axes`` marks the axes whose size
may change: ``{"x": {0: "batch", 1: "seq"}}`` or ``{"x": [0, 1]}`` (named ``x_dynamic_axes_1``, ...).

Thread safety: one export runs at a time (a lock).  While it runs, deeprnn's operations are
wrapped for every thread, but other threads only pay a check of the current thread and get
their usual results; a model must not be exported while another thread trains it.
"""

from __future__ import annotations

import enum
import inspect
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..fileio import atomic_write
from ..nn.module import Module
from .errors import OnnxExporterError, UnsupportedOperatorError

__all__ = ["export", "TrainingMode", "MIN_OPSET", "MAX_OPSET", "DEFAULT_OPSET"]

MIN_OPSET, MAX_OPSET, DEFAULT_OPSET = 13, 20, 20
"""The opsets written: 13 (Squeeze and Split take their axes as inputs) to 20 (torch's legacy exporter's
maximum and default)."""

_LOCK = threading.Lock()
_TORCH_OPTIONS = {  # the rest of torch.onnx.export's keyword arguments (torch 2.13)
    "dynamo",
    "external_data",
    "dynamic_shapes",
    "custom_translation_table",
    "report",
    "optimize",
    "verify",
    "profile",
    "dump_exported_program",
    "artifacts_dir",
    "export_params",
    "operator_export_type",
    "do_constant_folding",
    "custom_opsets",
    "export_modules_as_functions",
    "autograd_inlining",
}


class TrainingMode(enum.IntEnum):
    """torch.onnx.TrainingMode: EVAL exports in evaluation mode (the default), PRESERVE in the model's mode."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def _import_onnx() -> Any:
    try:
        import onnx
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            "deeprnn.onnx.export needs the onnx package: pip install 'deeprnn[onnx]' (or pip install onnx)"
        ) from err
    return onnx


def _check_options(opset_version: int | None, options: dict[str, Any]) -> int:
    """The opset; refuses the options that would change the graph in ways this exporter cannot follow."""
    for name in options:
        if name not in _TORCH_OPTIONS:
            raise TypeError(f"export() got an unexpected keyword argument '{name}'")
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if not isinstance(opset, int) or isinstance(opset, bool) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(
            f"Unsupported ONNX opset version: {opset_version!r} (deeprnn.onnx.export writes opsets "
            f"{MIN_OPSET} to {MAX_OPSET})"
        )
    refused = {
        "dynamic_shapes": "the dynamo exporter's; give dynamic_axes instead",
        "custom_translation_table": "custom operators are not supported",
        "custom_opsets": "custom operators are not supported",
        "export_modules_as_functions": "ONNX functions are not written",
    }
    for name, why in refused.items():
        if options.get(name):
            raise ValueError(f"deeprnn.onnx.export: {name} is not supported ({why})")
    if options.get("export_params") is False:
        raise ValueError("deeprnn.onnx.export: export_params=False is not supported (the weights are always written)")
    op_type = options.get("operator_export_type")
    if op_type is not None and getattr(op_type, "name", op_type) not in ("ONNX", 0):
        raise ValueError(f"deeprnn.onnx.export: operator_export_type={op_type!r} is not supported (only ONNX)")
    return opset


def _flat(obj: Any, name: str, out: list[tuple[str, Tensor]]) -> None:
    """The tensors in ``obj`` (nested tuples, lists, dict values), named after where they sit."""
    if isinstance(obj, Tensor):
        out.append((name, obj))
    elif isinstance(obj, (tuple, list)):
        for i, o in enumerate(obj):
            _flat(o, f"{name}.{i}", out)
    elif isinstance(obj, dict):
        for k, o in obj.items():
            _flat(o, f"{name}.{k}", out)


def _inputs(model: Module, args: tuple, kwargs: dict) -> list[tuple[str, Tensor]]:
    try:
        bound = inspect.signature(model.forward).bind(*args, **kwargs)
        items = list(bound.arguments.items())
    except (TypeError, ValueError):
        items = [(f"input_{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
    found: list[tuple[str, Tensor]] = []
    for name, value in items:
        _flat(value, name, found)
    return found


def _names(given: Sequence[str] | None, defaults: list[str], what: str) -> list[str]:
    given = list(given or [])
    if len(given) > len(defaults):
        raise ValueError(f"{len(given)} {what}_names were given, but the model has {len(defaults)} {what}s")
    names = given + defaults[len(given) :]
    if len(set(names)) != len(names):
        raise ValueError(f"the {what} names must be unique, got {names}")
    return names


def _axes(dynamic_axes: Mapping | None) -> dict[str, dict[int, str]]:
    """dynamic_axes as {name: {axis: dim name}} (torch's default names for a list of axes)."""
    out: dict[str, dict[int, str]] = {}
    for name, axes in (dynamic_axes or {}).items():
        if isinstance(axes, Mapping):
            out[str(name)] = {int(a): str(d) for a, d in axes.items()}
        else:
            out[str(name)] = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
    return out


def _labels(t: Tensor, name: str, axes: dict[int, str]) -> tuple:
    labels: list[Any] = [None] * t.ndim
    for a, dim_name in axes.items():
        if not -t.ndim <= a < t.ndim:
            raise ValueError(f"dynamic_axes of {name!r}: axis {a} is out of range for its {t.ndim} dimensions")
        labels[a % t.ndim] = dim_name
    return tuple(labels)


def _value_info(onnx: Any, name: str, t: Tensor, labels: tuple) -> Any:
    from .graph import elem_type

    dims = [n if lab is None else lab for n, lab in zip(t.shape, labels)]
    return onnx.helper.make_tensor_value_info(name, elem_type(t.dtype), dims)


def _write(data: bytes, f: Any) -> None:
    if isinstance(f, (str, os.PathLike)):
        atomic_write(f, lambda fh: fh.write(data))
    elif hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"f must be a path or a file-like object with write(), got {type(f).__name__}")


def export(
    model: Module,
    args: Any = (),
    f: Any = None,
    *,
    kwargs: dict[str, Any] | None = None,
    verbose: bool | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int | None = None,
    dynamic_axes: Mapping[str, Any] | None = None,
    training: TrainingMode = TrainingMode.EVAL,
    keep_initializers_as_inputs: bool = False,
    **options: Any,
) -> Any:
    """Export ``model`` run on ``args`` to the ONNX file ``f`` (a path or a binary file; None: write nothing).

    Returns the ``onnx.ModelProto`` (torch's legacy exporter returns None).  ``dynamo``,
    ``do_constant_folding``, ``external_data``, ``optimize``, ``verify``, ``report`` and the
    other options of torch's signature are accepted and have no effect, except those that
    ask for something this exporter does not do (``dynamic_shapes``, ``custom_opsets``,
    ``export_params=False``, ...), which raise ``ValueError``.  An operation that cannot be
    exported raises ``UnsupportedOperatorError`` and writes nothing.
    """
    if not isinstance(model, Module):
        raise TypeError(f"deeprnn.onnx.export exports a deeprnn.nn.Module, got {type(model).__name__}")
    opset = _check_options(opset_version, options)
    if training == TrainingMode.TRAINING:
        raise ValueError("deeprnn.onnx.export: training=TrainingMode.TRAINING is not supported (use EVAL)")
    onnx = _import_onnx()
    from .graph import Graph
    from .patching import patched
    from .trace import Trace, activate, current

    if current() is not None:
        raise OnnxExporterError("deeprnn.onnx.export was called from a forward that is being exported")

    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    if kwargs is None and args and isinstance(args[-1], dict):
        args, kwargs = args[:-1], args[-1]
    kwargs = dict(kwargs or {})
    inputs = _inputs(model, args, kwargs)
    in_names = _names(input_names, [n for n, _ in inputs], "input")
    graph = Graph(opset)
    for name in [*in_names, *(output_names or [])]:
        graph.reserve(name)
    consts = {id(t): n for n, t in [*model.named_parameters(), *model.named_buffers()] if t is not None}
    trace = Trace(graph, consts, {id(m): n for n, m in model.named_modules()})
    modes = [(m, m.training) for m in model.modules()]
    with _LOCK:
        try:
            if training == TrainingMode.EVAL:
                model.train(False)
            axes = _axes(dynamic_axes)
            with patched(), activate(trace), no_grad():
                for name, (_, t) in zip(in_names, inputs):
                    trace.bind(t, name, _labels(t, name, axes.get(name, {})))
                result = model(*args, **kwargs)
                outputs: list[tuple[str, Tensor]] = []
                _flat(result, "output", outputs)
                if not outputs:
                    raise UnsupportedOperatorError("the model's forward returned no tensor to export")
                out_names = _names(output_names, [f"output_{i}" for i in range(len(outputs))], "output")
                values = [(trace.name(t), trace.labels(t)) for _, t in outputs]
        finally:
            for m, mode in modes:
                m.training = mode
    for name in axes:
        if name not in in_names and name not in out_names:
            warnings.warn(
                f"Provided key {name} for dynamic axes is not a valid input/output name", UserWarning, stacklevel=2
            )
    given = len(output_names or [])
    out_names = [n if i < given or not graph.used(n) else graph.fresh(n) for i, n in enumerate(out_names)]
    graph_outputs, renamed = [], {}
    for out_name, (_, t), (value, labels) in zip(out_names, outputs, values):
        current = renamed.get(value, value)
        if graph.produced(current) and current == value and value not in in_names:
            graph.rename(value, out_name)
            renamed[value] = out_name
        else:
            graph.nodes.append(onnx.helper.make_node("Identity", [current], [out_name], name=f"/Identity_{out_name}"))
        labels = list(labels)
        for a, dim_name in axes.get(out_name, {}).items():
            labels[a % t.ndim] = dim_name
        graph_outputs.append(_value_info(onnx, out_name, t, tuple(labels)))
    graph.prune(out_names)
    graph_inputs = [_value_info(onnx, n, t, trace.labels(t)) for n, (_, t) in zip(in_names, inputs)]
    if keep_initializers_as_inputs:
        graph_inputs += [
            onnx.helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in graph.initializers
        ]
    g = onnx.helper.make_graph(graph.nodes, "main_graph", graph_inputs, graph_outputs, initializer=graph.initializers)
    opset_id = onnx.helper.make_opsetid("", opset)
    from .. import __version__

    proto = onnx.helper.make_model(g, opset_imports=[opset_id], producer_name="deeprnn", producer_version=__version__)
    proto.ir_version = onnx.helper.find_min_ir_version_for([opset_id])
    onnx.checker.check_model(proto, full_check=True)
    if verbose:
        print(onnx.printer.to_text(proto.graph))
    if f is not None:
        _write(proto.SerializeToString(), f)
    return proto
