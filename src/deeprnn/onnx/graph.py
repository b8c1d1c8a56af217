"""The ONNX graph under construction: nodes, initializers and unique names, built with ``onnx.helper``.

Values are referred to by name (str).  ``op`` appends a node and returns the names of its
outputs; ``initializer`` stores an array under a name; ``const`` stores small constants
once per value (shape vectors, scalars of an operation).  Nothing here knows about tensors
or modules: the recorders (record_*.py) translate deeprnn's operations into these calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

__all__ = ["Graph", "INT64_MAX", "elem_type"]

INT64_MAX = np.iinfo(np.int64).max
"""The ``ends`` of an open slice (ONNX Slice clamps it to the axis' length)."""


def elem_type(dtype: np.dtype) -> int:
    """The ONNX element type (TensorProto.FLOAT, ...) of a NumPy dtype."""
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


class Graph:
    """Nodes and initializers of one graph, for ONNX opset ``opset`` (default domain)."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._used: set[str] = set()
        self._counts: dict[str, int] = {}
        self._consts: dict[tuple, str] = {}

    # ---- names -----------------------------------------------------------------------
    def reserve(self, name: str) -> str:
        """Claim ``name`` (an input's or output's name given by the user)."""
        self._used.add(name)
        return name

    def used(self, name: str) -> bool:
        return name in self._used

    def fresh(self, hint: str) -> str:
        """A name not used yet: ``hint``, else ``hint_1``, ``hint_2``, ..."""
        n = self._counts.get(hint, 0)
        name = hint if n == 0 else f"{hint}_{n}"
        while name in self._used:
            n += 1
            name = f"{hint}_{n}"
        self._counts[hint] = n + 1
        self._used.add(name)
        return name

    # ---- constants -------------------------------------------------------------------
    def initializer(self, array: np.ndarray, name: str) -> str:
        """Store ``array`` (copied) as an initializer called ``name`` (made unique); returns the name."""
        name = self.fresh(name)
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def const(self, value: Any, dtype: Any) -> str:
        """A small constant (a scalar or a short vector), stored once per (dtype, shape, value)."""
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        name = self._consts.get(key)
        if name is None:
            name = self._consts[key] = self.initializer(arr, "const")
        return name

    def ints(self, values: Sequence[int]) -> str:
        """A 1-D int64 constant (axes, shapes, starts, ...)."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), np.int64)

    # ---- nodes -----------------------------------------------------------------------
    def op(self, op_type: str, inputs: Sequence[str], outputs: int = 1, **attrs: Any) -> Any:
        """Append an ``op_type`` node; returns its output name (a list of names if ``outputs`` > 1).

        An empty string among ``inputs`` is an optional input left out, as ONNX spells it.
        """
        names = [self.fresh(op_type) for _ in range(outputs)]
        node_name = f"/{op_type}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=node_name, **attrs))
        return names[0] if outputs == 1 else names

    def rename(self, old: str, new: str) -> None:
        """Make the node that produces ``old`` produce ``new`` instead, and its readers read ``new``."""
        for node in self.nodes:
            for i, name in enumerate(node.output):
                if name == old:
                    node.output[i] = new
            for i, name in enumerate(node.input):
                if name == old:
                    node.input[i] = new

    def prune(self, outputs: Sequence[str]) -> None:
        """Drop the nodes and initializers no output depends on (h_n of a layer the model does not return)."""
        needed, kept = set(outputs), []
        for node in reversed(self.nodes):
            if any(o in needed for o in node.output):
                kept.append(node)
                needed.update(i for i in node.input if i)
        self.nodes = kept[::-1]
        self.initializers = [t for t in self.initializers if t.name in needed]

    def produced(self, name: str) -> bool:
        """Whether a node of the graph outputs ``name``."""
        return any(name in node.output for node in self.nodes)
