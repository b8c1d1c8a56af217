"""Helpers of the file-format tests: round trips through bytes, and hand-made (hostile) archives."""

from __future__ import annotations

import io
import struct
import zipfile
from typing import Any

import numpy as np
import torch

import deeprnn


def saved_by_torch(obj: Any, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, **kwargs)
    return buf.getvalue()


def saved_by_deeprnn(obj: Any) -> bytes:
    buf = io.BytesIO()
    deeprnn.save(obj, buf)
    return buf.getvalue()


def torch_loads(data: bytes, **kwargs: Any) -> Any:
    return torch.load(io.BytesIO(data), weights_only=True, **kwargs)


def deeprnn_loads(data: bytes, **kwargs: Any) -> Any:
    return deeprnn.load(io.BytesIO(data), **kwargs)


def archive(pkl: bytes, storages: dict[str, bytes] | None = None, prefix: str = "archive", **extra: bytes) -> bytes:
    """A zip laid out as torch's, from raw records (written with zipfile, not with deeprnn's writer)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{prefix}/data.pkl", pkl)
        zf.writestr(f"{prefix}/byteorder", extra.pop("byteorder", b"little"))
        for key, data in (storages or {}).items():
            zf.writestr(f"{prefix}/data/{key}", data)
        for name, data in extra.items():
            zf.writestr(f"{prefix}/{name}", data)
        zf.writestr(f"{prefix}/version", b"3\n")
    return buf.getvalue()


def data_pkl(data: bytes) -> bytes:
    """The data.pkl record of a torch archive."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl")))


def records(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n.split("/", 1)[1]: zf.read(n) for n in zf.namelist()}


def as_numpy(t: Any) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, (torch.Tensor, deeprnn.Tensor)) else np.asarray(t)


def error_of(call: Any) -> BaseException:
    try:
        call()
    except Exception as err:  # noqa: BLE001 - returned for inspection
        return err
    raise AssertionError("nothing was raised")


def _int(x: int) -> bytes:
    return b"J" + struct.pack("<i", x)  # BININT


def _str(s: str) -> bytes:
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b  # BINUNICODE


def tensor_pkl(
    storage_class: str = "FloatStorage",
    key: str = "0",
    numel: int = 2,
    offset: int = 0,
    size: tuple = (2,),
    stride: tuple = (1,),
    location: str = "cpu",
) -> bytes:
    """A hand-written protocol-2 data.pkl holding one tensor, with every field chosen by the test."""
    tup = lambda xs: b"(" + b"".join(_int(x) for x in xs) + b"t"  # noqa: E731
    return (
        b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n("
        + b"("
        + _str("storage")
        + b"ctorch\n"
        + storage_class.encode()
        + b"\n"
        + _str(key)
        + _str(location)
        + _int(numel)
        + b"tQ"
        + _int(offset)
        + tup(size)
        + tup(stride)
        + b"\x89ccollections\nOrderedDict\n)RtR."
    )
