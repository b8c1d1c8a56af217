"""The backward engine: walks the recorded graph in reverse topological order.

Gradients flow only along paths that reach the tensors we differentiate with respect to,
as in PyTorch. That is what lets the seed listings carry a hidden state from one training
iteration into the next: the old part of the graph is never revisited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .node import Node

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["run_backward"]

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time."
)


def _topological(roots: Sequence[Node]) -> list[Node]:
    """Nodes reachable from ``roots``, each listed after every node that consumes it."""
    order: list[Node] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack: list[tuple[Node, int]] = [(root, 0)]
        while stack:
            node, i = stack.pop()
            if i < len(node.inputs):
                stack.append((node, i + 1))
                t = node.inputs[i]
                if t is not None and t.grad_fn is not None and id(t.grad_fn) not in seen:
                    seen.add(id(t.grad_fn))
                    stack.append((t.grad_fn, 0))
            else:
                order.append(node)
    order.reverse()
    return order


def _needed(order: list[Node], targets: Sequence[Tensor]) -> set[int]:
    """Ids of the nodes from which some target can be reached (they must run)."""
    target_leaves = {id(t) for t in targets if t.grad_fn is None}
    target_nodes = {id(t.grad_fn) for t in targets if t.grad_fn is not None}
    needed: set[int] = set()
    for node in reversed(order):  # producers before consumers
        for t in node.inputs:
            if t is None:
                continue
            if id(t) in target_leaves or (t.grad_fn is not None and id(t.grad_fn) in needed):
                needed.add(id(node))
                break
            if t.grad_fn is not None and id(t.grad_fn) in target_nodes:
                needed.add(id(node))
                break
    return needed


def run_backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[np.ndarray],
    inputs: Sequence[Tensor] | None,
    retain_graph: bool,
) -> list[np.ndarray | None] | None:
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph.

    A node with several outputs receives None for an output no gradient reached.

    With ``inputs=None`` (``Tensor.backward``) gradients accumulate into the ``.grad`` of
    every leaf that requires grad. With ``inputs`` given (``autograd.grad``) nothing is
    accumulated; the gradient of each input is returned (None where none reached it).
    """
    # Gradient buffers, one list of per-output arrays per node id.
    buffers: dict[int, list[np.ndarray | None]] = {}
    results: dict[int, np.ndarray] = {}
    target_ids = {id(t) for t in inputs} if inputs is not None else set()
    nonleaf_targets: dict[int, list[Tensor]] = {}
    if inputs is not None:
        for t in inputs:
            if t.grad_fn is not None:
                nonleaf_targets.setdefault(id(t.grad_fn), []).append(t)

    def deliver(t: Tensor, g: np.ndarray) -> None:
        if inputs is not None and t.grad_fn is None:
            if id(t) in target_ids:
                prev = results.get(id(t))
                results[id(t)] = g if prev is None else prev + g
            return
        if t.grad_fn is None:
            if t.requires_grad:
                t._accumulate_grad(g)
            return
        buf = buffers.setdefault(id(t.grad_fn), [None] * t.grad_fn.num_outputs)
        k = t._output_nr
        buf[k] = g if buf[k] is None else buf[k] + g

    roots: list[Node] = []
    for t, g in zip(outputs, grad_outputs):
        if t.grad_fn is not None:
            roots.append(t.grad_fn)
        deliver(t, g)

    order = _topological(roots)
    needed = _needed(order, inputs) if inputs is not None else None
    executed: list[Node] = []
    for node in order:
        buf = buffers.pop(id(node), None)
        if buf is None:
            continue
        if id(node) in nonleaf_targets:
            for t in nonleaf_targets[id(node)]:
                g = buf[t._output_nr]
                if g is not None:
                    prev = results.get(id(t))
                    results[id(t)] = g if prev is None else prev + g
        if needed is not None and id(node) not in needed:
            continue
        if node.backward_fn is None:
            raise RuntimeError(FREED_MESSAGE)
        in_grads = node.backward_fn(*buf)
        executed.append(node)
        for t, g in zip(node.inputs, in_grads):
            if t is None or g is None or not t.requires_grad:
                continue
            deliver(t, g)
    if not retain_graph:
        for node in executed:
            node.release()
    if inputs is None:
        return None
    return [results.get(id(t)) for t in inputs]
