"""In-place operations in the graph, with torch's rules.

``begin(t, *others)`` runs before the write and raises torch's errors (a leaf that requires
grad, a view of one, a view made under no_grad, memory that several elements share). It
says whether the write must be recorded. ``finish(t, ...)`` runs after the write: it bumps
the version counter and, when recording, *rebases* t: its grad_fn becomes the in-place
op's node, whose first edge is t's old place in the graph (so ``loss += l`` and
``x[t] = h`` differentiate as in torch). A write through a view rebases the view's base
onto a ``CopySlices`` node (torch's name) that routes the view's part of the base's gradient
through the op, and the view becomes an ``AsStridedBackward0`` of the new base.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .function import edge_of
from .grad_mode import is_grad_enabled
from .node import Node
from .version import saved_entry
from .views import NO_GRAD_VIEW, lazy_positions, view_node

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["begin", "finish", "OVERLAP_MESSAGE"]

OVERLAP_MESSAGE = (
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation."
)
NO_GRAD_VIEW_MESSAGE = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that "
    "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both "
    "the view and the inplace either both inside the no_grad block (if you don't want the inplace to be "
    "tracked) or both outside (if you want the inplace to be tracked)."
)


def _requires(o: Any) -> bool:
    return getattr(o, "requires_grad", False) is True


def begin(t: Tensor, *others: Any) -> bool:
    """Check that ``t`` may be written in place; True if the write must be recorded in the graph."""
    if not t._data.flags.writeable:
        raise RuntimeError(OVERLAP_MESSAGE)
    if not is_grad_enabled():
        return False
    t._sync()
    base = t._base
    if base is None:
        if t._requires_grad and t._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        return t._requires_grad or any(_requires(o) for o in others)
    if base._requires_grad and base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    track = base._requires_grad or any(_requires(o) for o in others)
    if track and t._view_version == NO_GRAD_VIEW:
        raise RuntimeError(NO_GRAD_VIEW_MESSAGE)
    return track


def finish(
    t: Tensor,
    track: bool,
    name: str = "",
    others: Sequence[Tensor | None] = (),
    backward_fn: Callable[..., Sequence[Any]] | None = None,
    saved: Sequence[Tensor | None] = (),
    save_self: bool = False,
) -> Tensor:
    """After an in-place write to t: bump its version; when ``track``, record the op and rebase t.

    ``backward_fn(g)`` maps the gradient of the new t to (gradient of the old t, one per
    ``others``); ``saved`` are the others whose values it reads; ``save_self``: it reads t's
    new values (tanh_, relu_, ...).
    """
    if not track:
        t._vc.value += 1
        return t
    edges = [edge_of(t), *(edge_of(o) for o in others)]
    entries = [saved_entry(o) for o in saved if o is not None]
    t._vc.value += 1
    if save_self:
        entries.append((t._vc, t._vc.value, t._data.shape, t._data.dtype, name, 0))
    meta = [(t._data.shape, t._data.dtype)]
    base = t._base
    if base is None:
        # inputs hold None for t itself: a node referring to the tensor whose grad_fn it is would make a
        # reference cycle, and the buffer pool counts references to know when memory is free
        t._grad_fn = Node(name, (None, *others), edges, backward_fn, meta, entries)  # type: ignore[arg-type]
        t._output_nr = 0
        t._requires_grad = True
        return t
    _copy_slices(base, t, others, edges[1:], backward_fn, entries)  # type: ignore[arg-type]
    return t


def _copy_slices(
    base: Tensor,
    view: Tensor,
    others: Sequence[Tensor | None],
    other_edges: list,
    backward_fn: Callable[..., Sequence[Any]],
    entries: list,
) -> None:
    """Rebase ``base`` onto CopySlices after an in-place op wrote through ``view``."""
    positions = lazy_positions(base._data, view._data)  # flat indices of the view's elements in base
    shape = base._data.shape

    def backward(g: np.ndarray) -> tuple:
        flat = np.ascontiguousarray(g).reshape(-1)
        pos = positions()
        res = backward_fn(flat[pos])  # (gradient of the view's old values, gradients of the others)
        gb = flat.copy()
        gb[pos] = 0 if res[0] is None else res[0]
        return (gb.reshape(shape), *res[1:])

    edges = [edge_of(base), *other_edges]
    base._grad_fn = Node("CopySlices", (None, *others), edges, backward, [(shape, base._data.dtype)], entries)
    base._output_nr = 0
    base._requires_grad = True
    view._grad_fn = view_node(base, view)
    view._output_nr = 0
    view._requires_grad = True
    view._view_version = view._vc.value
