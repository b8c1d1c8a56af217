"""Recording an operation: wrap its result in a Tensor and attach its backward node.

An operation says which tensors its backward reads (``saved``): their versions are checked
at backward, so an in-place write in between raises torch's error instead of giving a
wrong gradient. An operation whose result is a NumPy view of an input says so
(``view_of``): the result then shares that input's version counter, as torch's views do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .grad_mode import is_grad_enabled
from .node import BackwardFn, Edge, Node
from .tensor import Tensor
from .version import saved_entry, saved_output
from .views import NO_GRAD_VIEW, make_view, sync_view

__all__ = ["record", "record_many", "unbroadcast", "edge_of"]


def edge_of(t: Tensor | None) -> Edge | None:
    """Where the gradient of ``t`` goes (None if it needs none), as of now."""
    if t is None:
        return None
    if t._base is not None and t._view_version != t._vc.value and t._view_version != NO_GRAD_VIEW:
        sync_view(t)
    if not t._requires_grad:
        return None
    fn = t._grad_fn
    return (fn, t._output_nr, None) if fn is not None else (None, 0, t)


def _saved(inputs: Sequence[Tensor | None], saved: Sequence[Tensor | None] | None) -> list:
    """Version entries of the tensors backward reads (when not declared: every tensor input, to be safe)."""
    return [saved_entry(t) for t in (inputs if saved is None else saved) if t is not None]


def record(
    name: str,
    data: np.ndarray,
    inputs: Sequence[Tensor | None],
    backward_fn: BackwardFn,
    *,
    saved: Sequence[Tensor | None] | None = None,
    save_output: bool = False,
    view_of: Tensor | None = None,
) -> Tensor:
    """Wrap ``data`` as the result of an operation on ``inputs``.

    When grad mode is on and an input requires grad, the result gets a ``grad_fn`` node
    whose ``backward_fn(grad_out)`` returns one gradient (or None) per input.
    ``saved``: the tensors (None entries ignored) whose values backward reads; when not
    given, every tensor input. ``save_output``: backward reads the result itself.
    ``view_of``: ``data`` is a view of that tensor's memory.
    """
    out = Tensor._wrap(data)
    if view_of is not None:
        make_view(out, view_of)
    if not is_grad_enabled():
        return out
    edges = [edge_of(t) for t in inputs]
    if not any(edges):
        return out
    entries = _saved(inputs, saved)
    if save_output:
        entries.append(saved_output(out, name, 0))
    out._requires_grad = True
    out._grad_fn = Node(name, inputs, edges, backward_fn, [(data.shape, data.dtype)], entries)
    return out


def record_many(
    name: str,
    datas: Sequence[np.ndarray],
    inputs: Sequence[Tensor | None],
    backward_fn: BackwardFn,
    *,
    saved: Sequence[Tensor | None] | None = None,
    save_outputs: Sequence[int] = (),
    view_of: Tensor | None = None,
) -> list[Tensor]:
    """Like ``record`` for an operation with several outputs (one node, as PyTorch's RNN).

    ``save_outputs``: indices of the outputs that backward reads; ``view_of``: every output is
    a view of that tensor (split, unbind).
    """
    outs = [Tensor._wrap(d) for d in datas]
    if view_of is not None:
        for t in outs:
            make_view(t, view_of)
    if not is_grad_enabled():
        return outs
    edges = [edge_of(t) for t in inputs]
    if not any(edges):
        return outs
    entries = _saved(inputs, saved)
    entries.extend(saved_output(outs[k], name, k) for k in save_outputs)
    node = Node(name, inputs, edges, backward_fn, [(d.shape, d.dtype) for d in datas], entries)
    for k, t in enumerate(outs):
        t._requires_grad = True
        t._grad_fn = node
        t._output_nr = k
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
