"""``deeprnn.onnx``: ``export`` a model made of deeprnn's layers to an ONNX file, as ``torch.onnx.export``.

``import deeprnn as torch`` then ``torch.onnx.export(model, (x,), "model.onnx", input_names=["x"],
output_names=["y"], dynamic_axes={"x": {0: "batch"}})``.  The model's forward runs once on the
example inputs: deeprnn's layers (RNN, LSTM, GRU and their cells, Linear, Embedding, Dropout,
the activations, LayerNorm, BatchNorm, Flatten) become ONNX operators where they are called,
and the tensor operations that glue them are recorded as they run (trace.py, patching.py).
Anything else raises ``UnsupportedOperatorError`` naming it, rather than writing a wrong graph.
The ``onnx`` package (``pip install deeprnn[onnx]``) is needed only when ``export`` is called.
"""

from __future__ import annotations

from . import errors as errors
from .api import TrainingMode as TrainingMode
from .api import export as export
from .errors import OnnxExporterError as OnnxExporterError
from .errors import UnsupportedOperatorError as UnsupportedOperatorError
from .trace import is_in_onnx_export as is_in_onnx_export

__all__ = [
    "export",
    "is_in_onnx_export",
    "TrainingMode",
    "OnnxExporterError",
    "UnsupportedOperatorError",
    "errors",
]
