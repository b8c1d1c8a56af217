"""``Adagrad``: per-coordinate learning rates from the running sum of squared gradients.

PyTorch's rule at step t::

    g = -g if maximize;  g = g + weight_decay * p
    clr = lr / (1 + (t - 1) * lr_decay)
    s = s + g * g                       (s starts at initial_accumulator_value)
    p = p - clr * g / (sqrt(s) + eps)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonneg

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_nonneg("lr", lr, "learning rate")
        check_nonneg("lr_decay", lr_decay)
        check_nonneg("weight_decay", weight_decay)
        check_nonneg("initial_accumulator_value", initial_accumulator_value)
        check_nonneg("eps", eps, "epsilon value")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch creates the state eagerly
            for p in group["params"]:
                self.state[p]["step"] = 0
                self.state[p]["sum"] = np.full_like(p._data, group["initial_accumulator_value"])

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lr_decay, wd, eps = (
                group["lr"],
                group["lr_decay"],
                group["weight_decay"],
                group["eps"],
            )
            for p in self._params_with_grad(group):
                state = self.state[p]
                if "sum" not in state:  # a parameter added after construction
                    state["step"] = 0
                    state["sum"] = np.full_like(p._data, group["initial_accumulator_value"])
                state["step"] += 1
                g = p.grad._data
                g = -g if group["maximize"] else g
                if wd != 0:
                    g = g + wd * p._data
                clr = lr / (1 + (state["step"] - 1) * lr_decay)
                s = state["sum"]
                s += g * g
                std = np.sqrt(s) + eps
                p._data += (-clr * g) / std
        return loss
