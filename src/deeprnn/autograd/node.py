"""A node of the backward graph: one recorded operation and its local chain rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tensor import Tensor
    from .version import SavedEntry

__all__ = ["Node", "AccumulateGrad", "Edge"]

BackwardFn = Callable[..., Sequence[Any]]
# Where an input's gradient goes: (producing node, its output index, None) for a computed
# tensor, (None, 0, leaf) for a leaf that requires grad. Captured when the op runs, so an
# in-place op that later gives the tensor a new grad_fn does not reroute this gradient.
Edge = tuple["Node | None", int, "Tensor | None"]


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf: the gradient is added to ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad object>"


class Node:
    """One operation in the graph (PyTorch's ``grad_fn``).

    ``inputs`` are the operation's tensor operands as passed (None where an operand is not a
    tensor or needs no gradient), for inspection; gradients follow ``edges``. ``saved`` lists
    the tensors whose values the backward reads, with their versions. ``backward_fn(*grad_outputs)``
    receives one gradient array per output (None for an output no gradient reached), in the
    outputs' shapes, and returns one gradient array (or None) per input, in the inputs'
    shapes. It closes over what the forward pass saved; ``release`` drops that, after which
    a second backward through this node is an error.
    """

    __slots__ = (
        "_name",
        "inputs",
        "edges",
        "backward_fn",
        "num_outputs",
        "output_meta",
        "saved",
        "pre_hooks",
        "retained",
        "__weakref__",
    )

    def __init__(
        self,
        name: str,
        inputs: Sequence[Tensor | None],
        edges: Sequence[Edge | None],
        backward_fn: BackwardFn,
        output_meta: Sequence[tuple[tuple[int, ...], Any]],
        saved: Sequence[SavedEntry] = (),
    ) -> None:
        self._name = name
        self.inputs = tuple(inputs)
        self.edges = tuple(edges)
        self.backward_fn: BackwardFn | None = backward_fn
        self.num_outputs = len(output_meta)
        self.output_meta = tuple(output_meta)  # (shape, dtype) of each output
        self.saved = tuple(saved)
        self.pre_hooks: dict[int, list[Callable[[Any], Any]]] | None = None  # output index -> tensor hooks
        self.retained: dict[int, Any] | None = None  # output index -> weakref of a tensor that retains its grad

    def name(self) -> str:
        """The operation's name, e.g. 'TanhBackward0', as torch's ``grad_fn.name()``
        (torch's hand-written nodes carry their C++ namespace: 'torch::autograd::CopySlices')."""
        return f"torch::autograd::{self._name}" if self._name == "CopySlices" else self._name

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """((node or AccumulateGrad or None, output index), ...) for each input, as in torch."""
        out: list[tuple[Any, int]] = []
        for e in self.edges:
            if e is None:
                out.append((None, 0))
            elif e[0] is not None:
                out.append((e[0], e[1]))
            else:
                out.append((AccumulateGrad(e[2]), 0))
        return tuple(out)

    def add_pre_hook(self, output_nr: int, hook: Callable[[Any], Any]) -> None:
        """Run ``hook(grad)`` on the gradient of output ``output_nr`` before this node's backward."""
        if self.pre_hooks is None:
            self.pre_hooks = {}
        self.pre_hooks.setdefault(output_nr, []).append(hook)

    def release(self) -> None:
        """Free what the forward pass saved (called after a backward without retain_graph)."""
        self.backward_fn = None

    def __repr__(self) -> str:
        return f"<{self._name} object>"
