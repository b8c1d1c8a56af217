"""NumPy's argument names that torch also accepts: ``axis`` for ``dim`` and ``keepdims`` for ``keepdim``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["dim_aliases"]

F = TypeVar("F", bound=Callable[..., Any])


def dim_aliases(fn: F) -> F:
    """Let ``fn(x, axis=1, keepdims=True)`` mean ``fn(x, dim=1, keepdim=True)``, as torch does."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if "axis" in kwargs:
                if "dim" in kwargs:
                    raise TypeError(f"{fn.__name__}() got both 'dim' and its alias 'axis'")
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
