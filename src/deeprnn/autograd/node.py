"""A node of the backward graph: one recorded operation and its local chain rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["Node"]

BackwardFn = Callable[..., Sequence[Any]]


class Node:
    """One operation in the graph (PyTorch's ``grad_fn``).

    ``inputs`` are the operation's tensor operands (None where an operand is not a tensor
    or needs no gradient). ``backward_fn(*grad_outputs)`` receives one gradient array per
    output, in the outputs' shapes, and returns one gradient array (or None) per input,
    in the inputs' shapes. It closes over whatever the forward pass saved; ``release``
    drops that, after which a second backward through this node is an error.
    """

    __slots__ = ("name", "inputs", "backward_fn", "num_outputs", "output_meta", "__weakref__")

    def __init__(
        self,
        name: str,
        inputs: Sequence[Tensor | None],
        backward_fn: BackwardFn,
        output_meta: Sequence[tuple[tuple[int, ...], Any]],
    ) -> None:
        self.name = name
        self.inputs = tuple(inputs)
        self.backward_fn: BackwardFn | None = backward_fn
        self.num_outputs = len(output_meta)
        self.output_meta = tuple(output_meta)  # (shape, dtype) of each output

    def release(self) -> None:
        """Free what the forward pass saved (called after a backward without retain_graph)."""
        self.backward_fn = None

    def name_for_repr(self) -> str:
        return f"<{self.name}>"

    def __repr__(self) -> str:
        return f"<{self.name} object>"
