"""``nn.Flatten`` and ``nn.Unflatten``, as torch's: reshape a range of dims into one, and one dim into several.

Flatten(start_dim=1, end_dim=-1): (N, d1, ..., dk) -> (N, d1 * ... * dk).
Unflatten(dim, unflattened_size): (..., D, ...) -> (..., *unflattened_size, ...), prod = D.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..autograd.ops_shape import _dim, flatten, reshape
from ..autograd.tensor import Tensor
from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Merge dims start_dim..end_dim of the input into one."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` of the input into ``unflattened_size`` (one entry may be -1)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"invalid argument 'dim': {dim}")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}"
            )
        for i, v in enumerate(unflattened_size):
            if not isinstance(v, int):
                raise TypeError(
                    f"unflattened_size must be tuple of ints, but found element of type {type(v).__name__} at pos {i}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        shape = tuple(input.shape)
        d = _dim(self.dim, len(shape))
        sizes = list(self.unflattened_size)
        known = math.prod(s for s in sizes if s != -1)
        if sizes.count(-1) == 1 and known:
            sizes[sizes.index(-1)] = shape[d] // known
        if math.prod(sizes) != shape[d] or sizes.count(-1) > 1:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(self.unflattened_size)} don't multiply up to the size of dim "
                f"{self.dim} ({shape[d]}) in the input tensor"
            )
        return reshape(input, shape[:d] + tuple(sizes) + shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
