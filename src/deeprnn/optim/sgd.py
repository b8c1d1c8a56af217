"""``SGD``: stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay.

For each parameter p with gradient g (PyTorch's rule, step t)::

    g = -g if maximize;  g = g + weight_decay * p
    b_1 = g;  b_t = momentum * b_{t-1} + (1 - dampening) * g      (if momentum != 0)
    g = g + momentum * b_t if nesterov else b_t
    p = p - lr * g
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .optimizer import Optimizer, check_nonneg

__all__ = ["SGD"]


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_nonneg("lr", lr, "learning rate")
        check_nonneg("momentum", momentum)
        check_nonneg("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in self._params_with_grad(group):
                g = p.grad._data
                g = -g if maximize else g
                if wd != 0:
                    g = g + wd * p._data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = g.copy()
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * g
                    g = g + momentum * buf if nesterov else buf
                p._data += -lr * g
        return loss
