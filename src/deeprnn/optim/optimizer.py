"""``Optimizer``: the base class of every optimiser, with PyTorch's param_groups, state and state_dict.

An optimiser holds ``param_groups`` (a list of dicts, each with its ``params`` and its
hyper-parameters) and ``state`` (per parameter: NumPy buffers and a ``step`` counter).
``step()`` updates ``p.data`` in place from ``p.grad.data``, skipping parameters without
a gradient. ``state_dict()`` refers to parameters by index and holds only numbers,
lists, dicts and copies of NumPy arrays, so it can be saved as JSON + npz and loaded
back bit-for-bit.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd.autograd_api import clear_grads
from ..autograd.dtypes import torch_type_name
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor, as_array

__all__ = ["Optimizer", "required", "lerp_", "check_nonneg"]


class _RequiredParameter:
    """Singleton marking a hyper-parameter that every group must specify."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj: Any) -> str:
    """PyTorch's ``torch.typename`` spelling, with our package name."""
    if isinstance(obj, Tensor):
        return f"deeprnn.{torch_type_name(obj.dtype)}Tensor"
    return type(obj).__name__


def _plain(value: Any) -> Any:
    """A checkpoint-friendly copy: tuples become lists, arrays are copied, scalars stay."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_nonneg(name: str, value: float, label: str | None = None) -> None:
    """PyTorch's ``Invalid <label>: <value>`` ValueError for a negative hyper-parameter."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {label or name + ' value'}: {value}")


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors, of (name, tensor) pairs, or of dicts (param
    groups) such as ``[{'params': model.rnn.parameters()}, {'params': head, 'lr': 1e-3}]``;
    a group's missing hyper-parameters come from ``defaults``.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {_typename(params)}"
            )
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ---- groups ------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyper-parameters), e.g. when unfreezing layers."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        param_group["params"] = tensors
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not (p.is_leaf or p._retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                "error; see github.com/pytorch/pytorch/issues/40967 for more information",
                UserWarning,
                stacklevel=3,
            )
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- stepping ------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (set it to None by default, else fill it with zeros)."""
        for group in self.param_groups:
            clear_grads(group["params"], set_to_none)

    def _closure(self, closure: Callable[[], Any] | None) -> Any:
        """Evaluate the closure (with grad enabled) and mark that the optimiser has stepped."""
        self._opt_called = True
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _params_with_grad(self, group: dict[str, Any]) -> list[Tensor]:
        """The parameters that ``step`` updates in place; their version counters are bumped, as
        torch's in-place updates do, so a backward through a graph that saved them raises."""
        params = [p for p in group["params"] if p.grad is not None]
        for p in params:
            p._vc.value += 1
        return params

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        raise NotImplementedError

    # ---- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``, copied.

        Parameters are numbered in order across groups, as PyTorch does; state arrays are
        copies, so later steps do not change a saved dict.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _plain(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: _plain(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by ``state_dict`` (keys may be str, as after JSON).

        Floating state arrays are copied and cast to their parameter's dtype; the step
        counter is kept as a number.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, s in zip(self.param_groups, saved_groups):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
                )
        id_map = {}
        for g, s in zip(self.param_groups, saved_groups):
            for p, i in zip(g["params"], s["params"]):
                id_map[int(i)] = p
        saved_state = {int(k): v for k, v in state_dict["state"].items()}
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for i, values in saved_state.items():
            if i not in id_map:
                continue
            p = id_map[i]
            state[p] = {k: self._load_value(p, k, v) for k, v in values.items()}
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            ng = {k: copy.deepcopy(v) for k, v in s.items() if k != "params"}
            for k, v in ng.items():
                if isinstance(g.get(k), tuple) and isinstance(v, list):
                    ng[k] = tuple(v)
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        self.state = state
        self.param_groups = new_groups

    @staticmethod
    def _load_value(p: Tensor, key: str, value: Any) -> Any:
        if key == "step":
            return int(float(as_array(value))) if not isinstance(value, (int, float)) else int(value)
        if value is None or isinstance(value, (int, float, bool)):
            return value
        arr = np.array(as_array(value), copy=True)
        if np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(p._data.dtype, copy=False)
        return arr

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._opt_called = False


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start += weight * (end - start) in place, with PyTorch's two-branch formula for accuracy."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        np.subtract(end, (end - start) * (1 - weight), out=start)
