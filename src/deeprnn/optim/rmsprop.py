"""``RMSprop``: divide the gradient by a running root-mean-square of recent gradients.

PyTorch's rule::

    g = -g if maximize;  g = g + weight_decay * p
    v = alpha * v + (1 - alpha) * g * g
    centered: m = lerp(m, g, 1 - alpha);  avg = sqrt(v - m * m) + eps   else  avg = sqrt(v) + eps
    momentum > 0: b = momentum * b + g / avg;  p = p - lr * b           else  p = p - lr * g / avg
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonneg, lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_nonneg("lr", lr, "learning rate")
        check_nonneg("eps", eps, "epsilon value")
        check_nonneg("momentum", momentum)
        check_nonneg("weight_decay", weight_decay)
        check_nonneg("alpha", alpha)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            wd, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(p._data)
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(p._data)
                    if centered:
                        state["grad_avg"] = np.zeros_like(p._data)
                state["step"] += 1
                g = p.grad._data
                g = -g if group["maximize"] else g
                if wd != 0:
                    g = g + wd * p._data
                v = state["square_avg"]
                v *= alpha
                v += (1 - alpha) * g * g
                if centered:
                    m = state["grad_avg"]
                    lerp_(m, g, 1 - alpha)
                    avg = np.sqrt(v + (-1 * m) * m)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += g / avg
                    p._data += -lr * buf
                else:
                    p._data += (-lr * g) / avg
        return loss
