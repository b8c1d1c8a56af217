"""The forward pass recomputed step by step, in plain NumPy loops, keeping every number.

Independent of the fused kernels (no stacked input projection, no in-place buffers):
for each layer l, each direction d and each time step in that direction's order,

    h_t = act(W_ih x_t + b_ih + W_hh h_prev + b_hh)    h_prev = h_{t-1} (forward), h_{t+1} (reverse)

computed for the whole batch as rows:  X_t W_ih^T (N, H_in) x (H_in, H_out) -> (N, H_out).
Layer 0 reads x_t; layer l > 0 reads layer l-1's output at t, both directions concatenated.

Time steps are numbered t = 1..T in the text (h_0 is the initial state); the arrays
use the index t-1, as output[t-1] does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ForwardStep", "ForwardTrace", "trace_forward", "walk_forward", "activate", "activation_derivative"]


def activate(a: np.ndarray, nonlinearity: str) -> np.ndarray:
    """tanh(a) or relu(a) = max(a, 0)."""
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


def activation_derivative(h: np.ndarray, nonlinearity: str) -> np.ndarray:
    """act'(a) from the output h = act(a): 1 - h**2 for tanh, 1 where h > 0 else 0 for relu."""
    return 1.0 - h * h if nonlinearity == "tanh" else (h > 0).astype(h.dtype)


@dataclass
class ForwardStep:
    """One time step of one layer-direction, with every intermediate (N rows = samples)."""

    layer: int
    direction: int  # 0 forward, 1 reverse
    t: int  # 1..T
    x: np.ndarray  # (N, I_l) the step's input
    h_prev: np.ndarray  # (N, H) h_{t-1} (forward) or h_{t+1} (reverse); h0 at the first step
    wx: np.ndarray  # (N, H) W_ih x_t
    wh: np.ndarray  # (N, H) W_hh h_prev
    a: np.ndarray  # (N, H) the pre-activation, biases included
    h: np.ndarray  # (N, H) h_t


@dataclass
class ForwardTrace:
    """Every step, each layer's output and the final states, all time-major."""

    nonlinearity: str
    num_layers: int
    num_dirs: int
    steps: list[ForwardStep] = field(default_factory=list)
    layer_outputs: list[np.ndarray] = field(default_factory=list)  # each (T, N, D*H)
    h_n: np.ndarray | None = None  # (L*D, N, H)

    @property
    def output(self) -> np.ndarray:
        """(T, N, D*H): the last layer's h_t for every t."""
        return self.layer_outputs[-1]

    def step(self, layer: int, direction: int, t: int) -> ForwardStep:
        for s in self.steps:
            if (s.layer, s.direction, s.t) == (layer, direction, t):
                return s
        raise KeyError((layer, direction, t))


def walk_forward(x: np.ndarray, trace: ForwardTrace, H: int, start, step) -> list:
    """The order every kind's forward trace walks in, shared by trace.py and trace_gates.py.

    Layer by layer from the bottom (layer 0 reads x (T, N, I), layer l > 0 layer l-1's output
    (T, N, D*H)), direction by direction, each direction's steps in its own order (forward
    t = 1..T, reverse t = T..1).  For layer-direction k the state starts as ``start(k)``;
    each step is ``h, state = step(layer, d, t, x_t, state, k)`` with x_t (N, I_l) and h (N, H).
    Fills ``trace.layer_outputs`` (each (T, N, D*H)) and returns every k's final state.
    """
    T, N, _ = x.shape
    D = trace.num_dirs
    finals: list = [None] * (trace.num_layers * D)
    layer_in = x  # (T, N, I_l)
    for layer in range(trace.num_layers):
        y = np.zeros((T, N, D * H))  # (T, N, D*H) this layer's output
        for d in range(D):
            k = layer * D + d
            state = start(k)
            order = range(T) if d == 0 else range(T - 1, -1, -1)  # reverse reads the sequence backwards
            for i in order:
                h, state = step(layer, d, i + 1, layer_in[i], state, k)
                y[i, :, d * H : (d + 1) * H] = h
            finals[k] = state  # the state after the direction's last step
        trace.layer_outputs.append(y)
        layer_in = y
    return finals


def trace_forward(
    x: np.ndarray, h0: np.ndarray, weights, nonlinearity: str, num_layers: int, num_dirs: int
) -> ForwardTrace:
    """Recompute the network on x (T, N, I) from h0 (L*D, N, H), one step at a time.

    `weights` holds L*D tuples (w_ih (H, I_l), w_hh (H, H), b_ih (H,) or None, b_hh (H,) or None).
    """
    N = x.shape[1]
    H = weights[0][1].shape[0]
    trace = ForwardTrace(nonlinearity, num_layers, num_dirs, h_n=np.zeros((num_layers * num_dirs, N, H)))

    def step(layer: int, d: int, t: int, x_t: np.ndarray, h: np.ndarray, k: int):
        w_ih, w_hh, b_ih, b_hh = weights[k]
        wx = x_t @ w_ih.T  # (N, I_l) x (I_l, H) -> (N, H)
        wh = h @ w_hh.T  # (N, H) x (H, H) -> (N, H)
        a = wx + wh
        if b_ih is not None:
            a = a + b_ih  # (H,) broadcast over the N rows
        if b_hh is not None:
            a = a + b_hh
        h_new = activate(a, nonlinearity)
        trace.steps.append(ForwardStep(layer, d, t, x_t, h, wx, wh, a, h_new))
        return h_new, h_new

    for k, h in enumerate(walk_forward(x, trace, H, lambda k: h0[k], step)):
        trace.h_n[k] = h
    return trace
