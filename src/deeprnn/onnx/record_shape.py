"""Recorders of the shape operations: view/reshape/flatten, transpose/permute, squeeze/unsqueeze, expand,
indexing (``out[:, -1, :]``, select, narrow, index_select), cat/stack, split/chunk/unbind.

Sizes may be ``TracedDim``s (``x.view(x.size(0), -1)``): they become graph values, so the
shape follows the input.  A dimension keeps its label when it is copied unchanged and gets
a fresh one when its size is computed from a dynamic size (see trace.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from .errors import UnsupportedOperatorError
from .graph import INT64_MAX
from .record_math import alias, cast_to
from .trace import Labels, Trace, TracedDim

__all__ = ["SHAPE_RECORDERS"]


def _norm(d: Any, n: int) -> int:
    return int(d) % max(n, 1)


def _sizes(args: tuple) -> list[Any]:
    """``f(2, 3)`` and ``f((2, 3))`` both give [2, 3]."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return list(args[0])
    return list(args)


def _dynamic(labels: Labels) -> bool:
    return any(lab is not None for lab in labels)


# ---- view, reshape, flatten ---------------------------------------------------------------
def _reshape_to(tr: Trace, result: Tensor, x: Tensor, entries: list[Any]) -> None:
    if any(not isinstance(e, TracedDim) and int(e) == 0 for e in entries):
        raise UnsupportedOperatorError("reshape/view to a size of 0 is not supported by deeprnn.onnx.export")
    x_dyn = _dynamic(tr.labels(x))
    labels = []
    for e in entries:
        if isinstance(e, TracedDim):
            labels.append(e.label)
        elif int(e) == -1 and x_dyn:
            labels.append(tr.fresh_label())
        else:
            labels.append(None)
    tr.bind(result, tr.graph.op("Reshape", [tr.name(x), tr.sizes_value(entries)]), tuple(labels))


def _view(tr: Trace, result: Tensor, x: Tensor, *shape: Any) -> None:
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, TracedDim)):
        raise UnsupportedOperatorError("Tensor.view(dtype) is not supported by deeprnn.onnx.export")
    _reshape_to(tr, result, x, _sizes(shape))


def _reshape_as(tr: Trace, result: Tensor, x: Tensor, other: Tensor) -> None:
    if tr.is_dynamic(other):
        tr.bind(result, tr.graph.op("Reshape", [tr.name(x), tr.shape_of(tr.name(other))]), tr.labels(other))
    else:
        _reshape_to(tr, result, x, list(other.shape))


def _flatten(tr: Trace, result: Tensor, x: Tensor, start_dim: int = 0, end_dim: int = -1) -> None:
    if result is x:
        return
    n, labels, name = x.ndim, tr.labels(x), tr.name(x)
    if n == 0:
        tr.bind(result, tr.graph.op("Reshape", [name, tr.graph.ints([1])]), (None,))
        return
    i, j = _norm(start_dim, n), _norm(end_dim, n)
    sizes = tr.sizes(x)
    entries = [0] * i + [-1] + sizes[j + 1 :]  # Reshape's 0 copies the input's size at the same index
    merged = tr.fresh_label() if _dynamic(labels[i : j + 1]) else None
    value = tr.sizes_value(entries) if any(isinstance(e, TracedDim) for e in entries) else tr.graph.ints(entries)
    tr.bind(result, tr.graph.op("Reshape", [name, value]), (*labels[:i], merged, *labels[j + 1 :]))


def _unflatten(tr: Trace, result: Tensor, x: Tensor, dim: int, sizes: Any) -> None:
    d = _norm(dim, x.ndim)
    if tr.labels(x)[d] is not None:
        raise UnsupportedOperatorError(f"unflatten() of the dynamic axis '{tr.labels(x)[d]}' is not supported")
    entries = [0] * d + list(sizes) + tr.sizes(x)[d + 1 :]
    value = tr.sizes_value(entries)
    tr.bind(
        result,
        tr.graph.op("Reshape", [tr.name(x), value]),
        (*tr.labels(x)[:d], *(None,) * len(sizes), *tr.labels(x)[d + 1 :]),
    )


# ---- transpose, permute, squeeze, unsqueeze, expand ---------------------------------------
def _permuted(tr: Trace, result: Tensor, x: Tensor, perm: list[int]) -> None:
    labels = tr.labels(x)
    if perm == list(range(x.ndim)):
        tr.bind(result, tr.name(x), labels)
        return
    tr.bind(result, tr.graph.op("Transpose", [tr.name(x)], perm=perm), tuple(labels[p] for p in perm))


def _transpose(tr: Trace, result: Tensor, x: Tensor, dim0: int, dim1: int) -> None:
    perm = list(range(x.ndim))
    if x.ndim:
        a, b = _norm(dim0, x.ndim), _norm(dim1, x.ndim)
        perm[a], perm[b] = perm[b], perm[a]
    _permuted(tr, result, x, perm)


def _permute(tr: Trace, result: Tensor, x: Tensor, *dims: Any) -> None:
    _permuted(tr, result, x, [_norm(d, x.ndim) for d in _sizes(dims)])


def _t(tr: Trace, result: Tensor, x: Tensor) -> None:
    _permuted(tr, result, x, list(range(x.ndim))[::-1])


def _unsqueeze(tr: Trace, result: Tensor, x: Tensor, dim: int) -> None:
    d = _norm(dim, x.ndim + 1)
    labels = list(tr.labels(x))
    labels.insert(d, None)
    tr.bind(result, tr.graph.op("Unsqueeze", [tr.name(x), tr.graph.ints([d])]), tuple(labels))


def _squeeze(tr: Trace, result: Tensor, x: Tensor, dim: Any = None) -> None:
    shape, labels = x.shape, tr.labels(x)
    if dim is None:
        dims = list(range(x.ndim))
    else:
        dims = sorted({_norm(d, x.ndim) for d in ((dim,) if isinstance(dim, (int, np.integer)) else dim)})
    axes = []
    for d in dims:
        if shape[d] != 1:
            continue
        if labels[d] is not None:
            raise UnsupportedOperatorError(
                f"squeeze() of the dynamic axis '{labels[d]}', whose size is 1 in the example input: the graph "
                "could not tell whether to drop it; give an example input with a size > 1 on that axis"
            )
        axes.append(d)
    if not axes:
        tr.bind(result, tr.name(x), labels)
        return
    name = tr.graph.op("Squeeze", [tr.name(x), tr.graph.ints(axes)])
    tr.bind(result, name, tuple(lab for i, lab in enumerate(labels) if i not in axes))


def _expand(tr: Trace, result: Tensor, x: Tensor, *sizes: Any) -> None:
    """Expand with a shape in which -1 becomes 1: ONNX's broadcasting then keeps the input's size."""
    entries = _sizes(sizes)
    lead = len(entries) - x.ndim
    in_labels = tr.labels(x)
    shape, labels = [], []
    for i, e in enumerate(entries):
        if isinstance(e, TracedDim):
            shape.append(e)
            labels.append(e.label)
        elif int(e) == -1:
            shape.append(1)
            labels.append(in_labels[i - lead])
        else:
            shape.append(int(e))
            labels.append(None)
    tr.bind(result, tr.graph.op("Expand", [tr.name(x), tr.sizes_value(shape)]), tuple(labels))


def _expand_as(tr: Trace, result: Tensor, x: Tensor, other: Tensor) -> None:
    if tr.is_dynamic(other):
        tr.bind(result, tr.graph.op("Expand", [tr.name(x), tr.shape_of(tr.name(other))]), tr.labels(other))
    else:
        _expand(tr, result, x, *other.shape)


# ---- indexing ----------------------------------------------------------------------------
def _bound(tr: Trace, v: Any) -> Any:
    if isinstance(v, Tensor):
        if tr.is_dynamic(v):
            raise UnsupportedOperatorError("a slice bound computed from the inputs is not supported")
        return int(v.item())
    return v


def _getitem(tr: Trace, result: Tensor, x: Tensor, idx: Any) -> None:
    items = list(idx) if isinstance(idx, tuple) else [idx]
    used = sum(1 for it in items if it is not None and it is not Ellipsis)
    if Ellipsis in [it for it in items if not isinstance(it, Tensor)]:
        k = next(i for i, it in enumerate(items) if it is Ellipsis)
        items[k : k + 1] = [slice(None)] * (x.ndim - used)
    items += [slice(None)] * (x.ndim - sum(1 for it in items if it is not None))
    g, labels = tr.graph, tr.labels(x)
    starts, ends, axes, steps = [], [], [], []
    gathers: list[tuple[int, Any]] = []
    out_labels: list[Any] = []
    axis = 0
    for it in items:
        if it is None:
            out_labels.append(None)
            continue
        if isinstance(it, slice):
            start, stop, step = _bound(tr, it.start), _bound(tr, it.stop), _bound(tr, it.step)
            step = 1 if step is None else step
            if not (start in (None, 0) and stop is None and step == 1):
                starts.append(0 if start is None else start)
                ends.append(INT64_MAX if stop is None else stop)
                axes.append(axis)
                steps.append(step)
                out_labels.append(
                    None if labels[axis] is None and not isinstance(stop, TracedDim) else tr.fresh_label()
                )
            else:
                out_labels.append(labels[axis])
        elif isinstance(it, (int, np.integer)) and not isinstance(it, bool):
            gathers.append((axis, int(it)))
        elif isinstance(it, Tensor) and it.dtype.kind in "iu":
            if it.ndim == 0 and not tr.is_dynamic(it):
                gathers.append((axis, int(it.item())))
            else:
                gathers.append((axis, it))
                out_labels.extend(tr.labels(it))
        elif isinstance(it, (list, tuple)) and all(isinstance(v, (int, np.integer)) for v in it):
            gathers.append((axis, np.asarray(it, dtype=np.int64)))
            out_labels.append(None)
        else:
            raise UnsupportedOperatorError(
                f"indexing with {type(it).__name__} ({it!r:.40}) is not supported by deeprnn.onnx.export: "
                "use ints, slices, None, ... or one integer tensor"
            )
        axis += 1
    if sum(1 for _, v in gathers if not isinstance(v, int)) > 1:
        raise UnsupportedOperatorError("indexing with more than one list or tensor is not supported")
    name = tr.name(x)
    if axes:
        name = g.op("Slice", [name, tr.sizes_value(starts), tr.sizes_value(ends), g.ints(axes), g.ints(steps)])
    for ax, v in sorted(gathers, key=lambda p: p[0], reverse=True):
        if isinstance(v, int):
            index = g.const(v, np.int64)
        elif isinstance(v, np.ndarray):
            index = g.const(v, np.int64)
        else:
            index = cast_to(tr, tr.name(v), v.dtype, np.int64)
        name = g.op("Gather", [name, index], axis=ax)
    news = [i for i, it in enumerate(_out_positions(items, tr)) if it]
    if news:
        name = g.op("Unsqueeze", [name, g.ints(news)])
    tr.bind(result, name, tuple(out_labels))  # x[:] or x[...]: the same value


def _out_positions(items: list[Any], tr: Trace) -> list[bool]:
    """For each dimension of the result: whether it is a new axis (None in the index)."""
    out = []
    for it in items:
        if it is None:
            out.append(True)
        elif isinstance(it, slice):
            out.append(False)
        elif isinstance(it, Tensor) and not (it.ndim == 0 and not tr.is_dynamic(it)):
            out.extend([False] * it.ndim)
        elif isinstance(it, (list, tuple)):
            out.append(False)
    return out


def _select(tr: Trace, result: Tensor, x: Tensor, dim: int, index: int) -> None:
    _getitem(tr, result, x, (slice(None),) * _norm(dim, x.ndim) + (index,))


def _narrow(tr: Trace, result: Tensor, x: Tensor, dim: int, start: Any, length: Any) -> None:
    d = _norm(dim, x.ndim)
    if isinstance(start, int) and start < 0:
        start += x.shape[d]
    _getitem(tr, result, x, (slice(None),) * d + (slice(start, start + length),))


def _index_select(tr: Trace, result: Tensor, x: Tensor, dim: int, index: Tensor) -> None:
    d = _norm(dim, x.ndim)
    idx = cast_to(tr, tr.name(index), index.dtype, np.int64)
    labels = list(tr.labels(x))
    labels[d] = tr.labels(index)[0] if index.ndim else None
    tr.bind(result, tr.graph.op("Gather", [tr.name(x), idx], axis=d), tuple(labels))


# ---- cat, stack, split -------------------------------------------------------------------
def _joined_labels(tr: Trace, tensors: list[Tensor], d: int, new_axis: bool) -> Labels:
    all_labels = [tr.labels(t) for t in tensors]
    n = len(all_labels[0])
    out = []
    for i in range(n):
        found = next((lab[i] for lab in all_labels if lab[i] is not None), None)
        if i == d and not new_axis and found is not None:
            found = tr.fresh_label()
        out.append(found)
    if new_axis:
        out.insert(d, None)
    return tuple(out)


def _cat(tr: Trace, result: Tensor, tensors: Any, dim: int = 0, **kwargs: Any) -> None:
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)]  # torch skips empty 1-D tensors
    d = _norm(kwargs.get("axis", dim), result.ndim)
    names = [cast_to(tr, tr.name(t), t.dtype, result.dtype) for t in tensors]
    tr.bind(result, tr.graph.op("Concat", names, axis=d), _joined_labels(tr, tensors, d, False))


def _stack(tr: Trace, result: Tensor, tensors: Any, dim: int = 0, **kwargs: Any) -> None:
    d = _norm(kwargs.get("axis", dim), result.ndim)
    g = tr.graph
    names = [g.op("Unsqueeze", [cast_to(tr, tr.name(t), t.dtype, result.dtype), g.ints([d])]) for t in tensors]
    tr.bind(result, g.op("Concat", names, axis=d), _joined_labels(tr, list(tensors), d, True))


def _pieces(squeeze: bool) -> Any:
    def rec(tr: Trace, result: tuple, x: Tensor, *args: Any, **kwargs: Any) -> None:
        dim = kwargs.get("dim", kwargs.get("axis"))
        if dim is None:
            dim = (args[0] if squeeze else args[1]) if len(args) > (0 if squeeze else 1) else 0
        d = _norm(dim, x.ndim)
        labels = tr.labels(x)
        if labels[d] is not None:
            raise UnsupportedOperatorError(
                f"split/chunk/unbind along the dynamic axis '{labels[d]}' is not supported by deeprnn.onnx.export"
            )
        g = tr.graph
        sizes = [p.shape[d] if not squeeze else 1 for p in result]
        names = g.op("Split", [tr.name(x), g.ints(sizes)], outputs=len(result), axis=d)
        names = [names] if len(result) == 1 else names
        for piece, name in zip(result, names):
            if squeeze:
                tr.bind(piece, g.op("Squeeze", [name, g.ints([d])]), labels[:d] + labels[d + 1 :])
            else:
                tr.bind(piece, name, labels)

    return rec


SHAPE_RECORDERS: dict[str, Any] = {
    "view": _view,
    "reshape": _view,
    "view_as": _reshape_as,
    "reshape_as": _reshape_as,
    "flatten": _flatten,
    "unflatten": _unflatten,
    "transpose": _transpose,
    "swapaxes": _transpose,
    "permute": _permute,
    "t": _t,
    "T": _t,
    "unsqueeze": _unsqueeze,
    "squeeze": _squeeze,
    "expand": _expand,
    "expand_as": _expand_as,
    "__getitem__": _getitem,
    "select": _select,
    "narrow": _narrow,
    "index_select": _index_select,
    "cat": _cat,
    "concat": _cat,
    "concatenate": _cat,
    "stack": _stack,
    "split": _pieces(False),
    "chunk": _pieces(False),
    "unbind": _pieces(True),
    "_alias": alias,
}
