"""The allow-list of ``load(weights_only=True)``: the only globals a file may name, and what they become.

It is torch's list (``torch._weights_only_unpickler._get_allowed_globals``), each entry mapped
to deeprnn's counterpart: the tensor rebuild functions, storage classes, dtypes, ``torch.Size``,
``collections.OrderedDict``/``Counter`` and the few builtins protocol 2 needs. Nothing is
imported from a file's names: a global is looked up in this table or refused, with torch's
messages. ``add_safe_globals`` / ``safe_globals`` extend it for classes the user trusts, as
in torch; the modules ``sys``, ``os``, ``posix`` and ``nt`` can never be allowed.

Two builtins are narrower than torch's: ``_codecs.encode`` accepts only the latin-1 codec
(what protocol 2 uses for bytes, and no codec lookup can import anything), and
``bytearray`` only builds from a string or bytes (not ``bytearray(10**12)``).
"""

from __future__ import annotations

import warnings
from collections import Counter, OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd.device import device
from ..autograd.size import Size
from ..autograd.tensor import Tensor
from .dtypes import BFLOAT16, STORAGE_DTYPES, TORCH_DTYPES, UNSUPPORTED_DTYPES
from .rebuild import (
    ParameterType,
    StorageType,
    Unsupported,
    rebuild_from_type_v2,
    rebuild_parameter,
    rebuild_parameter_with_state,
    rebuild_tensor,
    rebuild_tensor_v2,
    rebuild_tensor_v3,
)

__all__ = [
    "BLOCKED_MODULES",
    "add_safe_globals",
    "allowed_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "safe_globals",
    "user_allowed_globals",
    "BF16_WARNING",
]

BLOCKED_MODULES = ("sys", "os", "posix", "nt")

BF16_WARNING = (
    "deeprnn.load: NumPy has no bfloat16, so bfloat16 tensors are loaded as float32 (exactly: every bfloat16 "
    "value is a float32 value)"
)


def _latin1_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for bytes: str -> latin-1 bytes, nothing else."""
    codec = encoding.lower().replace("-", "").replace("_", "") if isinstance(encoding, str) else None
    if not isinstance(obj, str) or codec not in ("latin1", "iso88591", "l1", "ascii"):
        raise RuntimeError(
            f"deeprnn.load: _codecs.encode is allowed only as pickle writes bytes (a str and 'latin1'), "
            f"got ({type(obj).__name__}, {encoding!r})"
        )
    return obj.encode(encoding, errors)


def _bytearray(source: Any = b"", encoding: str = "latin-1", errors: str = "strict") -> bytearray:
    """``bytearray`` from the (str, 'latin-1') or bytes that pickle writes; never from a size."""
    if isinstance(source, str):
        return bytearray(_latin1_encode(source, encoding, errors))
    if isinstance(source, (bytes, bytearray)):
        return bytearray(source)
    raise RuntimeError(f"deeprnn.load: bytearray is allowed only from str or bytes, got {type(source).__name__}")


def _device(kind: Any, index: Any = None) -> device:
    """``torch.device(...)`` in a file becomes a ``deeprnn.device`` (one with a bad name is refused)."""
    if not isinstance(kind, str) or not (index is None or (isinstance(index, int) and not isinstance(index, bool))):
        raise RuntimeError(f"deeprnn.load: bad torch.device({kind!r}, {index!r}) in the file")
    return device(kind, index)


class _BFloat16Dtype(str):
    """``torch.bfloat16``: loaded as float32 (see BF16_WARNING)."""


def _dtype_global(name: str, dtype: np.dtype | str) -> Any:
    if isinstance(dtype, str) and dtype == BFLOAT16:
        return _BFloat16Dtype(BFLOAT16)
    return dtype


_ALLOWED: dict[str, Any] = {
    "collections.OrderedDict": OrderedDict,
    "collections.Counter": Counter,
    "torch.nn.parameter.Parameter": ParameterType,
    "torch.Size": Size,
    "torch.Tensor": Tensor,
    "torch.device": _device,
    "_codecs.encode": _latin1_encode,
    "builtins.bytearray": _bytearray,
    "builtins.set": set,
    "builtins.complex": complex,
    "torch._utils._rebuild_tensor": rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": rebuild_tensor_v2,
    "torch._utils._rebuild_tensor_v3": rebuild_tensor_v3,
    "torch._utils._rebuild_parameter": rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": rebuild_parameter_with_state,
    "torch._tensor._rebuild_from_type_v2": rebuild_from_type_v2,
    "torch.storage.UntypedStorage": StorageType("UntypedStorage", np.dtype(np.uint8)),
    **{f"torch.{n}": StorageType(n, d) for n, d in STORAGE_DTYPES.items()},
    **{f"torch.{n}": _dtype_global(n, d) for n, d in TORCH_DTYPES.items()},
    **{f"torch.{n}": Unsupported(f"torch.{n}") for n in sorted(UNSUPPORTED_DTYPES)},
    **{
        f"torch._utils.{n}": Unsupported(f"torch._utils.{n} (a quantised, sparse, nested or device tensor)")
        for n in (
            "_rebuild_qtensor",
            "_rebuild_sparse_tensor",
            "_rebuild_meta_tensor_no_storage",
            "_rebuild_nested_tensor",
            "_rebuild_wrapper_subclass",
            "_rebuild_device_tensor_from_numpy",
            "_rebuild_device_tensor_from_cpu_tensor",
        )
    },
    "torch.serialization._get_layout": Unsupported("torch.serialization._get_layout (a sparse layout)"),
}


def allowed_globals() -> dict[str, Any]:
    """torch's default allow-list, as deeprnn objects (full dotted name -> object)."""
    return _ALLOWED


_user_safe: set[Any] = set()


def add_safe_globals(safe_globals: Iterable[Any]) -> None:
    """Allow these globals in ``load(weights_only=True)``: classes or functions, or (object, 'module.name').

    A class named in a file is looked up as ``{__module__}.{__qualname__}`` (or the given name);
    ``load`` may then create it and set its state. Only allow what you trust.
    """
    global _user_safe
    _user_safe = _user_safe.union(set(safe_globals))


def get_safe_globals() -> list[Any]:
    """The globals added with ``add_safe_globals``."""
    return list(_user_safe)


def clear_safe_globals() -> None:
    """Forget every global added with ``add_safe_globals``."""
    global _user_safe
    _user_safe = set()


def _remove_safe_globals(globals_to_remove: Iterable[Any]) -> None:
    global _user_safe
    _user_safe = _user_safe - set(globals_to_remove)


class safe_globals:  # noqa: N801 - torch's name
    """``with safe_globals([MyClass]): load(f)``: allow these globals inside the block only."""

    def __init__(self, safe_globals: list[Any]) -> None:
        self.safe_globals = safe_globals

    def __enter__(self) -> None:
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc: Any) -> None:
        _remove_safe_globals(self.safe_globals)


def user_allowed_globals() -> dict[str, Any]:
    """The user's safe globals by full name (torch's ``_get_user_allowed_globals``)."""
    out: dict[str, Any] = {}
    for f in _user_safe:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise ValueError(
                    f"Expected tuple of length 2 (global, str of callable full path), but got tuple of length: {len(f)}"
                )
            if type(f[1]) is not str:
                raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: {type(f[1])}")
            out[f[1]] = f[0]
        else:
            out[f"{f.__module__}.{f.__qualname__}"] = f
    return out


def warn_bfloat16() -> None:
    warnings.warn(BF16_WARNING, UserWarning, stacklevel=4)
