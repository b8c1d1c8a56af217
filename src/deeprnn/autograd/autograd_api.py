"""``backward`` and ``grad``: the two ways to run the backward engine, as in ``torch.autograd``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .engine import run_backward
from .tensor import Tensor, as_array

__all__ = ["backward", "grad", "clear_grads"]


def _as_list(x: Any) -> list:
    if x is None:
        return []
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _seed_grads(outputs: list[Tensor], grad_outputs: list | None) -> list[np.ndarray]:
    seeds = []
    for i, t in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None and i < len(grad_outputs) else None
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            seed = np.empty(t._data.shape, dtype=t._data.dtype)  # np.ones_like runs Python frames
            seed.fill(1)
            seeds.append(seed)
        else:
            arr = as_array(g, t._data.dtype)
            if arr.shape != t._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(arr.shape)} and output[{i}] "
                    f"has a shape of {tuple(t._data.shape)}."
                )
            seeds.append(arr)
    return seeds


def _no_create_graph(create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported by deeprnn")


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the graph's leaves."""
    _no_create_graph(create_graph)
    outs = _as_list(tensors)
    seeds = _seed_grads(outs, None if grad_tensors is None else _as_list(grad_tensors))
    if inputs is not None:
        ins = _as_list(inputs)
        grads = run_backward(outs, seeds, ins, bool(retain_graph))
        for t, g in zip(ins, grads):
            if g is not None:
                t._accumulate_grad(g)
        return
    run_backward(outs, seeds, None, bool(retain_graph))


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    Only the part of the graph that leads from ``outputs`` to ``inputs`` is walked, so a
    hidden state carried over from an earlier, already freed graph does no harm.
    """
    _no_create_graph(create_graph)
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    seeds = _seed_grads(outs, None if grad_outputs is None else _as_list(grad_outputs))
    grads = run_backward(outs, seeds, ins, bool(retain_graph))
    result: list[Tensor | None] = []
    for i, (t, g) in enumerate(zip(ins, grads)):
        if g is None:
            if materialize_grads:
                result.append(Tensor._wrap(np.zeros_like(t._data)))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            result.append(None)
        else:
            result.append(Tensor._wrap(np.array(np.broadcast_to(g, t._data.shape), dtype=t._data.dtype)))
    return tuple(result)


def clear_grads(tensors: Any, set_to_none: bool = True) -> None:
    """Clear the ``.grad`` of each tensor: set it to None, or fill it with zeros (zero_grad's two modes)."""
    for t in tensors:
        if t.grad is None:
            continue
        if set_to_none:
            t.grad = None
        else:
            t.grad._data = np.zeros_like(t.grad._data)
