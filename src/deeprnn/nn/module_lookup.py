"""Two parts of ``Module``: lookup by dotted path (get_submodule, get_parameter, ...) and forward hooks.

They are mixins of ``Module`` (kept apart so that module.py stays about its bookkeeping).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import hooks
from .parameter import Parameter

__all__ = ["PathLookup", "ForwardHooks"]


class PathLookup:
    """``get_submodule('a.b')``, ``set_submodule``, ``get_parameter('a.b.weight')``, ``get_buffer``."""

    def get_submodule(self, target: str) -> Any:
        """The sub-module at a dotted path such as ``'encoder.rnn'`` ('' is this module)."""
        if target == "":
            return self
        mod: Any = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, PathLookup):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Any, strict: bool = False) -> None:
        """Replace (or, unless ``strict``, add) the sub-module at a dotted path."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        atoms = target.split(".")
        if not isinstance(module, PathLookup):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent = self if len(atoms) == 1 else self.get_submodule(".".join(atoms[:-1]))
        if strict and not hasattr(parent, atoms[-1]):
            raise AttributeError(f"{type(parent).__name__} has no attribute `{atoms[-1]}`")
        if hasattr(parent, atoms[-1]) and not isinstance(getattr(parent, atoms[-1]), PathLookup):
            raise AttributeError(f"`{atoms[-1]}` is not an nn.Module")
        setattr(parent, atoms[-1], module)

    def get_parameter(self, target: str) -> Any:
        """The parameter at a dotted path such as ``'rnn.weight_ih_l0'``."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Any:
        """The buffer at a dotted path such as ``'bn.running_mean'``."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(mod, name)


class ForwardHooks:
    """``register_forward_pre_hook`` and ``register_forward_hook`` (see ``hooks.py``)."""

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> hooks.RemovableHandle:
        """Run ``hook(module, args)`` before every forward; it may return new args."""
        return hooks.register_forward_pre_hook(self, hook, prepend=prepend, with_kwargs=with_kwargs)

    def register_forward_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> hooks.RemovableHandle:
        """Run ``hook(module, args, output)`` after every forward; it may return a new output."""
        return hooks.register_forward_hook(
            self, hook, prepend=prepend, with_kwargs=with_kwargs, always_call=always_call
        )
