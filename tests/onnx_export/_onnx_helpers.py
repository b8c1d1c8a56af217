"""Shared by the export tests: export a deeprnn model to bytes and run the file in onnxruntime."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

import deeprnn
from oracle import assert_close


def export_bytes(model: Any, args: Any, **kwargs: Any) -> bytes:
    """The ONNX file deeprnn.onnx.export writes for ``model`` on ``args``."""
    buf = io.BytesIO()
    deeprnn.onnx.export(model, args, buf, **kwargs)
    return buf.getvalue()


def session(data: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 2  # warnings (such as an output shape that contradicts the declared one) show
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def run(data: bytes, feeds: dict[str, Any]) -> list[np.ndarray]:
    """The outputs of the file run in onnxruntime on ``feeds`` (name -> tensor or array)."""
    arrays = {k: (v.detach().numpy() if isinstance(v, deeprnn.Tensor) else np.asarray(v)) for k, v in feeds.items()}
    return session(data).run(None, arrays)


def flat(result: Any) -> list[Any]:
    """The tensors of a forward's result, flattened in order (as the exporter lists the outputs)."""
    if isinstance(result, deeprnn.Tensor):
        return [result]
    return [t for r in result for t in flat(r)]


def assert_runs_like(data: bytes, model: Any, feeds: dict[str, Any], args: tuple, what: str) -> None:
    """onnxruntime's outputs equal deeprnn's forward on the same inputs (in eval mode, which export writes by
    default), at float32's tolerance."""
    model.eval()
    with deeprnn.no_grad():
        expected = flat(model(*args))
    got = run(data, feeds)
    assert len(got) == len(expected), what
    for i, (g, e) in enumerate(zip(got, expected)):
        assert_close(g, e, np.float32, f"{what}: output {i}")


def graph_ops(data: bytes) -> list[str]:
    return [n.op_type for n in onnx.load_from_string(data).graph.node]
