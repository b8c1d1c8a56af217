"""``Module``: the base class that owns parameters and sub-modules, as ``torch.nn.Module``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..autograd.autograd_api import clear_grads
from ..autograd.dtypes import is_floating
from ..autograd.size import Size
from ..autograd.tensor import Tensor, as_array
from . import hooks as _hooks
from .module_checks import (
    CUDA_ERROR,
    HOOK_SETS,
    HOOK_STORES,
    IncompatibleKeys,
    addindent,
    check_device,
    check_name,
    parse_to,
    typename,
)
from .module_lookup import ForwardHooks, PathLookup
from .parameter import Parameter

__all__ = ["Module"]


class Module(PathLookup, ForwardHooks):
    """Base class of every layer and model.

    Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, so that
    ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``zero_grad()`` reach it.
    Subclasses implement ``forward``; calling the module calls ``forward``.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        for store in HOOK_STORES:
            object.__setattr__(self, store, OrderedDict())
        for store in HOOK_SETS:
            object.__setattr__(self, store, set())

    # ---- registration ----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign attributes before Module.__init__() call")
        for store in (self._parameters, self._buffers, self._modules):
            if name in store and not (store is self._parameters and isinstance(value, Parameter)):
                if store is self._parameters and value is not None:
                    raise TypeError(
                        f"cannot assign '{typename(value)}' as parameter '{name}' (torch.nn.Parameter or None expected)"
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
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{typename(value)}' as buffer '{name}' "
                    "(torch.nn.Buffer, torch.Tensor or None expected)"
                )
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
                self.__dict__.get("_non_persistent_buffers_set", set()).discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = list(object.__dir__(self)) + list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, for an absent optional parameter) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{typename(param)}' object to parameter '{name}' (torch.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                f"explicitly. To express '{name}' as a function of another Tensor, compute the value in "
                "the forward() method."
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-learnable tensor; a persistent one is saved in ``state_dict``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{typename(tensor)}' object to buffer '{name}' (torch Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module (or None) under ``name``."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    register_module = add_module

    # ---- calling ---------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self.__dict__
        if d.get("_forward_pre_hooks") or d.get("_forward_hooks"):
            return _hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # ---- traversal -------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every sub-module, depth first; each once by default."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

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
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, p in m._parameters.items():
                if p is None or (remove_duplicate and id(p) in seen):
                    continue
                seen.add(id(p))
                yield (f"{mprefix}.{name}" if mprefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, e.g. ('bn.running_mean', Tensor)."""
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, b in m._buffers.items():
                if b is None or (remove_duplicate and id(b) in seen):
                    continue
                seen.add(id(b))
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
        object.__setattr__(self, "training", mode)
        for m in self.children():  # through each child's own train(), which a subclass may override
            m.train(mode)
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

    # ---- dtype and device ----------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Cast floating parameters and buffers in place: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
        ``to(tensor)``. The device must be the CPU ('cpu', 'cpu:0' or a device object); 'cuda' raises
        torch's CPU-only error."""
        device, dtype = parse_to(args, dict(kwargs))
        check_device(device)
        if dtype is None:
            return self
        if not (is_floating(dtype) or dtype.kind == "c"):
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=torch.{dtype}"
            )
        for t in list(self.parameters()) + list(self.buffers()):
            if is_floating(t._data.dtype):
                t._data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad._data = t.grad._data.astype(dtype)
        return self

    def float(self) -> Module:  # noqa: A003
        """Floating parameters and buffers to float32."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Floating parameters and buffers to float64."""
        return self.to(np.float64)

    def half(self) -> Module:
        """Floating parameters and buffers to float16."""
        return self.to(np.float16)

    def bfloat16(self) -> Module:
        raise TypeError("deeprnn has no bfloat16 (NumPy has none); use float(), half() or double()")

    def type(self, dst_type: Any) -> Module:  # noqa: A003
        """Cast floating parameters and buffers to ``dst_type``."""
        return self.to(dst_type)

    def cpu(self) -> Module:
        """Already on the CPU: returns self."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """deeprnn has no GPU: raises torch's CPU-only error."""
        raise AssertionError(CUDA_ERROR)

    def share_memory(self) -> Module:
        """A no-op (no worker processes share deeprnn's memory); returns self."""
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
            transient = m.__dict__.get("_non_persistent_buffers_set", ())
            for bname, b in m._buffers.items():
                if b is not None and bname not in transient:
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
        """torch's layout: the extra_repr, then each child as ``(name): repr`` indented by two."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {addindent(repr(m), 2)}" for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        main = type(self).__name__ + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
