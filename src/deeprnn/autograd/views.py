"""Views: tensors that share another tensor's memory, and what in-place writes do to them.

A view (``reshape`` that needs no copy, ``transpose``, ``permute``, ``expand``, basic indexing,
``select``, ``unbind``, ``narrow``, ``split``, ...) shares its base's version counter and knows
its root base (``t._base``, as torch). When the base, or another view of it, is written in
place, the view's recorded ``grad_fn`` no longer describes it; as torch does, it is
regenerated on next use as an ``AsStridedBackward0`` of the base's current graph.

The geometry of a view inside its base is read from the NumPy arrays themselves (data
pointer and strides), so any chain of views maps to flat positions in the base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .grad_mode import is_grad_enabled
from .node import Node

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["make_view", "view_positions", "view_node", "sync_view", "NO_GRAD_VIEW"]

NO_GRAD_VIEW = -1  # _view_version of a view created under no_grad: never regenerated


def make_view(out: Tensor, base: Tensor) -> None:
    """Mark ``out`` (whose array is a NumPy view of ``base``'s) as a view of ``base``."""
    out._vc = base._vc
    root = base._base
    if root is None:
        out._base = base
        out._view_version = base._vc.value if is_grad_enabled() else NO_GRAD_VIEW
    else:
        out._base = root
        no_grad = base._view_version == NO_GRAD_VIEW or not is_grad_enabled()
        out._view_version = NO_GRAD_VIEW if no_grad else base._vc.value


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def view_positions(root: np.ndarray, view: np.ndarray) -> np.ndarray:
    """Flat (C-order) indices into ``root`` of each element of ``view``, shaped like ``view``.

    ``view`` must lie in ``root``'s memory with the same element size (any strides, offset
    or order, as NumPy views make them).
    """
    isz = root.itemsize
    if view.itemsize != isz or 8 % isz:
        raise RuntimeError("in-place operation on a view with a different element size than its base")
    start = _address(root)
    lo = start + sum(min(0, (n - 1) * s) for n, s in zip(root.shape, root.strides)) if root.size else start
    hi = start + sum(max(0, (n - 1) * s) for n, s in zip(root.shape, root.strides)) + isz
    raw = np.full(max((hi - lo) // isz, 1), -1, dtype=np.int64)  # one slot per element of root's memory
    scale = 8 // isz  # byte strides of root's dtype -> byte strides in the int64 map
    root_map = as_strided(raw[(start - lo) // isz :], root.shape, tuple(s * scale for s in root.strides))
    root_map[...] = np.arange(root.size, dtype=np.int64).reshape(root.shape)
    vstart = _address(view)
    if view.size and not lo <= vstart < hi:
        raise RuntimeError("internal error: a view's memory lies outside its base")
    pos = as_strided(raw[(vstart - lo) // isz :], view.shape, tuple(s * scale for s in view.strides)).copy()
    if pos.size and pos.min() < 0:
        raise RuntimeError("internal error: a view's memory lies outside its base")
    return pos


def view_node(root: Tensor, view: Tensor) -> Node:
    """``AsStridedBackward0``: the gradient of ``view`` scattered into the shape of ``root``."""
    pos = view_positions(root._data, view._data)
    overlapping = any(s == 0 and n > 1 for s, n in zip(view._data.strides, view._data.shape))
    shape, size = root._data.shape, root._data.size

    def backward(g: np.ndarray) -> tuple:
        gb = np.zeros(size, dtype=g.dtype)
        if overlapping:
            np.add.at(gb, pos, g)
        else:
            gb[pos] = g
        return (gb.reshape(shape),)

    fn = root._grad_fn
    edge = (fn, root._output_nr, None) if fn is not None else (None, 0, root)
    return Node("AsStridedBackward0", (root,), (edge,), backward, [(view._data.shape, view._data.dtype)])


def sync_view(t: Tensor) -> None:
    """Regenerate the grad_fn of a view whose base was written in place since it was recorded."""
    root = t._base
    t._view_version = t._vc.value
    if root._requires_grad:
        t._grad_fn = view_node(root, t)
        t._output_nr = 0
        t._requires_grad = True
