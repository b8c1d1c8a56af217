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
    "int16",
    "short",
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
    "promote_types",
    "result_type",
    "can_cast",
    "check_inplace_cast",
]

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
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
    """True for a floating-point NumPy dtype (kind "f", as np.issubdtype(dtype, np.floating) says, without its
    three Python frames: every sum and many other operations ask)."""
    d = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)
    return d.kind == "f"


def _category(d: np.dtype) -> builtins.int:
    return 0 if d.kind == "b" else 2 if d.kind in "fc" else 1


def promote_types(a: np.dtype | None, b: np.dtype | None) -> np.dtype | None:
    """torch.promote_types: the smallest dtype both fit in; an integer with a float gives the float."""
    if a is None or b is None:
        return a if b is None else b
    ca, cb = _category(a), _category(b)
    if ca != cb and 2 in (ca, cb):
        return a if ca == 2 else b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    # torch's combine_categories: a group of operands only decides the dtype when it is of a
    # higher category (bool < integer < float) than every group above it
    if higher is None:
        return lower
    if lower is None or _category(higher) == 2:
        return higher
    if _category(higher) == 0 or _category(lower) == 2:
        return promote_types(higher, lower)
    return higher


def result_type(*operands: Any) -> np.dtype:
    """torch.result_type of tensors, arrays and Python numbers.

    Tensors with dimensions decide first, then 0-d tensors, then Python numbers (a float is
    the default dtype, an int int64), each only when of a higher category than those before:
    float32 tensor * float64 0-d tensor is float32; int tensor * 0.5 is the default float.
    """
    dims = zeros = wrapped = None
    for o in operands:
        arr = getattr(o, "_data", o)
        if isinstance(arr, np.ndarray):
            if arr.ndim:
                dims = promote_types(dims, arr.dtype)
            else:
                zeros = promote_types(zeros, arr.dtype)
        elif isinstance(o, (builtins.bool, np.bool_)):
            wrapped = promote_types(wrapped, np.dtype(np.bool_))
        elif isinstance(o, (builtins.int, np.integer)):
            wrapped = promote_types(wrapped, np.dtype(np.int64))
        elif isinstance(o, (builtins.float, np.floating)):
            wrapped = promote_types(wrapped, get_default_dtype())
        elif o is not None:
            raise TypeError(f"expected a tensor or a number, got {type(o).__name__}")
    out = _combine(dims, _combine(zeros, wrapped))
    return np.dtype(np.float32) if out is None else out


def can_cast(src: np.dtype, dst: np.dtype) -> builtins.bool:
    """torch.can_cast: in-place results may go down in size but not from float to integer or to bool."""
    cs, cd = _category(src), _category(dst)
    return cs <= cd


def check_inplace_cast(result: np.dtype, out: np.dtype) -> None:
    """torch's error when an in-place result cannot be stored in the tensor's dtype."""
    if not can_cast(result, out):
        raise RuntimeError(
            f"result type {torch_type_name(result)} can't be cast to the desired output type {torch_type_name(out)}"
        )


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
