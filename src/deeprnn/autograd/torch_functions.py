"""The functions of the ``torch`` namespace that are not simply an op under the same name.

``torch.add(x, 2, y)`` (the deprecated alpha overload), ``torch.where(cond)``, ``torch.numel``,
random sampling (``multinomial``, ``randperm``, ``normal``, ``bernoulli``), the RNG state,
``set_printoptions`` and the thread count.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from . import formatting
from . import ops_inplace as I
from . import ops_math as M
from .creation import _make, _size
from .device import check_device
from .dtypes import as_dtype, get_default_dtype
from .ops_compare import nonzero
from .random import default_generator, resolve
from .tensor import Tensor

__all__ = [
    "add",
    "sub",
    "where",
    "numel",
    "is_tensor",
    "is_floating_point",
    "multinomial",
    "randperm",
    "normal",
    "bernoulli",
    "randint_like",
    "initial_seed",
    "seed",
    "get_rng_state",
    "set_rng_state",
    "set_printoptions",
    "get_num_threads",
    "set_num_threads",
]


def add(input: Tensor, other: Any, *args: Any, alpha: Any = 1, out: Any = None) -> Tensor:  # noqa: A002
    """input + alpha * other (``torch.add(x, number, y)`` is torch's deprecated overload and warns)."""
    sig = (
        "Tensor input, Number alpha, Tensor other, *, Tensor out = None",
        "Tensor input, Tensor other, *, Number alpha = 1, Tensor out = None",
    )
    other, alpha = I.legacy_alpha("add", other, args, alpha, sig)
    return M.add(input, other, alpha)


def sub(input: Tensor, other: Any, *args: Any, alpha: Any = 1, out: Any = None) -> Tensor:  # noqa: A002
    """input - alpha * other (``torch.sub(x, number, y)`` warns, as torch)."""
    sig = (
        "Tensor input, Number alpha, Tensor other, *, Tensor out = None",
        "Tensor input, Tensor other, *, Number alpha = 1, Tensor out = None",
    )
    other, alpha = I.legacy_alpha("sub", other, args, alpha, sig)
    return M.sub(input, other, alpha)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``where(cond, a, b)`` picks a where cond holds, else b; ``where(cond)`` is ``nonzero(cond, as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    return M.where(condition, input, other)


def numel(input: Tensor) -> int:  # noqa: A002
    """Number of elements."""
    return input.numel()


def is_tensor(obj: object) -> bool:
    """True if obj is a deeprnn.Tensor (torch.is_tensor)."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    """True for a floating-point tensor."""
    return input._data.dtype.kind == "f"


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:  # noqa: A002
    """Indices drawn with probabilities proportional to the rows of ``input`` ((C,) or (N, C)): int64."""
    p = np.asarray(input._data, dtype=np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = p.reshape(-1, p.shape[-1])
    if np.any(rows.sum(axis=1) == 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rng = resolve(generator)
    out = np.stack([rng.choice(len(r), size=num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return Tensor._wrap(out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64))


def randperm(
    n: int, *, generator: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    return _make(resolve(generator).permutation(int(n)).astype(as_dtype(dtype or np.int64)), requires_grad, device)


def normal(
    mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None, device: Any = None
) -> Tensor:
    """Samples from N(mean, std^2): tensors of means/stds (broadcast), or numbers with ``size``."""
    check_device(device)
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = _size(tuple(size)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    d = (
        as_dtype(dtype)
        if dtype is not None
        else next((x.dtype for x in (m, s) if isinstance(x, np.ndarray)), get_default_dtype())
    )
    return Tensor._wrap(np.asarray(resolve(generator).normal(m, s, shape)).astype(d))


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:  # noqa: A002
    """1 with probability ``input`` (or ``p``) element-wise, else 0, in input's dtype."""
    prob = input._data if p is None else np.broadcast_to(p, input._data.shape)
    return Tensor._wrap((resolve(generator).random(input._data.shape) < prob).astype(input._data.dtype))


def randint_like(
    input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None, generator: Any = None
) -> Tensor:  # noqa: A002
    """Integers from [low, high) shaped like input (in input's dtype unless told)."""
    if high is None:
        low, high = 0, low
    arr = resolve(generator).integers(low, high, input._data.shape)
    return Tensor._wrap(arr.astype(as_dtype(dtype) if dtype is not None else input._data.dtype))


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def seed() -> int:
    """Reseed the default generator from the operating system; returns the seed."""
    s = int.from_bytes(os.urandom(8), "little") & (2**63 - 1)
    default_generator.manual_seed(s)
    return s


def get_rng_state() -> Tensor:
    """The default generator's full state as a uint8 tensor (for ``set_rng_state``)."""
    raw = json.dumps(default_generator.get_state()).encode()
    return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())


def set_rng_state(new_state: Tensor) -> None:
    """Restore a state returned by ``get_rng_state``."""
    try:
        state = json.loads(bytes(np.asarray(new_state._data, dtype=np.uint8)).decode())
        default_generator.set_state(state)
    except (ValueError, KeyError, TypeError) as err:
        raise RuntimeError("set_rng_state: not a state returned by deeprnn.get_rng_state()") from err


def set_printoptions(
    precision: int | None = None,
    threshold: int | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """How tensors print: decimals, the element count beyond which they are summarised, line width."""
    formatting.set_options(precision, threshold, edgeitems, linewidth, profile, sci_mode)


_threads = {"n": os.cpu_count() or 1}


def get_num_threads() -> int:
    """The thread count set with ``set_num_threads`` (NumPy's BLAS decides how many it uses)."""
    return _threads["n"]


def set_num_threads(n: int) -> None:
    """Record the thread count (deeprnn does not start threads; BLAS reads OMP/OPENBLAS_NUM_THREADS)."""
    if not isinstance(n, int) or n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads["n"] = n
