"""``save`` and ``load``: torch's file format, read and written without torch.

``save(obj, f)`` writes the zip archive ``torch.save`` writes, so ``torch.load(f)`` (weights
only) reads deeprnn's state_dicts, tensors and containers of them; ``load(f)`` reads what
``torch.save`` wrote, zip or legacy format. Saving to a path is atomic.

``load`` follows torch's default, ``weights_only=True``: only tensors, numbers, strings,
containers and the globals allowed by ``add_safe_globals`` can come out of a file, and
nothing in it runs. ``weights_only=False`` unpickles anything, which runs whatever code the
file names: as with ``torch.load``, use it only for files you made or trust.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import warnings
from typing import Any, BinaryIO

from ..fileio import atomic_write
from .archive import ArchiveReader, serialization_id, write_archive
from .loading import load_legacy, load_zip
from .pickler import dumps
from .unpickler import UNSAFE_MESSAGE, weights_only_message

__all__ = ["save", "load", "DEFAULT_PROTOCOL", "get_unsafe_globals_in_checkpoint"]

DEFAULT_PROTOCOL = 2
_ZIP_MAGIC = b"PK\x03\x04"


def _archive_name(path: str) -> str:
    """torch's top-level folder for a path: the file name up to its last dot ('model.pt' -> 'model')."""
    base = os.path.basename(path)
    stem = base[: base.rfind(".")] if "." in base else base
    return stem if stem and stem.isascii() and "/" not in stem else "archive"


def _records(obj: Any, protocol: int) -> list[tuple[str, Any]]:
    data_pkl, storages = dumps(obj, protocol)
    records: list[tuple[str, Any]] = [
        ("data.pkl", data_pkl),
        (".format_version", b"1"),
        (".storage_alignment", b"64"),
        ("byteorder", sys.byteorder.encode("ascii")),
    ]
    records += [(f"data/{key}", data) for key, data in storages]
    records += [("version", b"3\n"), (".data/serialization_id", serialization_id().encode("ascii"))]
    return records


def save(
    obj: Any,
    f: str | os.PathLike[str] | BinaryIO,
    pickle_module: Any = pickle,
    pickle_protocol: int = DEFAULT_PROTOCOL,
    _use_new_zipfile_serialization: bool = True,
    _disable_byteorder_record: bool = False,
) -> None:
    """Save ``obj`` to ``f`` (a path, written atomically, or a binary file object) in torch's zip format.

    Tensors keep their dtype, shape, strides and storage sharing (views of one array are
    views of one storage in the file); ``requires_grad`` and Parameters are kept. NumPy
    arrays are written as tensors (torch's format has no other array) and load back as
    tensors; NumPy scalars as Python numbers.
    """
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'write' attribute")
    if pickle_module is not pickle:
        raise ValueError("deeprnn.save: only the standard pickle module is supported as pickle_module")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError(
            "deeprnn.save writes only the zip format (torch >= 1.6); the legacy format can be read, not written"
        )
    records = _records(obj, pickle_protocol)
    if _disable_byteorder_record:
        records = [r for r in records if r[0] != "byteorder"]
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {parent} does not exist.")
        atomic_write(path, lambda fh: write_archive(fh, _archive_name(path), records))
    else:
        write_archive(f, "archive", records)


def _open_for_reading(f: Any) -> tuple[BinaryIO, bool, str]:
    if isinstance(f, (str, os.PathLike)):
        return open(os.fspath(f), "rb"), True, repr(os.fspath(f))  # noqa: SIM115 - closed by load
    if not hasattr(f, "read"):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'read' attribute: {f!r}")
    try:
        f.seek(f.tell())
    except (io.UnsupportedOperation, AttributeError) as err:
        if "seek" in str(err) or "tell" in str(err):
            raise type(err)(
                str(err) + ". You can only torch.load from a file that is seekable."
                " Please pre-load the data into a buffer like io.BytesIO and try to load from it instead."
            ) from None
        raise
    return f, False, "the file"


def load(
    f: str | os.PathLike[str] | BinaryIO,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Load an object that ``torch.save`` (or ``deeprnn.save``) wrote, into deeprnn tensors on the CPU.

    ``map_location``: None, 'cpu', a device, a dict {saved location: location} or a callable
    ``(storage, location) -> storage or None``, as in torch; storages saved on a GPU need it
    to point at the CPU. ``weights_only`` defaults to True (torch 2.6+). ``mmap`` is accepted;
    the data is read into memory. Corrupt or hostile files raise an error before any code runs.
    """
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if pickle_module not in (None, pickle):
        raise ValueError("deeprnn.load: only the standard pickle module is supported as pickle_module")
    if pickle_load_args and weights_only:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", UserWarning, stacklevel=2)
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if set(pickle_load_args) - {"errors", "fix_imports"}:
        raise TypeError(f"load() got unexpected keyword arguments {sorted(pickle_load_args)}")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    fh, owned, what = _open_for_reading(f)
    try:
        start = fh.tell()
        head = fh.read(512)
        size = fh.seek(0, io.SEEK_END) - start
        fh.seek(start)
        try:
            if head.startswith(_ZIP_MAGIC):
                return load_zip(ArchiveReader(fh, size, what), map_location, weights_only, encoding)
            if len(head) >= 262 and head[257:262] == b"ustar":
                raise RuntimeError(
                    f"deeprnn.load: {what} is in the legacy .tar format of torch < 0.4, which deeprnn does not read. "
                    + UNSAFE_MESSAGE
                )
            if not head.startswith(b"\x80"):
                raise pickle.UnpicklingError(
                    f"deeprnn.load: {what} is not a file torch.save writes: it starts with {head[:8]!r}, "
                    "neither a zip archive (PK\\x03\\x04) nor a legacy torch file (a pickle)"
                )
            return load_legacy(fh, size, map_location, weights_only, encoding, what)
        except pickle.UnpicklingError as err:
            if weights_only and not str(err).startswith("deeprnn.load:"):
                raise pickle.UnpicklingError(weights_only_message(str(err))) from None
            raise
        except EOFError:
            raise pickle.UnpicklingError(f"deeprnn.load: {what} ends in the middle of a pickle (truncated)") from None
    finally:
        if owned:
            fh.close()


def get_unsafe_globals_in_checkpoint(f: str | os.PathLike[str] | BinaryIO) -> list[str]:
    """The globals a checkpoint names that ``load(weights_only=True)`` would refuse (without loading it)."""
    import pickletools

    from .allowlist import allowed_globals, user_allowed_globals

    safe = set(allowed_globals()) | set(user_allowed_globals())
    fh, owned, what = _open_for_reading(f)
    try:
        start = fh.tell()
        head = fh.read(4)
        size = fh.seek(0, io.SEEK_END) - start
        fh.seek(start)
        if head != _ZIP_MAGIC:
            raise ValueError("Expected input to be a checkpoint returned by torch.save")
        data = ArchiveReader(fh, size, what).read("data.pkl")
    finally:
        if owned:
            fh.close()
    found = set()
    for opcode, arg, _ in pickletools.genops(bytes(data)):
        if opcode.name in ("GLOBAL", "INST"):
            module, name = arg.split(" ", 1)
            module = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)
            found.add(f"{module}.{name}")
    return sorted(found - safe)
