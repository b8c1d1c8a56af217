"""``Adam``: adaptive moment estimation (Kingma & Ba, 2015), with PyTorch's exact update order.

At step t, for parameter p with gradient g::

    g = -g if maximize
    p = p * (1 - lr * weight_decay)      if decoupled (AdamW)   else  g = g + weight_decay * p
    m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
    v_max = max(v_max, v) if amsgrad (used in place of v below)
    p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonneg, lerp_

__all__ = ["Adam"]


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False)``."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_nonneg("lr", lr, "learning rate")
        check_nonneg("eps", eps, "epsilon value")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        check_nonneg("weight_decay", weight_decay)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad, decoupled = (
                group["weight_decay"],
                group["amsgrad"],
                group["decoupled_weight_decay"],
            )
            for p in self._params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(p._data)
                    state["exp_avg_sq"] = np.zeros_like(p._data)
                    if amsgrad:
                        state["max_exp_avg_sq"] = np.zeros_like(p._data)
                state["step"] += 1
                g = p.grad._data
                g = -g if group["maximize"] else g
                if wd != 0:
                    if decoupled:
                        p._data *= 1 - lr * wd
                    else:
                        g = g + wd * p._data
                m, v = state["exp_avg"], state["exp_avg_sq"]
                lerp_(m, g, 1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                t = state["step"]
                bias_correction1 = 1 - beta1**t
                bias_correction2_sqrt = (1 - beta2**t) ** 0.5
                step_size = lr / bias_correction1
                if amsgrad:
                    vmax = state["max_exp_avg_sq"]
                    np.maximum(vmax, v, out=vmax)
                    denom = np.sqrt(vmax) / bias_correction2_sqrt + eps
                else:
                    denom = np.sqrt(v) / bias_correction2_sqrt + eps
                p._data += (-step_size * m) / denom
        return loss
