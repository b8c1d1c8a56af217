"""Unpicklers of ``load``: the weights-only one (an allow-list ``find_class``) and the full one.

The weights-only unpickler resolves every global through ``find_class`` (GLOBAL, STACK_GLOBAL,
INST, OBJ and the copyreg extension codes all go through it in CPython), and ``find_class``
answers only from the allow-list (``allowlist.py``). So a file can call nothing but those
functions and build nothing but those classes: a ``__reduce__`` that names ``os.system``
or ``builtins.eval`` stops at ``find_class`` with torch's error, before anything runs.

The full unpickler (``weights_only=False``) imports what the file names, like ``pickle``:
it runs code chosen by whoever wrote the file. torch's tensor names are mapped to deeprnn's;
other torch classes (a whole ``torch.nn.Module`` pickled by torch) cannot be rebuilt
without torch, and say so.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from typing import Any

from .allowlist import BLOCKED_MODULES, allowed_globals, user_allowed_globals

__all__ = ["WeightsUnpickler", "FullUnpickler", "UNSAFE_MESSAGE", "weights_only_message"]

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, "
    "but it can result in arbitrary code execution. Do it only if you got the file from a "
    "trusted source."
)
DOCS_MESSAGE = (
    "\n\nCheck the documentation of torch.load to learn more about types accepted by default with "
    "weights_only https://pytorch.org/docs/stable/generated/torch.load.html."
)

# Python 2 names that protocol-2 pickles use (the part of torch's IMPORT/NAME_MAPPING they need)
_IMPORT_MAPPING = {"__builtin__": "builtins", "copy_reg": "copyreg"}
_NAME_MAPPING = {
    ("__builtin__", "unicode"): ("builtins", "str"),
    ("__builtin__", "long"): ("builtins", "int"),
}


def _py3_name(module: str, name: str) -> tuple[str, str]:
    if (module, name) in _NAME_MAPPING:
        return _NAME_MAPPING[(module, name)]
    return _IMPORT_MAPPING.get(module, module), name


def weights_only_message(message: str) -> str:
    """torch's wrapping of a weights-only failure (``torch.load``'s ``_get_wo_message``)."""
    if re.search(r"GLOBAL (\S+) was not an allowed global by default.", message) is not None:
        return (
            "Weights only load failed. This file can still be loaded, to do so you have two options, "
            "\033[1mdo those steps only if you trust the source of the checkpoint\033[0m. "
            f"\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` please check "
            "the recommended steps in the following error message.\n\tWeightsUnpickler error: " + message + DOCS_MESSAGE
        )
    updated = f"Weights only load failed. {UNSAFE_MESSAGE}\n"
    if re.search(r"whose module (\S+) is blocked", message) is None:
        updated += (
            "Please file an issue with the following so that we can make "
            "`weights_only=True` compatible with your use case: WeightsUnpickler error: "
        )
    return updated + "\n\n" + message + DOCS_MESSAGE


def _unsupported_global(full_path: str) -> pickle.UnpicklingError:
    if full_path.startswith("builtins"):  # torch prints builtins.eval as eval
        rest = full_path[len("builtins") :]
        full_path = rest[1:] if rest.startswith(".") else "builtins" + rest
    return pickle.UnpicklingError(
        f"Unsupported global: GLOBAL {full_path} was not an allowed global by default. "
        f"Please use `torch.serialization.add_safe_globals([{full_path}])` or the "
        f"`torch.serialization.safe_globals([{full_path}])` context manager to allowlist this global "
        "if you trust this class/function."
    )


class WeightsUnpickler(pickle.Unpickler):
    """Unpickle with torch's weights-only allow-list; storages come from ``persistent_load``."""

    def __init__(self, file: Any, persistent_load: Callable[[Any], Any], encoding: str = "utf-8") -> None:
        super().__init__(file, encoding=encoding)
        self._load_storage = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        module, name = _py3_name(module, name)
        full_path = f"{module}.{name}"
        if module in BLOCKED_MODULES:
            raise pickle.UnpicklingError(
                f"Trying to load unsupported GLOBAL {full_path} whose module {module} is blocked."
            )
        allowed = allowed_globals()
        if full_path in allowed:
            return allowed[full_path]
        user = user_allowed_globals()
        if full_path in user:
            return user[full_path]
        raise _unsupported_global(full_path)

    def persistent_load(self, pid: Any) -> Any:
        if type(pid) is not tuple and type(pid) is not int:
            raise pickle.UnpicklingError(f"persistent_load id must be tuple or int, but got {type(pid)}")
        if type(pid) is tuple and len(pid) > 0 and _ascii(pid[0]) != "storage":
            raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but got {type(pid[0])}")
        return self._load_storage(pid)


class FullUnpickler(pickle.Unpickler):
    """Unpickle anything (``weights_only=False``): imports and calls what the file names."""

    def __init__(self, file: Any, persistent_load: Callable[[Any], Any], encoding: str = "utf-8") -> None:
        super().__init__(file, encoding=encoding)
        self._load_storage = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        module, name = _py3_name(module, name)
        full_path = f"{module}.{name}"
        allowed = allowed_globals()
        if full_path in allowed:
            return allowed[full_path]
        if module == "torch" or module.startswith("torch."):
            raise pickle.UnpicklingError(
                f"deeprnn.load: the file holds a {full_path}, a torch object that deeprnn cannot rebuild "
                "without torch; save its state_dict() instead (torch.save(model.state_dict(), f))"
            )
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        return self._load_storage(pid)


def _ascii(value: Any) -> Any:
    return value.decode("ascii") if isinstance(value, bytes) else value
