"""Tensor methods for dtypes, devices, memory layout and new tensors like this one.

``to(...)`` takes a dtype, a device, both, or another tensor, as torch; ``type()`` speaks
torch's legacy type names ('torch.FloatTensor'); ``new_zeros``/``new_ones``/``new_full``/
``new_empty``/``new_tensor`` make tensors of this one's dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .device import CUDA_MESSAGE, as_device, check_device, device
from .dtypes import as_dtype, get_default_dtype, torch_type_name
from .ops_shape import clone, contiguous, to_dtype
from .tensor import Tensor, as_array, legacy_array

__all__ = ["type_name", "dtype_of_type_name", "size_arg", "methods", "properties"]


def type_name(dtype: np.dtype) -> str:
    """torch's legacy type name of a dtype: float32 -> 'torch.FloatTensor'."""
    return f"torch.{torch_type_name(dtype)}Tensor"


def dtype_of_type_name(name: str) -> np.dtype:
    """The dtype of a legacy type name such as 'torch.LongTensor' (a CUDA name raises, as on a CPU build)."""
    if name.startswith("torch.cuda."):
        raise RuntimeError(CUDA_MESSAGE)
    from .dtypes import _TORCH_TYPE_NAMES

    short = name.removeprefix("torch.").removesuffix("Tensor")
    if short == "":
        return get_default_dtype()
    for np_name, torch_name in _TORCH_TYPE_NAMES.items():
        if torch_name == short:
            return np.dtype(np_name)
    raise ValueError(f"invalid type: '{name}'")


def size_arg(size: tuple) -> tuple[int, ...]:
    """Sizes given as ints, a tuple/list/Size, or 0-d integer tensors, checked as torch does."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor) and s._data.ndim == 0 and s._data.dtype.kind in "iu":
            s = int(s._data)
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size must be a tuple of ints, but got an element of type {type(s).__name__}")
        out.append(int(s))
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


def _to(
    self: Tensor,
    *args: Any,
    dtype: Any = None,
    device: Any = None,
    copy: bool = False,
    non_blocking: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: a cast (or self when nothing changes)."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a._data.dtype if dtype is None else dtype
        elif isinstance(a, (str, _device_cls)) or (isinstance(a, int) and not isinstance(a, bool)):
            device = a
        elif isinstance(a, bool):
            continue  # the positional non_blocking (nothing is asynchronous here)
        else:
            dtype = a
    check_device(device)
    if dtype is None:
        return clone(self) if copy else self
    return to_dtype(self, as_dtype(dtype), copy=copy)


_device_cls = device


def _type(self: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """With no argument, torch's type name ('torch.FloatTensor'); else a cast to that type or dtype."""
    if dtype is None:
        return type_name(self._data.dtype)
    if isinstance(dtype, str):
        target = dtype_of_type_name(dtype)
    elif isinstance(dtype, type) and issubclass(dtype, Tensor):
        target = get_default_dtype()
    elif hasattr(dtype, "_legacy_dtype"):
        target = dtype._legacy_dtype
    else:
        target = as_dtype(dtype)
    return to_dtype(self, target)


def _cuda(self: Tensor, device: Any = None, non_blocking: bool = False, **kwargs: Any) -> Tensor:
    if device is not None:
        as_device(device)
    raise AssertionError(CUDA_MESSAGE)


def _pin_memory(self: Tensor, device: Any = None) -> Tensor:
    raise RuntimeError("Cannot access accelerator device when none is available.")


def _stride(self: Tensor, dim: int | None = None) -> Any:
    """Strides in elements (NumPy's byte strides divided by the element size)."""
    strides = tuple(s // self._data.itemsize for s in self._data.strides)
    if dim is None:
        return strides
    from .ops_shape import _dim

    return strides[_dim(dim, self._data.ndim)]


def _new_factory(fill: Any) -> Any:
    def make(
        self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kwargs: Any
    ) -> Tensor:
        check_device(device)
        arr = np.full(size_arg(size), fill, dtype=self._data.dtype if dtype is None else as_dtype(dtype))
        t = Tensor._wrap(arr)
        return t.requires_grad_(True) if requires_grad else t

    return make


def _new_full(
    self: Tensor,
    size: Any,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    **kwargs: Any,
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, of this tensor's dtype unless told."""
    check_device(device)
    arr = np.full(
        size_arg((size,) if isinstance(size, int) else tuple(size)),
        fill_value,
        dtype=self._data.dtype if dtype is None else as_dtype(dtype),
    )
    t = Tensor._wrap(arr)
    return t.requires_grad_(True) if requires_grad else t


def _new_tensor(
    self: Tensor, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kwargs: Any
) -> Tensor:
    """A new leaf holding a copy of ``data`` in this tensor's dtype (unless told)."""
    check_device(device)
    t = Tensor._wrap(np.array(as_array(data), dtype=self._data.dtype if dtype is None else as_dtype(dtype)))
    return t.requires_grad_(True) if requires_grad else t


def _new(self: Tensor, *args: Any, device: Any = None) -> Tensor:
    """The legacy ``t.new(...)``: ``Tensor(...)`` in this tensor's dtype."""
    check_device(device)
    return Tensor._wrap(legacy_array(args, self._data.dtype))


def _cast(dtype: Any) -> Any:
    def cast(self: Tensor, memory_format: Any = None) -> Tensor:
        return to_dtype(self, dtype)

    cast.__doc__ = f"Cast to {np.dtype(dtype).name} (this tensor when it already is)."
    return cast


methods: dict[str, Any] = {
    "to": _to,
    "type": _type,
    "cuda": _cuda,
    "cpu": lambda self, memory_format=None: self,
    "pin_memory": _pin_memory,
    "type_as": lambda self, other: to_dtype(self, other._data.dtype),
    "float": _cast(np.float32),
    "double": _cast(np.float64),
    "half": _cast(np.float16),
    "long": _cast(np.int64),
    "int": _cast(np.int32),
    "short": _cast(np.int16),
    "char": _cast(np.int8),
    "byte": _cast(np.uint8),
    "bool": _cast(np.bool_),
    "contiguous": contiguous,
    "is_contiguous": lambda self, memory_format=None: bool(self._data.flags.c_contiguous),
    "stride": _stride,
    "element_size": lambda self: int(self._data.itemsize),
    "get_device": lambda self: -1,
    "is_floating_point": lambda self: self._data.dtype.kind == "f",
    "new_zeros": _new_factory(0),
    "new_ones": _new_factory(1),
    "new_empty": _new_factory(0),
    "new_full": _new_full,
    "new_tensor": _new_tensor,
    "new": _new,
}
properties = {
    "device": property(lambda self: device("cpu"), doc="Always the CPU: deeprnn has no other device."),
    "is_cuda": property(lambda self: False),
    "is_sparse": property(lambda self: False),
    "is_quantized": property(lambda self: False),
    "is_meta": property(lambda self: False),
    "itemsize": property(lambda self: int(self._data.itemsize)),
    "nbytes": property(lambda self: int(self._data.nbytes)),
}
