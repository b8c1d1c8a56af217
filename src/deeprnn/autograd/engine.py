"""The backward engine: walks the recorded graph in reverse topological order.

Gradients flow only along paths that reach the tensors we differentiate with respect to,
as in PyTorch. That is what lets the seed listings carry a hidden state from one training
iteration into the next: the old part of the graph is never revisited.

As in torch, the gradients that reach a leaf are summed first and then added to its
``.grad`` once (after its hooks ran on the sum), and each node checks, before its backward
runs, that the tensors it saved were not modified in place since.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .function import edge_of
from .node import Edge, Node
from .unshared import reference_counts, unshared
from .version import check_saved

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["run_backward", "FREED_MESSAGE"]

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
            if i < len(node.edges):
                stack.append((node, i + 1))
                e = node.edges[i]
                if e is not None and e[0] is not None and id(e[0]) not in seen:
                    seen.add(id(e[0]))
                    stack.append((e[0], 0))
            else:
                order.append(node)
    order.reverse()
    return order


def _needed(order: list[Node], leaf_ids: set[int], node_ids: set[int]) -> set[int]:
    """Ids of the nodes from which some target (a leaf, or a node's output) can be reached."""
    needed: set[int] = set()
    for node in reversed(order):  # producers before consumers
        for e in node.edges:
            if e is None:
                continue
            fn = e[0]
            if (fn is None and id(e[2]) in leaf_ids) or (fn is not None and (id(fn) in needed or id(fn) in node_ids)):
                needed.add(id(node))
                break
    return needed


def _run_hooks(hooks: Sequence[Callable[[Any], Any]], g: np.ndarray) -> np.ndarray:
    """Apply tensor hooks in order; a hook returns a replacement gradient or None."""
    from .tensor import Tensor

    for hook in hooks:
        r = hook(Tensor._wrap(g))
        if r is not None:
            g = r._data if isinstance(r, Tensor) else np.asarray(r)
    return g


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
    buffers: dict[int, list[np.ndarray | None]] = {}  # per node id, one gradient per output
    leaf_grads: dict[int, list[Any]] = {}  # per leaf id: [leaf, summed gradient]
    results: dict[int, np.ndarray] = {}
    target_edges = [edge_of(t) for t in inputs] if inputs is not None else []
    leaf_ids = {id(e[2]) for e in target_edges if e is not None and e[0] is None}
    node_targets: dict[int, list[tuple[int, Tensor]]] = {}
    if inputs is not None:
        for t, e in zip(inputs, target_edges):
            if e is not None and e[0] is not None:
                node_targets.setdefault(id(e[0]), []).append((e[1], t))

    def deliver(e: Edge, g: np.ndarray) -> None:
        fn, nr, leaf = e
        if fn is None:
            if inputs is not None and id(leaf) not in leaf_ids:
                return
            slot = leaf_grads.get(id(leaf))
            if slot is None:
                leaf_grads[id(leaf)] = [leaf, g]
            else:
                slot[1] = slot[1] + g
            return
        buf = buffers.get(id(fn))
        if buf is None:
            buf = buffers[id(fn)] = [None] * fn.num_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    roots: list[Node] = []
    for t, g in zip(outputs, grad_outputs):
        e = edge_of(t)
        if e is None:
            continue
        if e[0] is not None:
            roots.append(e[0])
        deliver(e, g)

    order = _topological(roots)
    needed = _needed(order, leaf_ids, set(node_targets)) if inputs is not None else None
    executed: list[Node] = []
    for node in order:
        buf = buffers.pop(id(node), None)
        if buf is None:
            continue
        if node.pre_hooks:
            for nr, hooks in node.pre_hooks.items():
                if buf[nr] is not None:
                    buf[nr] = _run_hooks(hooks, buf[nr])
        if node.retained and inputs is None:
            for nr, ref in node.retained.items():
                t = ref()
                if t is not None and buf[nr] is not None:
                    t._accumulate_grad(buf[nr])
        for nr, t in node_targets.get(id(node), ()):
            if buf[nr] is not None:
                prev = results.get(id(t))
                results[id(t)] = buf[nr] if prev is None else prev + buf[nr]
        if needed is not None and id(node) not in needed:
            continue
        if node.backward_fn is None:
            raise RuntimeError(FREED_MESSAGE)
        if node.saved:
            check_saved(node.saved)
        in_grads = node.backward_fn(*buf)
        executed.append(node)
        for e, g in zip(node.edges, in_grads):
            if e is not None and g is not None:
                deliver(e, g)
    if not retain_graph:
        for node in executed:
            node.release()
    buf = in_grads = g = None  # the last node's lists: a leaf's gradient must be held by `g` alone below
    for key in list(leaf_grads):
        leaf, g = leaf_grads.pop(key)
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g)
        if inputs is None:
            counts = reference_counts(g)  # its own statement: an enclosing call's pending arguments would count
            leaf._accumulate_grad(g, owned=unshared(g, counts))  # no copy of an array nothing else refers to
        else:
            results[id(leaf)] = g
    if inputs is None:
        return None
    return [results.get(id(t)) for t in inputs]
