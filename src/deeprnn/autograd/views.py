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

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .grad_mode import is_grad_enabled
from .node import Node

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["make_view", "geometry", "view_positions", "lazy_positions", "view_node", "sync_view", "NO_GRAD_VIEW"]

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


Geometry = tuple[int, tuple, tuple, int]  # (data address, shape, byte strides, element size)


def geometry(a: np.ndarray) -> Geometry:
    """Where an array's elements are in memory: enough to map a view into its base later."""
    return (a.__array_interface__["data"][0], a.shape, a.strides, a.itemsize)


def view_positions(root: Geometry, view: Geometry) -> np.ndarray:
    """Flat (C-order) indices into the root array of each element of the view, shaped like the view.

    The view must lie in the root's memory with the same element size (any strides, offset
    or order, as NumPy views make them).
    """
    start, shape, strides, isz = root
    vstart, vshape, vstrides, visz = view
    if visz != isz or 8 % isz:
        raise RuntimeError("in-place operation on a view with a different element size than its base")
    size = int(np.prod(shape))
    lo = start + sum(min(0, (n - 1) * s) for n, s in zip(shape, strides)) if size else start
    hi = start + sum(max(0, (n - 1) * s) for n, s in zip(shape, strides)) + isz
    raw = np.full(max((hi - lo) // isz, 1), -1, dtype=np.int64)  # one slot per element of root's memory
    scale = 8 // isz  # byte strides of root's dtype -> byte strides in the int64 map
    root_map = as_strided(raw[(start - lo) // isz :], shape, tuple(s * scale for s in strides))
    root_map[...] = np.arange(size, dtype=np.int64).reshape(shape)
    if int(np.prod(vshape)) and not lo <= vstart < hi:
        raise RuntimeError("internal error: a view's memory lies outside its base")
    pos = as_strided(raw[(vstart - lo) // isz :], vshape, tuple(s * scale for s in vstrides)).copy()
    if pos.size and pos.min() < 0:
        raise RuntimeError("internal error: a view's memory lies outside its base")
    return pos


def lazy_positions(root: np.ndarray, view: np.ndarray) -> Callable[[], np.ndarray]:
    """``view_positions`` of these arrays, computed on first call (in backward) and kept: recording
    a view costs O(1), as torch's AsStrided does, however large its base."""
    rg, vg = geometry(root), geometry(view)
    if vg[3] != rg[3] or 8 % rg[3]:
        raise RuntimeError("in-place operation on a view with a different element size than its base")
    cache: list[np.ndarray] = []

    def get() -> np.ndarray:
        if not cache:
            cache.append(view_positions(rg, vg))
        return cache[0]

    return get


def view_node(root: Tensor, view: Tensor) -> Node:
    """``AsStridedBackward0``: the gradient of ``view`` scattered into the shape of ``root``."""
    positions = lazy_positions(root._data, view._data)
    overlapping = any(s == 0 and n > 1 for s, n in zip(view._data.strides, view._data.shape))
    shape, size = root._data.shape, root._data.size

    def backward(g: np.ndarray) -> tuple:
        gb = np.zeros(size, dtype=g.dtype)
        if overlapping:
            np.add.at(gb, positions(), g)
        else:
            gb[positions()] = g
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
