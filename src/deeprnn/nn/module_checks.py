"""Checks and small helpers of ``Module``: names, torch's typename spelling, ``to()`` arguments, repr indents."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ..autograd.device import CUDA_MESSAGE as CUDA_ERROR
from ..autograd.device import check_device as _check_device
from ..autograd.dtypes import as_dtype, torch_type_name
from ..autograd.tensor import Tensor

__all__ = [
    "CUDA_ERROR",
    "HOOK_SETS",
    "HOOK_STORES",
    "IncompatibleKeys",
    "addindent",
    "check_device",
    "check_name",
    "parse_to",
    "typename",
]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the missing and the unexpected keys (printed as torch's)."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


IncompatibleKeys = _IncompatibleKeys  # torch's class name, which its repr shows


def typename(obj: Any) -> str:
    """torch.typename's spelling: 'torch.FloatTensor' for a tensor, the class name otherwise."""
    if isinstance(obj, Tensor):
        return f"torch.{torch_type_name(obj.dtype)}Tensor"
    module = type(obj).__module__
    return type(obj).__qualname__ if module == "builtins" else f"{module}.{type(obj).__qualname__}"


def check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {typename(name)}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


def addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


HOOK_STORES = (
    "_forward_pre_hooks",
    "_forward_hooks",
)
HOOK_SETS = ("_forward_pre_hooks_with_kwargs", "_forward_hooks_with_kwargs", "_forward_hooks_always_called")


def parse_to(args: tuple, kwargs: dict) -> tuple[Any, np.dtype | None]:
    """torch's ``_parse_to``: (device, dtype) from to(device), to(dtype), to(device, dtype), to(tensor)."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None), kwargs.pop("memory_format", None), kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments: {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, bool) or a is None:
            continue  # non_blocking given positionally
        elif isinstance(a, np.dtype) or (isinstance(a, type) and issubclass(a, np.generic)):
            dtype = a
        else:
            device = a
    if isinstance(device, bytes):
        device = device.decode()
    return device, (None if dtype is None else as_dtype(dtype))


def check_device(device: Any) -> None:
    """The CPU passes; 'cuda' raises torch's CPU-only error; anything else torch's device errors."""
    if device is not None:
        _check_device(device)
