"""Backpropagation through time recomputed step by step, keeping every number.

The loss is a weighted sum of the output, L = sum(G * output), with G = dL/d(output):
all ones for loss='sum' (L = sum(output)), and ones at the last time step only for
loss='last' (L = sum(output[-1]), output[:, -1] with batch_first), which shows how far a
gradient travels back in time.  h_n is not in the loss.

For layer l (from the top down), direction d, walking the steps in the opposite order
to the forward pass:

    dL/dh_t = (from above) + (from the next step)    above: G (top layer), else layer l+1's dL/dx_t
    dA_t    = dL/dh_t * act'(a_t)                      act' = 1 - h_t**2 (tanh), [h_t > 0] (relu)
    dW_ih  += dA_t^T x_t      dW_hh += dA_t^T h_prev      db_ih, db_hh += sum over samples of dA_t
    from the next step (for the step before) = dA_t W_hh
    dL/dx_t += dA_t W_ih                               goes down to layer l-1 (or is dL/dinput)

and the carry left after the last step is dL/dh0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .trace import ForwardTrace, activation_derivative

__all__ = ["BackwardStep", "BackwardTrace", "trace_backward", "LOSSES", "loss_seed"]

LOSSES = ("sum", "last")


def loss_seed(loss: str, T: int, N: int, DH: int) -> np.ndarray:
    """G = dL/d(output), time-major (T, N, D*H), for the named loss."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    g = np.zeros((T, N, DH))
    if loss == "sum":
        g[...] = 1.0
    else:
        g[T - 1] = 1.0
    return g


@dataclass
class BackwardStep:
    """One BPTT step of one layer-direction: the gradients that meet at h_t, all (N, H)."""

    layer: int
    direction: int
    t: int  # 1..T
    from_above: np.ndarray  # (N, H)
    from_next: np.ndarray  # (N, H) the carry from the step processed before (t+1 forward, t-1 reverse)
    grad_h: np.ndarray  # (N, H) dL/dh_t
    dact: np.ndarray  # (N, H) act'(a_t)
    d_a: np.ndarray  # (N, H) dA_t
    dw_ih_norm: float  # ||dW_ih|| accumulated so far
    dw_hh_norm: float  # ||dW_hh|| accumulated so far

    @property
    def grad_norm(self) -> float:
        """||dL/dh_t|| over the whole batch (Frobenius)."""
        return float(np.linalg.norm(self.grad_h))


@dataclass
class BackwardTrace:
    """The whole BPTT: the loss, dL/d(output) (T, N, D*H), every step, and the final gradients."""

    loss: str
    seed: np.ndarray  # (T, N, D*H) dL/d(output)
    steps: list[BackwardStep] = field(default_factory=list)
    grads: list[tuple] = field(default_factory=list)  # per layer-direction (dw_ih, dw_hh, db_ih, db_hh)
    dx: np.ndarray | None = None  # (T, N, I)
    dh0: np.ndarray | None = None  # (L*D, N, H)

    def norms(self, layer: int, direction: int) -> np.ndarray:
        """||dL/dh_t|| for t = 1..T of one layer-direction."""
        rows = sorted((s.t, s.grad_norm) for s in self.steps if (s.layer, s.direction) == (layer, direction))
        return np.array([n for _, n in rows])


def trace_backward(fwd: ForwardTrace, weights, loss: str = "sum") -> BackwardTrace:
    """BPTT over a ForwardTrace for the named loss; see the module docstring."""
    out = fwd.output
    T, N, DH = out.shape
    D = fwd.num_dirs
    H = DH // D
    L = fwd.num_layers
    bt = BackwardTrace(loss, loss_seed(loss, T, N, DH))
    bt.grads = [None] * (L * D)
    bt.dh0 = np.zeros((L * D, N, H))
    d_y = bt.seed  # (T, N, D*H) dL/d(output of the current layer)
    for layer in range(L - 1, -1, -1):
        first = fwd.step(layer, 0, 1)
        d_in = np.zeros((T, N, first.x.shape[1]))  # (T, N, I_l) dL/d(this layer's input)
        for d in range(D):
            k = layer * D + d
            w_ih, w_hh, b_ih, b_hh = weights[k]
            dw_ih, dw_hh, db = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros(H)
            carry = np.zeros((N, H))  # h_n is not in the loss
            order = range(T, 0, -1) if d == 0 else range(1, T + 1)  # opposite to the forward order
            for t in order:
                s = fwd.step(layer, d, t)
                above = d_y[t - 1, :, d * H : (d + 1) * H]  # (N, H)
                g = above + carry
                dact = activation_derivative(s.h, fwd.nonlinearity)
                d_a = g * dact  # (N, H)
                dw_ih += d_a.T @ s.x  # (H, N) x (N, I_l) -> (H, I_l)
                dw_hh += d_a.T @ s.h_prev  # (H, N) x (N, H) -> (H, H)
                db += d_a.sum(axis=0)
                bt.steps.append(
                    BackwardStep(
                        layer,
                        d,
                        t,
                        above.copy(),
                        carry,
                        g,
                        dact,
                        d_a,
                        float(np.linalg.norm(dw_ih)),
                        float(np.linalg.norm(dw_hh)),
                    )
                )
                carry = d_a @ w_hh  # (N, H) -> the step before
                d_in[t - 1] += d_a @ w_ih  # (N, I_l)
            bt.dh0[k] = carry
            bt.grads[k] = (
                dw_ih,
                dw_hh,
                None if b_ih is None else db.copy(),
                None if b_hh is None else db.copy(),
            )
        d_y = d_in
    bt.dx = d_y
    return bt
