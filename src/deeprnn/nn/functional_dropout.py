"""Channel-wise dropout of ``nn.functional``: dropout1d, dropout2d (torch's feature dropout).

A whole channel input[n, c] is zeroed with probability p and the others are scaled by
1/(1-p): the mask has shape (N, C, 1, ..., 1). Masks come from ``generator`` (the default
generator when None), so they are reproducible but are not torch's draws.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import record
from ..autograd.random import Generator, resolve
from ..autograd.tensor import Tensor
from .functional import _check_p
from .functional_checks import _check_tensor

__all__ = ["feature_dropout", "dropout1d", "dropout2d"]


def feature_dropout(
    input: Tensor,  # noqa: A002
    p: float,
    training: bool,
    generator: Generator | None = None,
) -> Tensor:
    """Zero whole channels of input (N, C, *) with probability p; scale the kept ones by 1/(1-p)."""
    p = _check_p(p)
    _check_tensor("input", input)
    x = input._data
    if x.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input
    mask_shape = x.shape[:2] + (1,) * (x.ndim - 2)  # (N, C, 1, ..., 1)
    if p == 1.0:
        noise = np.zeros(mask_shape, dtype=x.dtype)
    else:
        noise = (resolve(generator).random(mask_shape) >= p).astype(x.dtype) / np.asarray(1.0 - p, dtype=x.dtype)
    return record("MulBackward0", x * noise, (input,), lambda g: (g * noise,))


def dropout1d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: Generator | None = None,
) -> Tensor:
    """Channel-wise dropout of input (N, C, L) or (C, L)."""
    p = _check_p(p)
    _check_tensor("input", input)
    ndim = input._data.ndim
    if ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. "
            "Note that dropout1d exists to provide channel-wise dropout on inputs with 1 "
            "spatial dimension, a channel dimension, and an optional batch dimension "
            "(i.e. 2D or 3D inputs)."
        )
    if ndim == 2 and training and p > 0.0:
        return feature_dropout(input.unsqueeze(0), p, training, generator).squeeze(0)
    return feature_dropout(input, p, training, generator)


def dropout2d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: Generator | None = None,
) -> Tensor:
    """Channel-wise dropout of input (N, C, H, W); a 3-D input is read as (N, C, L), with torch's warnings."""
    p = _check_p(p)
    _check_tensor("input", input)
    ndim = input._data.ndim
    if ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated "
            "and will result in an error in a future release. To retain the behavior "
            "and silence this warning, please use dropout instead. Note that dropout2d "
            "exists to provide channel-wise dropout on inputs with 2 spatial dimensions, "
            "a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            UserWarning,
            stacklevel=2,
        )
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
            "1D dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning,
            stacklevel=2,
        )
    return feature_dropout(input, p, training, generator)
