"""Loading side: the storages read from a file and torch's ``torch._utils._rebuild_*`` functions.

A storage is a flat, typed array of the bytes of one record (``data/<key>``). A tensor is a
strided view into it: ``(storage, storage_offset, size, stride)`` in elements, checked to lie
inside the storage before any view is made, so a file cannot make a tensor read memory
outside its own data. Tensors viewing one storage share memory, as they did when saved.
"""

from __future__ import annotations

import numbers
import warnings
from collections import OrderedDict
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..nn.parameter import Parameter
from .dtypes import BFLOAT16

__all__ = [
    "LoadedStorage",
    "Unsupported",
    "StorageType",
    "ParameterType",
    "rebuild_tensor",
    "rebuild_tensor_v2",
    "rebuild_tensor_v3",
    "rebuild_parameter",
    "rebuild_parameter_with_state",
    "rebuild_from_type_v2",
]


class Unsupported:
    """A global torch allows but deeprnn cannot represent (float8 dtypes, quantised tensors...).

    Calling it, or building a tensor of it, raises; merely naming it does not.
    """

    def __init__(self, what: str) -> None:
        self.what = what

    def error(self) -> RuntimeError:
        return RuntimeError(f"deeprnn.load: {self.what} has no NumPy counterpart, so deeprnn cannot load it")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error()

    def __repr__(self) -> str:
        return self.what


class StorageType:
    """What the global ``torch FloatStorage`` (or ``torch.storage UntypedStorage``) stands for: a dtype."""

    def __init__(self, name: str, dtype: np.dtype | str) -> None:
        self.name = name
        self.dtype = dtype  # np.dtype, or BFLOAT16

    def __repr__(self) -> str:
        return f"StorageType({self.name})"


class LoadedStorage:
    """One storage of a file: ``array`` is its elements (1-D, writable), ``location`` where it was saved."""

    def __init__(self, array: np.ndarray, location: str) -> None:
        self.array = array
        self.location = location

    def __len__(self) -> int:
        return int(self.array.size)

    def cpu(self) -> LoadedStorage:
        """Already on the CPU (for ``map_location=lambda s, loc: s.cpu()``)."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> LoadedStorage:
        raise AssertionError("Torch not compiled with CUDA enabled")

    def __repr__(self) -> str:
        return f"LoadedStorage(dtype={self.array.dtype}, size={self.array.size}, location={self.location!r})"


def widen_bfloat16(raw: np.ndarray) -> np.ndarray:
    """bfloat16 bytes -> float32 values, exactly (a bfloat16 is the top half of a float32)."""
    return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)


def _ints(what: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
    ):
        raise RuntimeError(f"corrupt tensor record: {what} must be a tuple of ints, got {value!r}")
    return tuple(int(v) for v in value)


def _view(storage: Any, storage_offset: Any, size: Any, stride: Any, dtype: np.dtype | None = None) -> np.ndarray:
    """The strided view (size, stride, offset in elements) into ``storage``, bounds-checked first."""
    if not isinstance(storage, LoadedStorage):
        raise RuntimeError(f"corrupt tensor record: expected a storage, got {type(storage).__name__}")
    flat = storage.array
    if dtype is not None and dtype != flat.dtype:
        if flat.nbytes % dtype.itemsize:
            raise RuntimeError(
                f"corrupt tensor record: a storage of {flat.nbytes} bytes cannot hold {dtype} elements "
                f"({dtype.itemsize} bytes each)"
            )
        flat = flat.view(dtype)
    shape, strides = _ints("size", size), _ints("stride", stride)
    if len(shape) != len(strides):
        raise RuntimeError(f"unequal size length ({len(shape)}) and stride length ({len(strides)})")
    if not isinstance(storage_offset, numbers.Integral) or isinstance(storage_offset, bool) or storage_offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {storage_offset}")
    if any(n < 0 for n in shape):
        raise RuntimeError(f"corrupt tensor record: negative size {list(shape)}")
    if any(s < 0 for s in strides):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)} and strides={list(strides)}")
    item = flat.dtype.itemsize
    if 0 in shape:
        return np.empty(shape, dtype=flat.dtype)
    needed = int(storage_offset) + 1 + sum((n - 1) * s for n, s in zip(shape, strides))
    if needed > flat.size:
        raise RuntimeError(  # torch's message, then what was asked for
            f"Trying to resize storage that is not resizable: a tensor of sizes {list(shape)}, strides "
            f"{list(strides)} and storage offset {int(storage_offset)} needs {needed * item} bytes, "
            f"its storage holds {flat.size * item}"
        )
    return np.ndarray(
        shape, dtype=flat.dtype, buffer=flat, offset=int(storage_offset) * item, strides=[s * item for s in strides]
    )


def _tensor(arr: np.ndarray, requires_grad: Any) -> Tensor:
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> Tensor:
    """torch._utils._rebuild_tensor: a tensor viewing ``storage``."""
    return _tensor(_view(storage, storage_offset, size, stride), False)


def rebuild_tensor_v2(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any,
    backward_hooks: Any,
    metadata: Any = None,
) -> Tensor:
    """torch._utils._rebuild_tensor_v2: a tensor viewing ``storage`` (hooks and metadata are dropped)."""
    return _tensor(_view(storage, storage_offset, size, stride), requires_grad)


def rebuild_tensor_v3(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any,
    backward_hooks: Any,
    dtype: Any,
    metadata: Any = None,
) -> Tensor:
    """torch._utils._rebuild_tensor_v3: as v2, the untyped storage's bytes read as ``dtype``."""
    if isinstance(dtype, str) and dtype == BFLOAT16:
        raw = _view(storage, 0, (len(storage),), (1,))
        return rebuild_tensor_v2(
            LoadedStorage(widen_bfloat16(raw), storage.location), storage_offset, size, stride, requires_grad, None
        )
    if isinstance(dtype, Unsupported):
        raise dtype.error()
    if not isinstance(dtype, np.dtype):
        raise RuntimeError(f"corrupt tensor record: expected a dtype, got {type(dtype).__name__}")
    return _tensor(_view(storage, storage_offset, size, stride, dtype), requires_grad)


def _drop_state(kind: str, state: Any) -> None:
    if state:
        names = sorted(state) if isinstance(state, dict) else [type(state).__name__]
        warnings.warn(
            f"deeprnn.load: the {kind}'s Python attributes {names} are not restored (deeprnn tensors hold none)",
            UserWarning,
            stacklevel=4,
        )


def rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any) -> Parameter:
    """torch._utils._rebuild_parameter: an nn.Parameter on the data of the tensor ``data`` (no copy)."""
    if not isinstance(data, Tensor):
        raise RuntimeError(f"corrupt parameter record: expected a tensor, got {type(data).__name__}")
    p = Parameter._wrap(data._data)
    if requires_grad:
        p.requires_grad_(True)
    return p


def rebuild_parameter_with_state(data: Any, requires_grad: Any, backward_hooks: Any, state: Any) -> Parameter:
    """torch._utils._rebuild_parameter_with_state: as rebuild_parameter (extra attributes are dropped)."""
    _drop_state("Parameter", state)
    return rebuild_parameter(data, requires_grad, backward_hooks)


class ParameterType:
    """Stands for ``torch.nn.parameter.Parameter`` in a file: calling or NEWOBJ-ing it makes a Parameter."""

    def __new__(cls, data: Any = None, requires_grad: bool = True) -> Parameter:  # type: ignore[misc]
        if data is None:
            return Parameter(None, requires_grad)
        if not isinstance(data, Tensor):
            raise RuntimeError(f"corrupt parameter record: expected a tensor, got {type(data).__name__}")
        return rebuild_parameter(data, requires_grad, OrderedDict())


def rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Tensor:
    """torch._tensor._rebuild_from_type_v2: ``func(*args)`` as a Tensor or Parameter (attributes dropped)."""
    if func not in (rebuild_tensor, rebuild_tensor_v2, rebuild_tensor_v3, rebuild_parameter):
        raise RuntimeError(f"corrupt tensor record: {func!r} is not a tensor rebuild function")
    if not isinstance(args, tuple):
        raise RuntimeError(f"corrupt tensor record: expected an argument tuple, got {type(args).__name__}")
    out = func(*args)
    _drop_state("tensor", state)
    if new_type in (Parameter, ParameterType) and not isinstance(out, Parameter):
        return rebuild_parameter(out, True, OrderedDict())
    if new_type not in (Tensor, Parameter, ParameterType):
        raise RuntimeError(f"deeprnn.load: cannot rebuild a tensor of class {new_type!r}")
    return out
