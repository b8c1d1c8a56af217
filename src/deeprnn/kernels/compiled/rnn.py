"""The Elman RNN's time loops, compiled: kernels/rnn.py's ElmanKind with its two loops in machine code.

    forward   h_t  = act(A_t + h_prev W_hh^T)            A_t = x_t W_ih^T + b_ih + b_hh, given
    backward  dA_t = (dL/dh_t + dh_t) * act'(a_t)         act'(a_t) given (backward_prepare), dh_t the carry
              dh_prev = dA_t W_hh

Each call runs every step of one layer-direction (or of one segment of a packed batch) with no
Python and no library call per step: the recurrent product (a hand-written loop,
_math.add_product), the addition and the activation.  Everything done for all steps at once (the
input projection, act', the weight-gradient products) stays NumPy, in the shared stack.

Letters: T steps (of the segment), N rows, H hidden features.
"""

from __future__ import annotations

import numpy as np
from numba import types

from ..rnn import ElmanKind
from ._jit import readonly_matrix, typed_jit
from ._math import add_product, load_step, store_step, tanh_

__all__ = ["CompiledElman", "compiled_twin"]


@typed_jit(lambda F: (F[:, :, :], F[:, ::1], readonly_matrix(F), types.boolean, types.boolean))
def _forward(seq, h0, whh_t, relu, reverse):
    T, N, H = seq.shape
    prev = h0.copy()  # (N, H) h_prev
    acc = np.empty((N, H), seq.dtype)  # a_t
    zero = seq.dtype.type(0)
    for s in range(T):
        t = T - 1 - s if reverse else s
        load_step(acc, seq, t)
        add_product(acc, prev, whh_t)  # a_t = A_t + h_prev W_hh^T
        for n in range(N):  # over contiguous rows, the choice outside the loop: LLVM vectorises it
            a = acc[n]
            p = prev[n]
            if relu:
                for j in range(H):
                    p[j] = max(a[j], zero)
            else:  # with the branch inside and 2-D indexing, tanh ran scalar: 1.2-1.6x slower forward
                for j in range(H):
                    p[j] = tanh_(a[j])
        store_step(seq, t, prev)


@typed_jit(lambda F: (F[:, :, :], F[:, :, :], types.boolean, F[:, ::1], types.boolean, F[:, ::1]))
def _backward(d_a, d_seq, has_d_seq, w_hh, reverse, carry):
    T, N, H = d_a.shape
    g = np.empty((N, H), d_a.dtype)  # dA_t, contiguous
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        for n in range(N):
            for j in range(H):
                gj = carry[n, j] + d_seq[t, n, j] if has_d_seq else carry[n, j]
                v = gj * d_a[t, n, j]  # dA_t = g_t * act'(a_t)
                g[n, j] = v
                d_a[t, n, j] = v
                carry[n, j] = 0
        add_product(carry, g, w_hh)  # dh_prev = dA_t W_hh


class CompiledElman(ElmanKind):
    """ElmanKind whose forward_steps and backward_steps run compiled (same buffers, same contract)."""

    def forward_steps(self, whh_t, v, prev, reverse, scratch):
        """h_t = act(A_t + h_prev W_hh^T) in place over v['h'] (T, N, H), from prev = (h_prev,)."""
        _forward(v["h"], np.ascontiguousarray(prev[0]), whh_t, self.nonlinearity == "relu", reverse)

    def backward_steps(self, weights, v, carries, reverse, work):
        """v['d_gates'] (T, N, H): act'(a_t) in, dA_t out; carries = (dL/dh,), (N, H) contiguous, updated."""
        d_a, d_out = v["d_gates"], v["d_out"]
        has = d_out is not None
        _backward(d_a, d_out if has else d_a, has, np.ascontiguousarray(weights[1]), reverse, carries[0])


def compiled_twin(kind: ElmanKind, loops: bool = True) -> CompiledElman:
    """The compiled twin of RNN_TANH or RNN_RELU (its loops; the Elman RNN has no compiled preparation)."""
    if not loops:
        raise ValueError("the Elman RNN's compiled twin runs its loops compiled (loops=True)")
    return CompiledElman(kind.nonlinearity)
