"""Creating tensors: tensor, zeros, ones, full, empty, randn, rand, randint, arange, linspace, eye, *_like."""

from __future__ import annotations

from typing import Any

import numpy as np

from .device import check_device
from .dtypes import as_dtype, get_default_dtype
from .random import resolve
from .tensor import Tensor, as_array
from .tensor_convert import size_arg

__all__ = [
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "full",
    "empty",
    "randn",
    "rand",
    "randint",
    "arange",
    "linspace",
    "eye",
    "zeros_like",
    "ones_like",
    "full_like",
    "randn_like",
    "rand_like",
]


def _size(size: tuple, name: str = "zeros") -> tuple[int, ...]:
    for v in size if not (len(size) == 1 and isinstance(size[0], (tuple, list))) else size[0]:
        if isinstance(v, float):
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not float")
    return size_arg(size)


def _dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else as_dtype(dtype)


def _make(arr: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    check_device(device)
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (floats default to float32)."""
    return _make(np.array(as_array(data, dtype), copy=True), requires_grad, device)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array when it can."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == as_dtype(dtype)):
        return data
    return Tensor._wrap(as_array(data, dtype))


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``arr`` (dtype kept)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    return Tensor._wrap(arr)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros of shape ``size``."""
    return _make(np.zeros(_size(size), dtype=_dtype(dtype)), requires_grad, device)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones of shape ``size``."""
    return _make(np.ones(_size(size, "ones"), dtype=_dtype(dtype)), requires_grad, device)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """An uninitialised tensor (zero-filled here, for reproducibility)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def full(size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``."""
    if dtype is None and isinstance(fill_value, (int, np.integer)) and not isinstance(fill_value, bool):
        dtype = np.int64
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    return _make(
        np.full(_size((size,) if isinstance(size, int) else tuple(size), "full"), fill_value, dtype=_dtype(dtype)),
        requires_grad,
        device,
    )


def randn(
    *size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Samples from N(0, 1) of shape ``size``."""
    return _make(resolve(generator).standard_normal(_size(size, "randn")).astype(_dtype(dtype)), requires_grad, device)


def rand(
    *size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Samples from U[0, 1) of shape ``size``."""
    return _make(resolve(generator).random(_size(size, "rand")).astype(_dtype(dtype)), requires_grad, device)


def randint(
    low: int,
    high: int | None = None,
    size: Any = None,
    generator: Any = None,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high) of shape ``size`` (``randint(high, size)`` from 0)."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError('randint() missing 1 required positional arguments: "size"')
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    arr = resolve(generator).integers(int(low), int(high), _size(tuple(size), "randint"))
    return _make(arr.astype(np.int64 if dtype is None else as_dtype(dtype)), requires_grad, device)


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, Tensor) else v


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Values from ``start`` up to (not including) ``end``; int64 for ints, the default float otherwise."""
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
        dtype = np.int64 if ints else get_default_dtype()
    d = as_dtype(dtype)
    if all(isinstance(v, (int, np.integer)) for v in (start, end, step)):
        return _make(np.arange(start, end, step, dtype=np.int64).astype(d), requires_grad, device)
    n = max(int(np.ceil((end - start) / step)), 0)
    return _make((start + np.arange(n, dtype=np.float64) * step).astype(d), requires_grad, device)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
    **kwargs: Any,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _make(np.linspace(_scalar(start), _scalar(end), steps).astype(_dtype(dtype)), requires_grad, device)


def eye(
    n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False, device: Any = None, **kwargs: Any
) -> Tensor:
    """The identity matrix (n, m)."""
    return _make(np.eye(n, m, dtype=_dtype(dtype)), requires_grad, device)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None, **kwargs: Any) -> Tensor:
    """A tensor of zeros with the shape of t (and its dtype unless one is given)."""
    return _make(np.zeros_like(t._data, dtype=dtype and as_dtype(dtype)), requires_grad, device)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None, **kwargs: Any) -> Tensor:
    """A tensor of ones with the shape of t (and its dtype unless one is given)."""
    return _make(np.ones_like(t._data, dtype=dtype and as_dtype(dtype)), requires_grad, device)


def full_like(
    t: Tensor, fill_value: float, dtype: Any = None, requires_grad: bool = False, device: Any = None, **kwargs: Any
) -> Tensor:
    """A tensor filled with fill_value, shaped like t (dtype of t unless one is given)."""
    return _make(np.full_like(t._data, fill_value, dtype=dtype and as_dtype(dtype)), requires_grad, device)


def randn_like(
    t: Tensor, generator: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None, **kwargs: Any
) -> Tensor:
    """Standard normal draws shaped like t, from generator (default: the global one)."""
    return randn(*t.shape, generator=generator, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device)


def rand_like(
    t: Tensor, generator: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None, **kwargs: Any
) -> Tensor:
    """Uniform [0, 1) draws shaped like t, from generator (default: the global one)."""
    return rand(*t.shape, generator=generator, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device)
