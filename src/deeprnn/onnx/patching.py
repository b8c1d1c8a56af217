"""Wrapping deeprnn's public operations for the duration of one export, restored in a ``finally``.

What is wrapped: every public method, operator and property of ``Tensor``; the functions of
the ``deeprnn``, ``deeprnn.nn.functional`` and ``deeprnn.nn.utils.rnn`` namespaces;
``Module.__call__``; and ``Tensor._wrap`` / ``Tensor.__init__``, where tensors are born.
Each wrapper checks ``trace.active()``: in other threads, inside an operation being recorded,
or outside an export it calls the original at once.  In the model's own code:

- a call that reads no tensor computed from the inputs (and no dynamic size) runs as is and
  its result is a constant;
- a call with a recorder runs for real (its own checks and numbers), then the recorder adds
  the nodes that compute the result;
- any other call raises ``UnsupportedOperatorError`` naming the operation;
- a leaf module (MODULES, RECURRENT_MODULES: a class there, or a subclass that keeps its
  forward) is one recorder: it is not traced inside; any other module is traced into;
- ``torch.FloatTensor(...)`` and the other legacy types make constants (of a computed tensor of their
  dtype: the tensor itself);
- a tensor born at depth 0 outside every wrapper (a function bound by name before the
  export) is remembered, and reading it in the graph raises (trace.py).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .. import nn
from ..autograd import legacy
from ..autograd.size import Size
from ..autograd.tensor import Tensor
from ..nn.functional import __all__ as _functional_all
from ..nn.module import Module
from .errors import OnnxExporterError, UnsupportedOperatorError
from .record_math import MATH_RECORDERS
from .record_nn import FUNCTIONAL, MODULES
from .record_recurrent import RECURRENT_MODULES
from .record_shape import SHAPE_RECORDERS
from .trace import Trace, TracedDim, active, caller

__all__ = ["patched"]

RECORDERS = {**MATH_RECORDERS, **SHAPE_RECORDERS}
LEAF_MODULES = {**MODULES, **RECURRENT_MODULES}

# Tensor members that do not depend on the values, or only print them: left as they are.
_SAFE_METHODS = {
    "dim",
    "ndimension",
    "is_floating_point",
    "is_contiguous",
    "element_size",
    "get_device",
    "stride",
    "requires_grad_",
    "retain_grad",
    "register_hook",
    "__repr__",
    "__format__",
    "__iter__",  # iterates with unbind, which is recorded
    "__init__",  # wrapped on its own
}
_SAFE_PROPERTIES = {
    "requires_grad",
    "grad_fn",
    "is_leaf",
    "retains_grad",
    "_version",
    "dtype",
    "ndim",
    "device",
    "is_cuda",
    "is_sparse",
    "is_quantized",
    "is_meta",
    "itemsize",
    "nbytes",
}
_SAFE_FUNCTIONS = {"is_tensor", "is_floating_point", "result_type", "numel"}


def _concrete(obj: Any) -> Any:
    """``obj`` with every TracedDim replaced by its example value (for the real call)."""
    if isinstance(obj, TracedDim):
        return obj.value
    if isinstance(obj, slice):
        return slice(_concrete(obj.start), _concrete(obj.stop), _concrete(obj.step))
    if isinstance(obj, (list, tuple)) and any(isinstance(o, (TracedDim, slice, list, tuple)) for o in obj):
        items = [_concrete(o) for o in obj]
        return type(obj)(items) if isinstance(obj, (list, Size)) else tuple(items)
    if isinstance(obj, dict):
        return {k: _concrete(v) for k, v in obj.items()}
    return obj


def _unsupported(display: str) -> UnsupportedOperatorError:
    return UnsupportedOperatorError(
        f"{display} is not supported by deeprnn.onnx.export: the model's forward called it on a tensor computed "
        f"from the inputs (or with a dynamic size) at {caller()}"
    )


def _wrapper(original: Callable, recorder: Callable | None, display: str, by_name: bool = False) -> Callable:
    """The wrapper of one public operation (see the module docstring); ``by_name``: nn.functional's calling form."""
    signature = inspect.signature(original) if by_name else None

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tr = active()
        if tr is None:
            return original(*args, **kwargs)
        if not (tr.involves(args) or tr.involves(kwargs)):
            with tr.inside():
                return original(*args, **kwargs)
        if recorder is None:
            raise _unsupported(display)
        with tr.inside():  # the recorder too: in it, sizes are ints
            result = original(*_concrete(args), **_concrete(kwargs))
            if signature is not None:
                kw = dict(kwargs)
                if "axis" in kw:
                    kw["dim"] = kw.pop("axis")
                bound = signature.bind(*args, **kw)
                bound.apply_defaults()
                recorder(tr, result, dict(bound.arguments))
            else:
                recorder(tr, result, *args, **kwargs)
        return result

    return wrapper


def _leaf_recorder(cls: type) -> Callable | None:
    """The recorder of a leaf module class: one in the tables, or a subclass that keeps its forward."""
    for base in cls.__mro__:
        rec = LEAF_MODULES.get(base)
        if rec is not None:
            return rec if cls.forward is base.forward else None
    return None


def _module_call(original: Callable) -> Callable:
    @functools.wraps(original)
    def __call__(self: Module, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
        tr = active()
        rec = None if tr is None else _leaf_recorder(type(self))
        if rec is None:
            return original(self, *args, **kwargs)  # a container or the model: traced into
        if not (tr.involves(args) or tr.involves(kwargs)):
            with tr.inside():
                return original(self, *args, **kwargs)
        d = self.__dict__
        if d.get("_forward_pre_hooks") or d.get("_forward_hooks"):
            raise UnsupportedOperatorError(
                f"forward hooks on {type(self).__name__} are not supported by deeprnn.onnx.export"
            )
        with tr.inside():
            result = original(self, *_concrete(args), **_concrete(kwargs))
            rec(tr, result, self, *args, **kwargs)
        return result

    return __call__


# ---- sizes -------------------------------------------------------------------------------
def _dynamic_sizes(tr: Trace | None, t: Tensor) -> list[Any] | None:
    if tr is None or not tr.is_dynamic(t) or not any(lab is not None for lab in tr.labels(t)):
        return None
    return tr.sizes(t)


def _size(original: Callable) -> Callable:
    @functools.wraps(original)
    def size(self: Tensor, dim: int | None = None) -> Any:
        value = original(self, dim)  # its own checks
        sizes = _dynamic_sizes(active(), self)
        if sizes is None:
            return value
        return Size(sizes) if dim is None else sizes[int(dim) % self.ndim]

    return size


def _shape(original: property) -> property:
    def shape(self: Tensor) -> Any:
        sizes = _dynamic_sizes(active(), self)
        return original.fget(self) if sizes is None else Size(sizes)

    return property(shape, doc=original.__doc__)


def _fixed_size_only(original: Callable, display: str) -> Callable:
    """numel() and len(): Python ints, refused when they would freeze a dynamic size."""

    @functools.wraps(original)
    def method(self: Tensor, *args: Any) -> Any:
        sizes = _dynamic_sizes(active(), self)
        if sizes is not None and (display != "len()" or isinstance(sizes[0], TracedDim)):
            raise OnnxExporterError(
                f"{display} of a tensor with a dynamic axis was used in the model's forward at {caller()}; the "
                "graph would freeze that size: use x.size(d) in tensor operations, or leave the axis out of "
                "dynamic_axes"
            )
        return original(self, *args)

    return method


def _property(original: property, recorder: Callable | None, display: str) -> property:
    def getter(self: Tensor) -> Any:
        tr = active()
        if tr is None or not tr.involves(self):
            return original.fget(self)
        if recorder is None:
            raise _unsupported(display)
        with tr.inside():
            result = original.fget(self)
            recorder(tr, result, self)
        return result

    return property(getter, original.fset, doc=original.__doc__)


def _birth(original: classmethod) -> classmethod:
    fn = original.__func__

    def _wrap(cls: type, data: Any, requires_grad: bool = False) -> Tensor:
        t = fn(cls, data, requires_grad)
        tr = active()
        if tr is not None:
            tr.untraced_birth(t)
        return t

    return classmethod(_wrap)


def _init(original: Callable) -> Callable:
    @functools.wraps(original)
    def __init__(self: Tensor, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        tr = active()
        if tr is not None and tr.involves(args):
            raise _unsupported("Tensor(tensor) (a legacy constructor)")
        original(self, *args, **kwargs)

    return __init__


def _legacy_type(tr: Trace, result: Tensor, cls: type, *args: Any, **kwargs: Any) -> None:
    """``torch.FloatTensor(t)`` of a computed tensor of that dtype is ``t``; of data holding one, unsupported."""
    if len(args) == 1 and isinstance(args[0], Tensor):
        return
    raise _unsupported(f"{cls.__name__}(...) of data computed from the inputs")


def _tensor_member(name: str, raw: Any) -> Any:
    """The replacement of Tensor attribute ``name`` (None: left as it is)."""
    if name == "_wrap":
        return _birth(raw)
    if name == "__init__":
        return _init(raw)
    if isinstance(raw, property):
        if name == "shape":
            return _shape(raw)
        if name in _SAFE_PROPERTIES:
            return None
        return _property(raw, RECORDERS.get(name), f"Tensor.{name}")
    if not inspect.isfunction(raw) or name in _SAFE_METHODS:
        return None
    if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
        return None  # private helpers are internal, called inside recorded operations
    if name == "size":
        return _size(raw)
    if name in ("numel", "nelement"):
        return _fixed_size_only(raw, f"{name}()")
    if name == "__len__":
        return _fixed_size_only(raw, "len()")
    return _wrapper(raw, RECORDERS.get(name), f"Tensor.{name}")


def _namespaces() -> Iterator[tuple[Any, list[str], dict[str, Any], bool, str]]:
    import deeprnn  # the namespace the model's code calls (torch.cat, ...): patched, not used

    yield deeprnn, list(deeprnn.__all__), RECORDERS, False, "torch"
    yield nn.functional, list(_functional_all), FUNCTIONAL, True, "torch.nn.functional"
    yield nn.utils.rnn, list(nn.utils.rnn.__all__), {}, False, "torch.nn.utils.rnn"


@contextmanager
def patched() -> Iterator[None]:
    """Install every wrapper; restore the originals on the way out, whatever happens."""
    saved: list[tuple[Any, str, Any]] = []
    try:
        for name, raw in list(Tensor.__dict__.items()):
            new = _tensor_member(name, raw)
            if new is not None:
                saved.append((Tensor, name, raw))
                setattr(Tensor, name, new)
        for owner, names, recorders, by_name, prefix in _namespaces():
            for name in names:
                obj = getattr(owner, name, None)
                if not inspect.isfunction(obj) or name in _SAFE_FUNCTIONS:
                    continue
                saved.append((owner, name, obj))
                setattr(owner, name, _wrapper(obj, recorders.get(name), f"{prefix}.{name}", by_name))
        meta = type(legacy.FloatTensor)  # torch.FloatTensor([...]) and the other legacy types: constants
        saved.append((meta, "__call__", meta.__dict__["__call__"]))
        meta.__call__ = _wrapper(meta.__dict__["__call__"], _legacy_type, "a legacy tensor type")
        saved.append((Module, "__call__", Module.__dict__["__call__"]))
        Module.__call__ = _module_call(Module.__dict__["__call__"])
        yield
    finally:
        for owner, name, raw in reversed(saved):
            setattr(owner, name, raw)
