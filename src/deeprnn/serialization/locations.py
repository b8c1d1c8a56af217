"""Where loaded storages go: ``map_location`` as in torch, on a machine that has only a CPU.

Every storage is read into CPU memory. A storage saved on another device ('cuda:0') loads
only when ``map_location`` sends it to the CPU, with torch's error otherwise, exactly as
torch behaves on a CPU-only machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .rebuild import LoadedStorage

__all__ = ["resolver"]


def _device_error(location: str) -> RuntimeError:
    backend = location.split(":", 1)[0]
    if backend in ("cuda", "mps", "xpu", "hpu", "mtia", "privateuseone"):
        return RuntimeError(
            f"Attempting to deserialize object on a {backend.upper()} device but torch.{backend}.is_available() "
            "is False. If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU."
        )
    return RuntimeError(
        f"don't know how to restore data location of torch.storage.UntypedStorage (tagged with {location})"
    )


def _on_cpu(storage: LoadedStorage, location: str) -> LoadedStorage:
    if location != "cpu" and not location.startswith("cpu:"):
        raise _device_error(location)
    storage.location = "cpu"
    return storage


def _as_location(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii")
    if isinstance(value, str):
        return value
    if hasattr(value, "type"):  # a device object
        return str(value)
    raise TypeError(f"map_location must be a str, a device, a dict or a callable, got {type(value).__name__}")


def resolver(map_location: Any) -> Callable[[LoadedStorage, str], LoadedStorage]:
    """``restore(storage, saved_location) -> storage`` for torch's kinds of ``map_location``."""
    if map_location is None:
        return _on_cpu
    if isinstance(map_location, dict):
        table = {k: _as_location(v) for k, v in map_location.items()}
        return lambda storage, location: _on_cpu(storage, table.get(location, location))
    if isinstance(map_location, (str, bytes)) or hasattr(map_location, "type"):
        target = _as_location(map_location)
        return lambda storage, location: _on_cpu(storage, target)
    if callable(map_location):

        def restore(storage: LoadedStorage, location: str) -> LoadedStorage:
            result = map_location(storage, location)
            if result is None:
                return _on_cpu(storage, location)
            if not isinstance(result, LoadedStorage):
                raise TypeError(
                    f"map_location returned {type(result).__name__}; deeprnn keeps storages on the CPU, "
                    "so it should return the storage it was given (or None)"
                )
            return result

        return restore
    raise TypeError(f"map_location must be a str, a device, a dict or a callable, got {type(map_location).__name__}")
