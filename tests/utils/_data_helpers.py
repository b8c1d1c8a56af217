"""Shared helpers of the torch.utils.data tests: the same code in deeprnn and torch, compared as plain data."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import deeprnn

LIBS = [torch, deeprnn]


def plain(x: Any) -> Any:
    """A batch as comparable plain data: each tensor becomes ('tensor', dtype name, shape, values)."""
    if isinstance(x, (torch.Tensor, deeprnn.Tensor)):
        arr = x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x.detach().numpy())
        return ("tensor", arr.dtype.name, arr.shape, arr.tolist())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, tuple(plain(v) for v in x))
    if isinstance(x, tuple):
        return ("tuple", tuple(plain(v) for v in x))
    if isinstance(x, list):
        return ("list", [plain(v) for v in x])
    if isinstance(x, dict):
        return (type(x).__name__, {k: plain(v) for k, v in x.items()})
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.name, x.tolist())
    return (type(x).__name__, x)


def data(lib: Any) -> Any:
    """``lib.utils.data``."""
    return lib.utils.data


def same_in_both(make: Any) -> Any:
    """Run ``make(lib)`` in torch and deeprnn; assert equal plain results; return them."""
    ref, ours = plain(make(torch)), plain(make(deeprnn))
    assert ours == ref
    return ours


def same_error(call: Any) -> tuple[type, str]:
    """Both libraries raise the same exception class with the same message."""
    caught = {}
    for lib in LIBS:
        try:
            call(lib)
        except Exception as err:  # noqa: BLE001 - compared below
            caught[lib] = err
        else:
            raise AssertionError(f"{lib.__name__} raised nothing")
    ours, ref = caught[deeprnn], caught[torch]
    assert type(ours) is type(ref), f"{type(ours).__name__}: {ours} != {type(ref).__name__}: {ref}"
    assert str(ours) == str(ref)
    return type(ours), str(ours)
