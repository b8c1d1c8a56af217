"""``nn.Embedding``: a lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

Shapes: input (*) integer indices in [0, num_embeddings) -> output (*, embedding_dim);
weight (num_embeddings, embedding_dim), drawn from N(0, 1). The ``padding_idx`` row is
zero at initialisation and never receives a gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.dtypes import as_dtype, get_default_dtype
from ..autograd.random import Generator
from ..autograd.tensor import Tensor, as_array
from . import functional as F
from . import init
from .linear import check_features
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


def _padding(padding_idx: int | None, num_embeddings: int) -> int | None:
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = num_embeddings + padding_idx
    return int(padding_idx)


class Embedding(Module):
    """``Embedding(num_embeddings, embedding_dim, padding_idx=None)``: out[...] = weight[input[...]]."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Any = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
    ) -> None:
        check_features(num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: max_norm, scale_grad_by_freq and sparse are not supported")
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        self.generator = generator
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        if _weight is None:
            self.weight = Parameter(np.zeros((num_embeddings, embedding_dim), dtype=dt), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            w = as_array(_weight)
            if w.shape != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(w, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1), with the padding row zeroed."""
        init.normal_(self.weight, generator=self.generator)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) int64/int32 indices -> (*, embedding_dim)."""
        return F.embedding(input, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None, **kwargs: Any
    ) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (V, D); frozen (no gradient) by default."""
        w = as_array(embeddings)
        if w.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        return cls(w.shape[0], w.shape[1], padding_idx=padding_idx, _weight=w, _freeze=freeze, **kwargs)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
