"""The GRU's time loops, compiled: PyTorch's nn.GRU recurrence for one layer-direction.

Forward, with A_t = x_t W_ih^T + b_ih given for every t (T, N, 3H), gates in PyTorch's order
r, z, n; b_hh stays inside the step because r multiplies the hidden part of n:

    Gh_t = h_prev W_hh^T + b_hh                                  (N, 3H)
    r = sigma(A_r + Gh_r)    z = sigma(A_z + Gh_z)    n = tanh(A_n + r * Gh_n)
    h_t = (1 - z) * n + z * h_prev        computed as torch does: n + z * (h_prev - n)

Backward, with dh_t carried from the step after t (dL/dh_n at the last step):

    gh    = dL/dh_t (from above) + dh_t
    dA_n  = gh (1 - z) (1 - n^2)
    dA_z  = gh (h_prev - n) z (1 - z)
    dA_r  = dA_n Gh_n r (1 - r)
    dA_t  = [dA_r, dA_z, dA_n]          the input side:  dW_ih = dA^T X,        db_ih = sum dA
    dGh_t = [dA_r, dA_z, dA_n * r]      the hidden side: dW_hh = dGh^T H_prev,  db_hh = sum dGh
    dh_prev = gh z + dGh_t W_hh

Letters: T steps, N batch, H hidden features; 3H the three gates side by side.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from ._math import add_product, load_step, sigmoid_, store_step, tanh_

__all__ = ["gru_forward_loop", "gru_backward_loop"]


@jit
def _forward(a, h0, whh_t, b_hh, reverse, out, gh_n, save):
    T, N, G = a.shape
    H = G // 3
    prev = np.empty((N, H), a.dtype)  # h_prev, then h_t
    acc = np.empty((N, G), a.dtype)  # Gh_t
    x = np.empty((N, G), a.dtype)  # A_t, then the gates
    load_step(prev, h0.reshape((1,) + h0.shape), 0)
    for s in range(T):
        t = T - 1 - s if reverse else s
        load_step(x, a, t)
        for n in range(N):
            acc[n, :] = b_hh
        add_product(acc, prev, whh_t)  # Gh_t = h_prev W_hh^T + b_hh
        for n in range(N):  # short loops over contiguous rows, each of which LLVM vectorises
            xn = x[n]
            gn = acc[n]
            for j in range(2 * H):
                xn[j] = sigmoid_(xn[j] + gn[j])  # r, z
            xr = xn[:H]
            xz = xn[H : 2 * H]
            xg = xn[2 * H :]
            gg = gn[2 * H :]
            hn = prev[n]
            for j in range(H):
                xg[j] = tanh_(xg[j] + xr[j] * gg[j])  # n = tanh(A_n + r Gh_n)
            for j in range(H):
                hn[j] = xg[j] + xz[j] * (hn[j] - xg[j])  # h_t = (1 - z) n + z h_prev, as torch computes it
        store_step(a, t, x)
        store_step(out, t, prev)
        if save:
            for n in range(N):
                for j in range(H):
                    gh_n[t, n, j] = acc[n, 2 * H + j]


@jit
def _backward(gates, gh_n, out, h0, d_out, has_d_out, w_hh, reverse, d_a, d_gh, dh):
    T, N, G = gates.shape
    H = G // 3
    one = gates.dtype.type(1)
    row = np.empty((N, G), gates.dtype)  # dGh_t, contiguous
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        tp = t + 1 if reverse else t - 1
        for n in range(N):
            for j in range(H):
                r = gates[t, n, j]
                z = gates[t, n, H + j]
                nn = gates[t, n, 2 * H + j]
                hp = h0[n, j] if s == 0 else out[tp, n, j]
                gh = dh[n, j] + d_out[t, n, j] if has_d_out else dh[n, j]
                dan = gh * (one - z) * (one - nn * nn)
                daz = gh * (hp - nn) * z * (one - z)
                dar = dan * gh_n[t, n, j] * r * (one - r)
                dgn = dan * r
                dh[n, j] = gh * z
                row[n, j] = dar
                row[n, H + j] = daz
                row[n, 2 * H + j] = dgn
                d_a[t, n, j] = dar
                d_a[t, n, H + j] = daz
                d_a[t, n, 2 * H + j] = dan
                d_gh[t, n, j] = dar
                d_gh[t, n, H + j] = daz
                d_gh[t, n, 2 * H + j] = dgn
        add_product(dh, row, w_hh)  # dh_prev = gh z + dGh_t W_hh


def gru_forward_loop(a, h0, w_hh, b_hh, reverse, out, gh_n):
    """Run one GRU layer-direction over all T steps.

    Args:
        a: (T, N, 3H) A_t = x_t W_ih^T + b_ih on entry; on exit the gates [r, z, n] of every step.
        h0: (N, H).  w_hh: (3H, H).  b_hh: (3H,) or None.  reverse: visit t = T-1..0.
        out: (T, N, H) receives h_t.  gh_n: (T, N, H) receives Gh_n = (h_prev W_hh^T + b_hh)_n,
            which backward needs, or None (inference).
    """
    whh_t = np.ascontiguousarray(w_hh.T)  # (H, 3H)
    bias = np.zeros(w_hh.shape[0], w_hh.dtype) if b_hh is None else np.ascontiguousarray(b_hh)
    save = gh_n is not None
    _forward(a, h0, whh_t, bias, reverse, out, gh_n if save else out, save)


def gru_backward_loop(gates, gh_n, out, h0, d_out, d_h_last, w_hh, reverse, d_a, d_gh, dh0):
    """Back-propagate through one GRU layer-direction.

    Args:
        gates: (T, N, 3H) [r, z, n] from forward.  gh_n: (T, N, H) from forward.
        out: (T, N, H) h_t from forward.  h0: (N, H).
        d_out: (T, N, H) dL/dh_t from above, or None.  d_h_last: (N, H) dL/dh_n, or None.
        w_hh: (3H, H).  reverse: as in forward.
        d_a: (T, N, 3H) receives dA_t (it may be `gates` itself).  d_gh: (T, N, 3H) receives dGh_t.
        dh0: (N, H) contiguous; on return dL/dh0.
    """
    dh0[...] = 0 if d_h_last is None else d_h_last
    has = d_out is not None
    _backward(gates, gh_n, out, h0, d_out if has else out, has, np.ascontiguousarray(w_hh), reverse, d_a, d_gh, dh0)
