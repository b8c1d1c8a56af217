"""``Module``: the base class that owns parameters and sub-modules, as ``torch.nn.Module``."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..autograd.autograd_api import clear_grads
from ..autograd.dtypes import as_dtype, is_floating
from ..autograd.size import Size
from ..autograd.tensor import Tensor, as_array
from .parameter import Parameter

__all__ = ["Module"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model.

    Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, so that
    ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``zero_grad()`` reach it.
    Subclasses implement ``forward``; calling the module calls ``forward``.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration ----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign attributes before Module.__init__() call")
        for store in (self._parameters, self._buffers, self._modules):
            if name in store and not (store is self._parameters and isinstance(value, Parameter)):
                if store is self._parameters and value is not None:
                    raise TypeError(
                        f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                        "(deeprnn.nn.Parameter or None expected)"
                    )
        if isinstance(value, Parameter):
            self._buffers.pop(name, None)
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        elif name in self._parameters:
            self._parameters[name] = value  # None
        elif name in self._buffers:
            self._buffers[name] = value
        elif name in self._modules:
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, for an absent optional parameter) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(deeprnn.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-learnable tensor that is saved in ``state_dict``."""
        self._buffers[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        self._modules[name] = module

    register_module = add_module

    # ---- calling ---------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- traversal -------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs, e.g. ('rnn.weight_ih_l0', Parameter)."""
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, p in m._parameters.items():
                if p is None or (remove_duplicate and id(p) in seen):
                    continue
                seen.add(id(p))
                yield (f"{mprefix}.{name}" if mprefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mprefix}.{name}" if mprefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], None]) -> Module:
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients -------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active); returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the ``.grad`` of every parameter (set to None by default, as PyTorch 2 does)."""
        clear_grads(self.parameters(), set_to_none)

    # ---- dtype -------------------------------------------------------------------
    def to(self, dtype: Any = None, *args: Any, **kwargs: Any) -> Module:
        """Cast floating parameters and buffers to ``dtype`` in place ('cpu' is accepted and ignored)."""
        dtype = kwargs.get("dtype", dtype)
        if dtype is None or (isinstance(dtype, str) and dtype == "cpu"):
            return self
        d = as_dtype(dtype)
        if not is_floating(d):
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={d}")
        for t in list(self.parameters()) + list(self.buffers()):
            if is_floating(t._data.dtype):
                t._data = t._data.astype(d)
                if t.grad is not None:
                    t.grad._data = t.grad._data.astype(d)
        return self

    def float(self) -> Module:  # noqa: A003
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def cpu(self) -> Module:
        return self

    # ---- state ------------------------------------------------------------------
    def state_dict(self, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and buffer by dotted name, as tensors sharing this module's data."""
        out = OrderedDict() if destination is None else destination
        for name, m in self.named_modules(prefix=prefix.rstrip(".")):
            base = f"{name}." if name else ""
            for pname, p in m._parameters.items():
                if p is not None:
                    out[base + pname] = p if keep_vars else Tensor._wrap(p._data)
            for bname, b in m._buffers.items():
                if b is not None:
                    out[base + bname] = b if keep_vars else Tensor._wrap(b._data)
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> IncompatibleKeys:
        """Copy values (deeprnn or torch tensors, NumPy arrays) into the parameters and buffers.

        Every key and shape is checked before anything is written, so a failed load
        changes nothing. Values are cast to each parameter's dtype.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        arrays: dict[str, np.ndarray] = {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            try:
                arr = as_array(state_dict[k])
            except Exception as err:  # noqa: BLE001 - reported with the key
                errors.append(
                    f'While copying the parameter named "{k}", expected a tensor or array, '
                    f"got {type(state_dict[k]).__name__} ({err})."
                )
                continue
            if arr.shape != target._data.shape:
                errors.append(
                    f"size mismatch for {k}: copying a param with shape {Size(arr.shape)!r} from checkpoint, "
                    f"the shape in current model is {Size(target._data.shape)!r}."
                )
            elif arr.dtype.kind not in "fiub":
                errors.append(
                    f'While copying the parameter named "{k}", expected a numeric array, got dtype {arr.dtype}.'
                )
            else:
                arrays[k] = arr
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for k, arr in arrays.items():
            np.copyto(own[k]._data, arr, casting="unsafe")
            own[k]._vc.value += 1  # an in-place copy_, as torch's
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ----------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
