"""The exporter's errors, with torch.onnx's class names: ``OnnxExporterError`` and ``UnsupportedOperatorError``."""

from __future__ import annotations

__all__ = ["OnnxExporterError", "UnsupportedOperatorError"]


class OnnxExporterError(RuntimeError):
    """An export that cannot produce a faithful graph (torch's ``torch.onnx.OnnxExporterError``)."""


class UnsupportedOperatorError(OnnxExporterError):
    """The model's forward used an operation, a module or a form of input that the exporter cannot express.

    The message names the operation and what to do instead; no file is written.
    """
