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

__all__ = ["BackwardStep", "BackwardTrace", "trace_backward", "walk_backward", "LOSSES", "loss_seed"]

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


def walk_backward(fwd: ForwardTrace, seed: np.ndarray, begin, step, end) -> np.ndarray:
    """The order every kind's BPTT walks in, shared by bptt.py and bptt_gates.py.

    Layers from the top down, each direction opposite to its forward order (forward t = T..1,
    reverse t = 1..T).  For layer-direction k: ``carry, acc = begin(k)``; at each step
    ``carry, dx_t = step(k, s, above, carry, acc)`` with s the ForwardStep, above (N, H) the
    gradient from the layer above (`seed` (T, N, D*H) = dL/d(output) for the top layer) and
    dx_t (N, I_l) what goes down; then ``end(k, carry, acc)``.  Returns dL/dinput (T, N, I).
    """
    T = seed.shape[0]
    D = fwd.num_dirs
    H = seed.shape[2] // D
    d_y = seed  # (T, N, D*H) dL/d(output of the current layer)
    for layer in range(fwd.num_layers - 1, -1, -1):
        first = fwd.step(layer, 0, 1)
        d_in = np.zeros((T, seed.shape[1], first.x.shape[1]))  # (T, N, I_l) dL/d(this layer's input)
        for d in range(D):
            k = layer * D + d
            carry, acc = begin(k)
            for t in range(T, 0, -1) if d == 0 else range(1, T + 1):
                above = d_y[t - 1, :, d * H : (d + 1) * H]  # (N, H)
                carry, dx_t = step(k, fwd.step(layer, d, t), above, carry, acc)
                d_in[t - 1] += dx_t
            end(k, carry, acc)
        d_y = d_in
    return d_y


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

    def begin(k: int):
        w_ih, w_hh = weights[k][:2]
        return np.zeros((N, H)), [np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros(H)]  # h_n is not in the loss

    def step(k: int, s, above: np.ndarray, carry: np.ndarray, acc: list):
        w_ih, w_hh = weights[k][:2]
        g = above + carry
        dact = activation_derivative(s.h, fwd.nonlinearity)
        d_a = g * dact  # (N, H)
        acc[0] += d_a.T @ s.x  # (H, N) x (N, I_l) -> (H, I_l)
        acc[1] += d_a.T @ s.h_prev  # (H, N) x (N, H) -> (H, H)
        acc[2] += d_a.sum(axis=0)
        norms = float(np.linalg.norm(acc[0])), float(np.linalg.norm(acc[1]))
        bt.steps.append(BackwardStep(s.layer, s.direction, s.t, above.copy(), carry, g, dact, d_a, *norms))
        return d_a @ w_hh, d_a @ w_ih  # (N, H) to the step before, (N, I_l) to the layer below

    def end(k: int, carry: np.ndarray, acc: list):
        b_ih, b_hh = weights[k][2:4]
        bt.dh0[k] = carry
        bt.grads[k] = (acc[0], acc[1], None if b_ih is None else acc[2].copy(), None if b_hh is None else acc[2].copy())

    bt.dx = walk_backward(fwd, bt.seed, begin, step, end)
    return bt
