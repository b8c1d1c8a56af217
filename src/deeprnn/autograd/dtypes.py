"""Data types, named as in PyTorch, and the promotion rules of binary operations."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

__all__ = [
    "float32",
    "float64",
    "float16",
    "int64",
    "int32",
    "int8",
    "uint8",
    "bool",
    "float",
    "double",
    "half",
    "long",
    "int",
    "get_default_dtype",
    "set_default_dtype",
    "as_dtype",
    "is_floating",
    "torch_type_name",
]

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001 - PyTorch's name

_default = {"dtype": float32}


def get_default_dtype() -> np.dtype:
    """The floating dtype that Python floats and random tensors take (float32 unless changed)."""
    return _default["dtype"]


def set_default_dtype(dtype: Any) -> None:
    """Set the default floating dtype: float32 or float64, as ``torch.set_default_dtype``."""
    d = as_dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default["dtype"] = d


def as_dtype(dtype: Any) -> np.dtype:
    """Normalise a dtype given as a deeprnn/NumPy dtype, a type or a name such as 'float64'."""
    if isinstance(dtype, str):
        dtype = dtype.removeprefix("torch.").removeprefix("deeprnn.")
    try:
        return np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"expected a dtype such as deeprnn.float32, got {dtype!r}") from err


def is_floating(dtype: np.dtype) -> bool:
    """True for a floating-point NumPy dtype."""
    return np.issubdtype(dtype, np.floating)


def result_dtype(a: np.ndarray, b: Any) -> np.dtype | None:
    """PyTorch's promotion where it differs from NumPy's; None means NumPy's rule is right.

    An integer tensor combined with a Python float, or with a floating tensor, takes the
    floating dtype (the default one for a Python float), where NumPy would go to float64.
    """
    if is_floating(a.dtype):
        if isinstance(b, np.ndarray) and not is_floating(b.dtype):
            return a.dtype
        return None
    if isinstance(b, np.ndarray):
        return b.dtype if is_floating(b.dtype) else None
    if isinstance(b, builtins.float):
        return get_default_dtype()
    return None


_TORCH_TYPE_NAMES = {
    "float32": "Float",
    "float64": "Double",
    "float16": "Half",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}


def torch_type_name(dtype: Any) -> str:
    """PyTorch's short name of a dtype ('Float', 'Long', ...), as its error messages spell it."""
    name = np.dtype(dtype).name
    return _TORCH_TYPE_NAMES.get(name, name)
