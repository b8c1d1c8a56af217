"""Forward hooks of ``Module``, as torch's: ``register_forward_pre_hook`` and ``register_forward_hook``.

A pre-hook ``hook(module, args)`` runs before ``forward`` and may return new args; a hook
``hook(module, args, output)`` runs after and may return a new output (with
``with_kwargs=True`` they also receive, and may replace, the keyword arguments). Each
registration returns a ``RemovableHandle``; ``handle.remove()`` unregisters it.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["RemovableHandle", "call_with_hooks"]


class RemovableHandle:
    """A handle that removes its hook from the dicts it was registered in (also as a context manager)."""

    _ids = itertools.count()

    def __init__(self, hooks_dict: OrderedDict, *extra_dicts: dict) -> None:
        self.hooks_dicts = (hooks_dict, *extra_dicts)
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        for d in self.hooks_dicts:
            if isinstance(d, set):
                d.discard(self.id)
            else:
                d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _register(
    module: Any, store: str, hook: Callable[..., Any], prepend: bool, flags: dict[str, bool]
) -> RemovableHandle:
    hooks = module.__dict__[store]
    sets = {name: module.__dict__[name] for name in flags}
    handle = RemovableHandle(hooks, *sets.values())
    hooks[handle.id] = hook
    for name, on in flags.items():
        if on:
            sets[name].add(handle.id)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_forward_pre_hook(
    module: Any, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
) -> RemovableHandle:
    return _register(module, "_forward_pre_hooks", hook, prepend, {"_forward_pre_hooks_with_kwargs": with_kwargs})


def register_forward_hook(
    module: Any,
    hook: Callable[..., Any],
    *,
    prepend: bool = False,
    with_kwargs: bool = False,
    always_call: bool = False,
) -> RemovableHandle:
    return _register(
        module,
        "_forward_hooks",
        hook,
        prepend,
        {"_forward_hooks_with_kwargs": with_kwargs, "_forward_hooks_always_called": always_call},
    )


def call_with_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """``module.forward(*args, **kwargs)`` between its pre-hooks and hooks (torch's order and rules).

    A hook registered with ``always_call=True`` runs even when a pre-hook, forward or an
    earlier hook raises; the original exception is then re-raised.
    """
    d = module.__dict__
    called: set[int] = set()
    try:
        for hook_id, hook in list(d["_forward_pre_hooks"].items()):
            if hook_id in d["_forward_pre_hooks_with_kwargs"]:
                result = hook(module, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got {result}."
                        )
                    args, kwargs = result
            else:
                result = hook(module, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        output = module.forward(*args, **kwargs)
        for hook_id, hook in list(d["_forward_hooks"].items()):
            called.add(hook_id)
            if hook_id in d["_forward_hooks_with_kwargs"]:
                result = hook(module, args, kwargs, output)
            else:
                result = hook(module, args, output)
            if result is not None:
                output = result
        return output
    except Exception:
        for hook_id, hook in list(d["_forward_hooks"].items()):
            if hook_id in d["_forward_hooks_always_called"] and hook_id not in called:
                try:
                    if hook_id in d["_forward_hooks_with_kwargs"]:
                        hook(module, args, kwargs, None)
                    else:
                        hook(module, args, None)
                except Exception:  # noqa: BLE001, S110 - the original error is the one to report
                    pass
        raise
