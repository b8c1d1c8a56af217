"""The pickler of ``save``: deeprnn objects written under torch's names, so torch can read them.

torch is not imported (nor needed): a ``TorchName`` stand-in pickles as the bare global
``module name`` (e.g. ``torch._utils _rebuild_tensor_v2``). Substitutions, made once in
``save()`` for every object:

    Tensor / Parameter   -> torch's _rebuild_tensor_v2 / _rebuild_parameter with a persistent storage id
    numpy ndarray        -> a tensor (torch's format has no other array; it loads back as a Tensor)
    numpy scalar         -> the Python number
    numpy dtype          -> ``torch float32`` etc.;   deeprnn.Size -> ``torch Size``;  device -> ``torch device``

The pure-Python pickler is used because its dispatch table can be extended with TorchName.
Protocol 2, torch's default.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from typing import Any

import numpy as np

from ..autograd.device import device
from ..autograd.size import Size
from ..autograd.tensor import Tensor
from ..nn.parameter import Parameter
from .dtypes import torch_dtype_name
from .storages import Placement, StorageRegistry

__all__ = ["TorchName", "TorchPickler", "dumps"]


class TorchName:
    """A stand-in for the global ``module.name`` of torch; it pickles as that GLOBAL."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # pickle requires a reduce function to be callable
        raise TypeError(f"{self!r} stands for torch's global when pickling; it cannot be called")


_names: dict[tuple[str, str], TorchName] = {}


def torch_name(module: str, name: str) -> TorchName:
    """The one TorchName for ``module.name`` (one object, so the pickle memo refers back to it)."""
    return _names.setdefault((module, name), TorchName(module, name))


REBUILD_TENSOR_V2 = torch_name("torch._utils", "_rebuild_tensor_v2")
REBUILD_TENSOR_V3 = torch_name("torch._utils", "_rebuild_tensor_v3")
REBUILD_PARAMETER = torch_name("torch._utils", "_rebuild_parameter")
TORCH_SIZE = torch_name("torch", "Size")
TORCH_DEVICE = torch_name("torch", "device")


class _StorageId:
    """The persistent id of one storage: ('storage', <storage class>, key, 'cpu', numel)."""

    __slots__ = ("pid",)

    def __init__(self, placement: Placement) -> None:
        module = "torch.storage" if placement.storage_class == "UntypedStorage" else "torch"
        self.pid = ("storage", torch_name(module, placement.storage_class), placement.key, "cpu", placement.numel)


class TorchPickler(pickle._Pickler):  # type: ignore[name-defined,misc]
    """A pickler that writes deeprnn tensors as torch tensors, their data to ``registry``."""

    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    def __init__(self, file: Any, registry: StorageRegistry, protocol: int = 2) -> None:
        super().__init__(file, protocol=protocol)
        self.registry = registry
        self._arrays: dict[int, tuple[np.ndarray, Tensor]] = {}

    def _save_torch_name(self, obj: TorchName) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[TorchName] = _save_torch_name

    def persistent_id(self, obj: Any) -> Any:
        return obj.pid if type(obj) is _StorageId else None

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        if isinstance(obj, np.ndarray):
            kept = self._arrays.get(id(obj))
            if kept is None:  # one wrapper per array, so an array saved twice is one tensor
                kept = self._arrays[id(obj)] = (obj, Tensor._wrap(obj))
            obj = kept[1]
        elif isinstance(obj, np.generic) and obj.dtype.kind in "biufc":
            obj = obj.item()
        elif isinstance(obj, np.dtype):
            name = torch_dtype_name(obj)
            if name is not None:
                obj = torch_name("torch", name)
        super().save(obj, save_persistent_id)

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Parameter):
            return REBUILD_PARAMETER, (Tensor._wrap(obj._data), bool(obj.requires_grad), OrderedDict())
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if type(obj) is Size:
            return TORCH_SIZE, (tuple(obj),)
        if type(obj) is device:
            return TORCH_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index)
        return NotImplemented

    def _reduce_tensor(self, t: Tensor) -> tuple:
        where = self.registry.place(t._data)
        storage = _StorageId(where)
        args = (storage, where.offset, tuple(where.size), tuple(where.stride), bool(t.requires_grad), OrderedDict())
        if where.dtype_name is not None:
            return REBUILD_TENSOR_V3, (*args, torch_name("torch", where.dtype_name))
        return REBUILD_TENSOR_V2, args


def dumps(obj: Any, protocol: int = 2) -> tuple[bytes, list[tuple[str, memoryview]]]:
    """Pickle ``obj`` torch's way: (data.pkl bytes, [(storage key, storage bytes)])."""
    first = StorageRegistry()
    TorchPickler(io.BytesIO(), first, protocol).dump(obj)  # pass 1: the span of every storage
    registry = StorageRegistry(spans=first.final_spans())
    buf = io.BytesIO()
    TorchPickler(buf, registry, protocol).dump(obj)
    return buf.getvalue(), registry.records()
