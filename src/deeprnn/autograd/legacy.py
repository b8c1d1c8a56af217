"""torch's legacy tensor types and ``Variable``, which older programs still use.

``FloatTensor([1, 2])`` converts data to float32 (``LongTensor([1.7])`` truncates to 1),
``FloatTensor(2, 3)`` makes a (2, 3) tensor; ``isinstance(t, FloatTensor)`` is True for a
float32 tensor, and ``t.type(LongTensor)`` casts. ``Variable(t, requires_grad=True)`` is
a tensor on ``t``'s memory, as since torch 0.4.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, legacy_array

__all__ = [
    "FloatTensor",
    "DoubleTensor",
    "HalfTensor",
    "LongTensor",
    "IntTensor",
    "ShortTensor",
    "CharTensor",
    "ByteTensor",
    "BoolTensor",
    "Variable",
]


class _LegacyType(type):
    """The metaclass of the legacy types: calling one builds a Tensor of its dtype."""

    _legacy_dtype: np.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        from .device import check_device

        check_device(device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            t = args[0]
            if t._data.dtype != cls._legacy_dtype:
                raise TypeError(f"expected {cls.__name__} (got {t.type()})")
            return t
        return Tensor._wrap(legacy_array(args, cls._legacy_dtype))

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls._legacy_dtype

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"

    @property
    def dtype(cls) -> np.dtype:
        return cls._legacy_dtype


def _legacy(name: str, dtype: Any) -> Any:
    doc = f"Legacy constructor of {np.dtype(dtype).name} tensors: ``{name}(data)`` or ``{name}(*sizes)``."
    return _LegacyType(name, (), {"_legacy_dtype": np.dtype(dtype), "__doc__": doc})


FloatTensor = _legacy("FloatTensor", np.float32)
DoubleTensor = _legacy("DoubleTensor", np.float64)
HalfTensor = _legacy("HalfTensor", np.float16)
LongTensor = _legacy("LongTensor", np.int64)
IntTensor = _legacy("IntTensor", np.int32)
ShortTensor = _legacy("ShortTensor", np.int16)
CharTensor = _legacy("CharTensor", np.int8)
ByteTensor = _legacy("ByteTensor", np.uint8)
BoolTensor = _legacy("BoolTensor", np.bool_)


def Variable(data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """The pre-0.4 wrapper: a tensor on ``data``'s memory, a leaf (requiring grad when asked)."""
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    out = data.detach()
    return out.requires_grad_(True) if requires_grad else out
