"""``Tensor``: a NumPy array that remembers how it was computed, so gradients can flow back.

A tensor holds its values in ``_data`` (an ``np.ndarray``; ``.data`` is, as in torch, a detached
tensor on the same memory), ``requires_grad``, the accumulated ``grad`` (a Tensor or None),
``grad_fn``, the node of the operation that produced it (None for leaves), and a version
counter (``_version``) that it shares with every view of the same memory. Operations live in
the ``ops_*`` modules; the methods here only dispatch to them.
"""

from __future__ import annotations

import builtins
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .dtypes import as_dtype, get_default_dtype, is_floating
from .node import Node
from .size import Size
from .version import VersionCounter
from .views import NO_GRAD_VIEW, sync_view

__all__ = ["Tensor", "as_array", "legacy_array", "RemovableHandle"]


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


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def legacy_array(args: Sequence[Any], dtype: np.dtype) -> np.ndarray:
    """The array of a legacy constructor call: ``Tensor()``, ``Tensor(2, 3)`` (sizes), ``Tensor(data)``.

    Data is converted to ``dtype`` whatever its own type, as ``torch.FloatTensor([1, 2])``;
    sizes give zeros (torch leaves them uninitialised).
    """
    if not args:
        return np.empty((0,), dtype=dtype)
    if all(_is_int(a) for a in args) or (len(args) == 1 and isinstance(args[0], Size)):
        sizes = tuple(int(a) for a in (args[0] if isinstance(args[0], Size) else args))
        for s in sizes:
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(sizes)}")
        return np.zeros(sizes, dtype=dtype)
    if len(args) > 1:
        raise TypeError(f"new(): expected sizes (ints) or one sequence of data, got {len(args)} arguments")
    data = args[0]
    if isinstance(data, str):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if isinstance(data, (builtins.float, builtins.bool, np.floating)):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return np.array(as_array(data), dtype=dtype)


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable[..., Any]) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(...)`` is torch's legacy constructor: ``Tensor(2, 3)`` is a (2, 3) tensor,
    ``Tensor([1, 2])`` converts data to the default float dtype; prefer ``deeprnn.tensor(...)``.
    Shapes are NumPy's; ``shape`` returns a ``Size``.
    """

    __slots__ = (
        "_data",
        "_requires_grad",
        "grad",
        "_grad_fn",
        "_output_nr",
        "_retains_grad",
        "_vc",
        "_base",
        "_view_version",
        "_hooks",
        "__weakref__",
    )
    __array_priority__ = 1000  # ndarray <op> Tensor defers to the Tensor's reflected operator

    def __init__(self, *args: Any, device: Any = None) -> None:
        if len(args) == 1 and isinstance(args[0], Tensor):  # Tensor(t): the same data
            self._init(args[0]._data)
            self._vc = args[0]._vc
            return
        self._init(legacy_array(args, get_default_dtype()))

    def _init(self, data: np.ndarray, requires_grad: bool = False) -> None:
        """Set every slot (the constructor of subclasses such as Parameter)."""
        self._data = data
        self._requires_grad = False
        self.grad: Tensor | None = None
        self._grad_fn: Node | None = None
        self._output_nr = 0
        self._retains_grad = False
        self._vc = VersionCounter()
        self._base: Tensor | None = None
        self._view_version = 0
        self._hooks: list | None = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an array without conversion (internal fast path)."""
        t = object.__new__(cls)
        t._data = data
        t._requires_grad = requires_grad
        t.grad = None
        t._grad_fn = None
        t._output_nr = 0
        t._retains_grad = False
        t._vc = VersionCounter()
        t._base = None
        t._view_version = 0
        t._hooks = None
        return t

    # ---- properties -------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """A tensor on the same memory, detached from the graph: writes to it change this tensor
        (and, as in torch, are not seen by autograd's version checks)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        """``t.data = other`` makes t hold other's values (shared, as torch does), keeping t's autograd state."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        self._data = value._data

    def _sync(self) -> None:
        if self._base is not None and self._view_version not in (self._vc.value, NO_GRAD_VIEW):
            sync_view(self)

    @property
    def requires_grad(self) -> bool:
        self._sync()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    @property
    def grad_fn(self) -> Node | None:
        """The node of the operation that produced this tensor (None for a leaf)."""
        self._sync()
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had (shared with its views)."""
        return self._vc.value

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

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

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
        self._requires_grad = bool(requires_grad) or self._grad_fn is not None
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (a no-op on a leaf)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        fn = self._grad_fn
        if fn.retained is None:
            fn.retained = {}
        fn.retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` whenever the gradient of this tensor is computed; a returned tensor
        replaces the gradient (e.g. ``p.register_hook(lambda g: g.clamp(-5, 5))``)."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        fn = self._grad_fn
        if fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            fn.add_pre_hook(self._output_nr, hook)
            return RemovableHandle(fn.pre_hooks[self._output_nr], hook)  # type: ignore[index]
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _accumulate_grad(self, g: np.ndarray, owned: bool = False) -> None:
        """Add g to .grad.  owned: nothing else refers to g (autograd/unshared.py), so a first gradient of
        this dtype and shape becomes .grad itself rather than a copy, as torch's AccumulateGrad steals it."""
        if g.shape != self._data.shape:
            g, owned = np.broadcast_to(g, self._data.shape), False
        if self.grad is None:
            if owned and g.dtype == self._data.dtype:
                self.grad = Tensor._wrap(g)
            else:
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
        """A new tensor on the same data (and version counter), cut from the graph."""
        t = Tensor._wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place: it becomes a leaf that does not require grad."""
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    # ---- conversion ---------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        if self.requires_grad and not force:
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
        """The values as (nested) Python lists of numbers; a 0-d tensor gives a number."""
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
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a 0-d tensor's value, as torch does."""
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        from .formatting import tensor_repr

        return tensor_repr(self)

    __hash__ = object.__hash__
