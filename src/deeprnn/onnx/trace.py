"""The state of one export: which tensors are graph values, and the symbolic sizes of dynamic axes.

While ``export`` runs the model's forward, every tensor that depends on the graph's inputs is
*dynamic*: it is bound here to the name of the ONNX value that computes it, with one label
per dimension (None for a fixed size, a string such as "batch" for a size that may change,
from ``dynamic_axes``).  Every other tensor a recorded operation reads is a *constant*: the
model's parameters and buffers (stored under their state_dict names) and tensors made from
constants (stored under a fresh name), snapshotted at the version they have when read.

A size of a dynamic axis read in the forward (``x.size(0)``, ``x.shape[1]``) is a ``TracedDim``:
it computes with ``+ - * //`` and goes into view/reshape/expand/zeros/... as a graph value,
so ``torch.zeros(1, x.size(0), H)`` follows the batch size.  Used as a Python number
(``range(x.size(1))``, a comparison, NumPy), it raises: the graph would freeze that size.

One export runs at a time (a lock in api.py); the operations are patched for every thread,
but only the exporting thread, and only at depth 0 (in the model's own code, not inside an
operation being recorded), records anything.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.tensor import Tensor
from .errors import OnnxExporterError, UnsupportedOperatorError

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["Trace", "TracedDim", "active", "current", "is_in_onnx_export", "activate", "caller"]

Labels = tuple  # one entry per dimension: None (a fixed size) or a str (the name of a dynamic size)

_ACTIVE: Trace | None = None
_DEEPRNN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def current() -> Trace | None:
    """The export in progress in this thread, at any depth (None outside an export)."""
    t = _ACTIVE
    return t if t is not None and t.thread == threading.get_ident() else None


def active() -> Trace | None:
    """The export in progress in this thread if the caller is the model's own code (depth 0), else None."""
    t = _ACTIVE
    if t is None or t.depth or t.thread != threading.get_ident():
        return None
    return t


def is_in_onnx_export() -> bool:
    """True while ``deeprnn.onnx.export`` runs the model's forward in this thread (as torch's)."""
    return current() is not None


@contextmanager
def activate(trace: Trace) -> Iterator[Trace]:
    """Make ``trace`` the export in progress for the duration of the block."""
    global _ACTIVE
    _ACTIVE = trace
    try:
        yield trace
    finally:
        _ACTIVE = None


def caller() -> str:
    """'file:line in function' of the innermost frame outside deeprnn (the model's code)."""
    f = sys._getframe(2)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_DEEPRNN_DIR + os.sep):
        f = f.f_back
    if f is None:
        return "an unknown place"
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}"


def _deeprnn_function() -> str:
    """The outermost deeprnn function on the stack below the model's code (the operation called)."""
    f, name = sys._getframe(2), "an internal function"
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_DEEPRNN_DIR + os.sep):
        name = f.f_code.co_name
        wrapped = f.f_locals.get("fn") if name == "wrapper" else None  # a decorator's wrapper: name what it wraps
        if callable(wrapped):
            name = getattr(wrapped, "__name__", name)
        f = f.f_back
    return name


class _Entry:
    __slots__ = ("tensor", "name", "labels", "version")

    def __init__(self, tensor: Tensor, name: str, labels: Labels) -> None:
        self.tensor, self.name, self.labels, self.version = tensor, name, labels, tensor._version


class Trace:
    """The graph being built and the binding of deeprnn tensors to its values (see the module docstring)."""

    def __init__(self, graph: Graph, constant_names: dict[int, str], module_names: dict[int, str]) -> None:
        self.graph = graph
        self.thread = threading.get_ident()
        self.depth = 0
        self._values: dict[int, _Entry] = {}
        self._consts: dict[tuple[int, int], tuple[Tensor, str]] = {}
        self._untraced: dict[int, tuple[Tensor, str]] = {}
        self._names = constant_names  # id(parameter or buffer) -> its state_dict name
        self._modules = module_names  # id(module) -> its name in the model ("" for the model)
        self._shapes: dict[str, str] = {}
        self._dims: dict[tuple[str, int], str] = {}
        self._labels = 0

    # ---- depth -----------------------------------------------------------------------
    @contextmanager
    def inside(self) -> Iterator[None]:
        """Run an operation for real without recording what it does internally."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    # ---- tensors ---------------------------------------------------------------------
    def is_dynamic(self, t: Any) -> bool:
        e = self._values.get(id(t))
        return e is not None and e.tensor is t

    def involves(self, obj: Any) -> bool:
        """Whether ``obj`` (a tensor, a size, or lists, tuples and dicts of them) depends on the inputs.

        A tensor made by an operation the exporter did not see raises here, at its first use.
        """
        if isinstance(obj, Tensor):
            u = self._untraced.get(id(obj))
            if u is not None and u[0] is obj:
                raise UnsupportedOperatorError(u[1])
            return self.is_dynamic(obj)
        if isinstance(obj, TracedDim):
            return True
        if isinstance(obj, slice):
            return self.involves((obj.start, obj.stop, obj.step))
        if isinstance(obj, (list, tuple)):
            return any(self.involves(o) for o in obj)
        if isinstance(obj, dict):
            return any(self.involves(o) for o in obj.values())
        return False

    def bind(self, t: Tensor, name: str, labels: Labels) -> None:
        """Make ``t`` the graph value ``name`` (``labels``: one per dimension)."""
        assert len(labels) == t.ndim, (labels, t.shape)
        self._values[id(t)] = _Entry(t, name, tuple(labels))

    def name(self, t: Tensor) -> str:
        """The graph value of tensor ``t``: its bound value, or a constant holding its current values."""
        e = self._values.get(id(t))
        if e is not None and e.tensor is t:
            if t._version != e.version:
                raise UnsupportedOperatorError(
                    "a tensor of the graph was modified in place after it was computed (by an internal "
                    "operation the exporter does not see); use out-of-place operations in forward"
                )
            return e.name
        u = self._untraced.get(id(t))
        if u is not None and u[0] is t:
            raise UnsupportedOperatorError(u[1])
        key = (id(t), t._version)
        c = self._consts.get(key)
        if c is None:
            c = self._consts[key] = (t, self.graph.initializer(t._data, self._names.get(id(t), "constant")))
        return c[1]

    def labels(self, t: Tensor) -> Labels:
        e = self._values.get(id(t))
        if e is not None and e.tensor is t:
            return e.labels
        return (None,) * t.ndim

    def fresh_label(self) -> str:
        """A new name for a dimension whose size depends on the inputs in a way not named by the user."""
        self._labels += 1
        return f"dim_{self._labels}"

    def untraced_birth(self, t: Tensor) -> None:
        """Remember a tensor made at depth 0 by no recorded operation: reading it raises (see ``name``)."""
        self._untraced[id(t)] = (
            t,
            f"the model's forward computed a tensor with {_deeprnn_function()}() at {caller()}, which "
            "deeprnn.onnx.export does not trace (a function bound before the export, such as "
            "`from deeprnn import cat`, or an internal API); call it as torch.<name>(...) or as a Tensor "
            "method, or use a supported operation",
        )

    def module_prefix(self, m: Any) -> str:
        """'rnn.' for the model's sub-module rnn (the prefix of the initializers made for it)."""
        name = self._modules.get(id(m), "")
        return f"{name}." if name else ""

    # ---- sizes -----------------------------------------------------------------------
    def shape_of(self, name: str) -> str:
        """The 1-D int64 value Shape(name), made once."""
        s = self._shapes.get(name)
        if s is None:
            s = self._shapes[name] = self.graph.op("Shape", [name])
        return s

    def dim_of(self, name: str, axis: int) -> str:
        """The 1-element int64 value Shape(name)[axis], made once."""
        key = (name, axis)
        d = self._dims.get(key)
        if d is None:
            d = self._dims[key] = self.graph.op("Gather", [self.shape_of(name), self.graph.ints([axis])], axis=0)
        return d

    def sizes(self, t: Tensor) -> list[Any]:
        """The sizes of ``t``: ints for fixed dimensions, ``TracedDim`` for dynamic ones."""
        labels = self.labels(t)
        name = self.name(t) if any(labels) else ""
        return [
            n if lab is None else TracedDim(self, n, lab, source=(name, i))
            for i, (n, lab) in enumerate(zip(t._data.shape, labels))
        ]

    def sizes_value(self, entries: list[Any]) -> str:
        """A 1-D int64 value holding ``entries`` (ints and ``TracedDim``s): a constant if all are ints."""
        if not any(isinstance(e, TracedDim) for e in entries):
            return self.graph.ints([int(e) for e in entries])
        parts = [e.value_name() if isinstance(e, TracedDim) else self.graph.ints([int(e)]) for e in entries]
        return self.graph.op("Concat", parts, axis=0)


def _concretized(dim: TracedDim, how: str) -> OnnxExporterError:
    return OnnxExporterError(
        f"the size {dim.value} of the dynamic axis '{dim.label}' was used as a Python number ({how}) in the "
        f"model's forward at {caller()}; the graph would hold {dim.value} for every input. Use the size "
        "only in tensor operations (view, reshape, expand, zeros, ...), or leave this axis out of dynamic_axes"
    )


class TracedDim:
    """The size of a dynamic axis, read during an export: an int that is also a graph value.

    ``value`` is its size in the example input; ``label`` the axis' name.  Arithmetic with
    ints and other TracedDims (+, -, *, //) gives TracedDims; anything that needs a Python
    int raises ``OnnxExporterError`` (see the module docstring).
    """

    __slots__ = ("_trace", "value", "label", "_name", "_source")

    def __init__(
        self, trace: Trace, value: int, label: str, name: str | None = None, source: tuple | None = None
    ) -> None:
        self._trace, self.value, self.label, self._name, self._source = trace, int(value), label, name, source

    def value_name(self) -> str:
        """The graph value (1-D int64, one element) holding this size."""
        if self._name is None:
            self._name = self._trace.dim_of(*self._source)
        return self._name

    def _arith(self, other: Any, op_type: str, py: Any, reflected: bool = False) -> TracedDim:
        if isinstance(other, TracedDim):
            o_name, o_val = other.value_name(), other.value
        elif isinstance(other, (int, np.integer)) and not isinstance(other, bool):
            o_name, o_val = self._trace.graph.ints([int(other)]), int(other)
        else:
            return NotImplemented
        a, b = (o_name, self.value_name()) if reflected else (self.value_name(), o_name)
        va, vb = (o_val, self.value) if reflected else (self.value, o_val)
        if op_type == "Div" and (vb <= 0 or va < 0):
            raise _concretized(self, "in a floor division by a number that is not positive")
        name = self._trace.graph.op(op_type, [a, b])
        return TracedDim(self._trace, py(va, vb), self._trace.fresh_label(), name=name)

    def __add__(self, o: Any) -> TracedDim:
        return self._arith(o, "Add", lambda a, b: a + b)

    def __radd__(self, o: Any) -> TracedDim:
        return self._arith(o, "Add", lambda a, b: a + b, True)

    def __sub__(self, o: Any) -> TracedDim:
        return self._arith(o, "Sub", lambda a, b: a - b)

    def __rsub__(self, o: Any) -> TracedDim:
        return self._arith(o, "Sub", lambda a, b: a - b, True)

    def __mul__(self, o: Any) -> TracedDim:
        return self._arith(o, "Mul", lambda a, b: a * b)

    def __rmul__(self, o: Any) -> TracedDim:
        return self._arith(o, "Mul", lambda a, b: a * b, True)

    def __floordiv__(self, o: Any) -> TracedDim:
        return self._arith(o, "Div", lambda a, b: a // b)

    def __rfloordiv__(self, o: Any) -> TracedDim:
        return self._arith(o, "Div", lambda a, b: a // b, True)

    def __index__(self) -> int:
        raise _concretized(self, "as an index, in range() or in NumPy")

    def __int__(self) -> int:
        raise _concretized(self, "in int()")

    def __float__(self) -> float:
        raise _concretized(self, "in float()")

    def __bool__(self) -> bool:
        raise _concretized(self, "as a truth value")

    def __eq__(self, o: object) -> bool:
        raise _concretized(self, "in a comparison")

    __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __eq__

    def __hash__(self) -> int:
        raise _concretized(self, "as a dict key or set member")

    def __truediv__(self, o: Any) -> Any:
        raise _concretized(self, "in a true division")

    __rtruediv__ = __mod__ = __rmod__ = __pow__ = __truediv__

    def __repr__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)
