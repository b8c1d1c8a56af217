"""Version counters: how backward knows that a value it needs was overwritten in place.

Every tensor has a ``VersionCounter``, shared by all tensors on the same memory (views and
``detach()``; ``.data`` gets a counter of its own, as in torch). Every in-place write bumps
it. An operation whose backward reads a tensor's values records that tensor's version when
it runs (a *saved* tensor); backward compares, and raises torch's error if the tensor was
changed in between, instead of computing a gradient from the new values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .dtypes import torch_type_name

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["VersionCounter", "SavedEntry", "saved_entry", "saved_output", "check_saved"]


class VersionCounter:
    """The number of in-place writes to one piece of memory (``tensor._version``)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


# (counter, version when saved, shape, dtype, name of the node that produced it or None, output index)
SavedEntry = tuple[VersionCounter, int, tuple, Any, "str | None", int]


def saved_entry(t: Tensor) -> SavedEntry:
    """What backward needs to check that the input ``t`` is unchanged (and to name it if not)."""
    fn = t._grad_fn
    return (t._vc, t._vc.value, t._data.shape, t._data.dtype, None if fn is None else fn._name, t._output_nr)


def saved_output(t: Tensor, node_name: str, output_nr: int) -> SavedEntry:
    """The entry for an output that its own node's backward reads (tanh, exp, sigmoid, ...)."""
    return (t._vc, t._vc.value, t._data.shape, t._data.dtype, node_name, output_nr)


def _short(node_name: str) -> str:
    """The node name as torch's message spells it: 'TanhBackward0' -> 'Tanh'."""
    return re.sub(r"Backward\d*$", "", node_name)


def check_saved(saved: Sequence[SavedEntry]) -> None:
    """Raise torch's RuntimeError if a saved tensor was modified in place since it was saved."""
    for vc, version, shape, dtype, fn_name, output_nr in saved:
        if vc.value != version:
            which = f", which is output {output_nr} of {_short(fn_name)}," if fn_name is not None else ""
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [torch.{torch_type_name(dtype)}Tensor {list(shape)}]{which} is at version "
                f"{vc.value}; expected version {version} instead. Hint: enable anomaly detection to find "
                "the operation that failed to compute its gradient, with "
                "torch.autograd.set_detect_anomaly(True, check_nan=False)."
            )
