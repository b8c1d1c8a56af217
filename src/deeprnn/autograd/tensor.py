"""``Tensor``: a NumPy array that remembers how it was computed, so gradients can flow back.

A tensor holds its values in ``_data`` (an ``np.ndarray``; ``.data`` is, as in torch, a detached
tensor on the same memory), ``requires_grad``, the accumulated ``grad``
(a Tensor or None) and ``grad_fn``, the node of the operation that produced it (None for
leaves). Operations live in the ``ops_*`` modules; the methods here only dispatch to them.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .dtypes import as_dtype, get_default_dtype, is_floating
from .node import Node
from .size import Size

__all__ = ["Tensor", "as_array"]


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert Python numbers, nested lists, arrays or tensors to an ``np.ndarray``.

    Python floats become the default dtype (float32), Python ints int64 and bools bool, as
    in ``torch.tensor``; NumPy arrays keep their own dtype unless ``dtype`` is given.
    """
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)  # NumPy arrays and scalars keep their dtype, as in torch
    elif hasattr(data, "detach") and hasattr(data, "numpy"):  # a torch tensor
        arr = data.detach().cpu().numpy()
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            data = [as_array(d) for d in data]
        arr = np.asarray(data)
        if dtype is None:
            if arr.dtype == np.float64:
                arr = arr.astype(get_default_dtype())
            elif arr.dtype.kind in "iu":
                arr = arr.astype(np.int64)
            elif arr.dtype == object:
                raise TypeError(f"could not convert {type(data).__name__} to a tensor")
    if dtype is not None:
        arr = arr.astype(as_dtype(dtype), copy=False)
    return arr


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False)`` converts lists, numbers and arrays; prefer
    ``deeprnn.tensor(...)``. Shapes are NumPy's; ``shape`` returns a ``Size``.
    """

    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_output_nr", "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to the Tensor's reflected operator

    def __init__(self, data: Any = (), dtype: Any = None, requires_grad: bool = False) -> None:
        arr = as_array(data, dtype)
        self._data = arr
        self.grad: Tensor | None = None
        self.grad_fn: Node | None = None
        self._output_nr = 0
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an array without conversion (internal fast path)."""
        t = object.__new__(cls)
        t._data = data
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._retains_grad = False
        return t

    # ---- properties -------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """A tensor on the same memory, detached from the graph: writes to it change this tensor."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        """``t.data = other`` makes t hold other's values (shared, as torch does), keeping t's autograd state."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        self._data = value._data

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return self.permute(*reversed(range(self._data.ndim)))

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return self.shape
        from .ops_shape import _dim

        return self._data.shape[_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    # ---- autograd ---------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf tensor as one whose gradient should be computed."""
        if requires_grad and not is_floating(self._data.dtype):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def _accumulate_grad(self, g: np.ndarray) -> None:
        if g.shape != self._data.shape:
            g = np.broadcast_to(g, self._data.shape)
        if self.grad is None:
            self.grad = Tensor._wrap(np.array(g, dtype=self._data.dtype, copy=True))
        else:
            self.grad._data = self.grad._data + g

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Sequence[Tensor] | None = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is d(loss)/d(self) and may be omitted only for a one-element tensor.
        """
        from .autograd_api import backward

        backward([self], None if gradient is None else [gradient], retain_graph, create_graph, inputs)

    def detach(self) -> Tensor:
        """A new tensor on the same data, cut from the graph."""
        return Tensor._wrap(self._data)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    # ---- conversion ---------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = np.asarray(self._data) if dtype is None else np.asarray(self._data, dtype=dtype)
        return arr.copy() if copy else arr

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __float__(self) -> float:
        return builtins.float(self.item())

    def __int__(self) -> int:
        return builtins.int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self._data.reshape(()).item())

    def __index__(self) -> int:
        return builtins.int(self.item())

    def __repr__(self) -> str:
        from .formatting import tensor_repr

        return tensor_repr(self)

    __hash__ = object.__hash__

    def to(self, dtype: Any = None, *args: Any, **kwargs: Any) -> Tensor:
        """Cast to ``dtype`` (a device argument such as 'cpu' is accepted and ignored)."""
        dtype = kwargs.get("dtype", dtype)
        if dtype is None or isinstance(dtype, str) and dtype == "cpu":
            return self
        from .ops_shape import to_dtype

        return to_dtype(self, as_dtype(dtype))

    def float(self) -> Tensor:  # noqa: A003
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:  # noqa: A003
        return self.to(np.int32)

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        return self

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)


from . import tensor_methods  # noqa: E402,F401  attaches the operator and op methods
