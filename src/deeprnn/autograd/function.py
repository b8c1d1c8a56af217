"""Recording an operation: wrap its result in a Tensor and attach its backward node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .grad_mode import is_grad_enabled
from .node import BackwardFn, Node

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["record", "record_many", "unbroadcast"]


def _wants_grad(inputs: Sequence[Tensor | None]) -> bool:
    return is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs)


def record(name: str, data: np.ndarray, inputs: Sequence[Tensor | None], backward_fn: BackwardFn) -> Tensor:
    """Wrap ``data`` as the result of an operation on ``inputs``.

    When grad mode is on and an input requires grad, the result gets a ``grad_fn`` node
    whose ``backward_fn(grad_out)`` returns one gradient (or None) per input.
    """
    from .tensor import Tensor

    if not _wants_grad(inputs):
        return Tensor._wrap(data)
    out = Tensor._wrap(data, requires_grad=True)
    kept = [t if (t is not None and t.requires_grad) else None for t in inputs]
    out.grad_fn = Node(name, kept, backward_fn, [(data.shape, data.dtype)])
    return out


def record_many(
    name: str, datas: Sequence[np.ndarray], inputs: Sequence[Tensor | None], backward_fn: BackwardFn
) -> list[Tensor]:
    """Like ``record`` for an operation with several outputs (one node, as PyTorch's RNN)."""
    from .tensor import Tensor

    if not _wants_grad(inputs):
        return [Tensor._wrap(d) for d in datas]
    kept = [t if (t is not None and t.requires_grad) else None for t in inputs]
    node = Node(name, kept, backward_fn, [(d.shape, d.dtype) for d in datas])
    outs = []
    for k, d in enumerate(datas):
        t = Tensor._wrap(d, requires_grad=True)
        t.grad_fn = node
        t._output_nr = k
        outs.append(t)
    return outs


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast gradient back down to an operand's ``shape``."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)
