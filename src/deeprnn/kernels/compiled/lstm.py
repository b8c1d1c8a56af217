"""The LSTM's time loops, compiled: PyTorch's nn.LSTM recurrence for one layer-direction.

Forward, with A_t = x_t W_ih^T + b_ih + b_hh given for every t (T, N, 4H), gates in PyTorch's
order i, f, g, o:

    z_t = A_t + h_prev W_hh^T                                    (N, 4H)
    i = sigma(z_i)   f = sigma(z_f)   g = tanh(z_g)   o = sigma(z_o)
    c_t = f * c_prev + i * g          h_t = o * tanh(c_t)

Backward, with dh_t and dc_t carried from the step after t (dL/dh_n, dL/dc_n at the last step):

    gh   = dL/dh_t (from above) + dh_t
    dc   = dc_t + gh * o * (1 - tanh(c_t)^2)
    dA_t = [dc g i(1-i),  dc c_prev f(1-f),  dc i (1-g^2),  gh tanh(c_t) o(1-o)]     (N, 4H)
    dh_prev = dA_t W_hh        dc_prev = dc * f

dA (T, N, 4H) is what every weight gradient is built from (dW_ih = dA^T X, dW_hh = dA^T H_prev,
db = sum dA), all in NumPy over the whole sequence.  tanh(c_t) is recomputed in backward, with the
same function as in forward, rather than stored.

Letters: T steps, N batch, H hidden features; 4H the four gates side by side.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from ._math import add_product, load_step, sigmoid_, store_step, tanh_

__all__ = ["lstm_forward_loop", "lstm_backward_loop"]


@jit
def _forward(a, h0, c0, whh_t, reverse, out, cells, save_cells, c_last):
    T, N, G = a.shape
    H = G // 4
    prev = np.empty((N, H), a.dtype)  # h_prev, then h_t
    c = np.empty((N, H), a.dtype)  # c_prev, then c_t
    acc = np.empty((N, G), a.dtype)  # z_t, then the gates
    load_step(prev, h0.reshape((1,) + h0.shape), 0)
    load_step(c, c0.reshape((1,) + c0.shape), 0)
    for s in range(T):
        t = T - 1 - s if reverse else s
        load_step(acc, a, t)
        add_product(acc, prev, whh_t)  # z_t = A_t + h_prev W_hh^T
        for n in range(N):  # short loops over contiguous rows, each of which LLVM vectorises
            z = acc[n]
            for j in range(2 * H):
                z[j] = sigmoid_(z[j])  # i, f
            for j in range(2 * H, 3 * H):
                z[j] = tanh_(z[j])  # g
            for j in range(3 * H, G):
                z[j] = sigmoid_(z[j])  # o
            zi = z[:H]
            zf = z[H : 2 * H]
            zg = z[2 * H : 3 * H]
            zo = z[3 * H :]
            cn = c[n]
            hn = prev[n]
            for j in range(H):
                cn[j] = zf[j] * cn[j] + zi[j] * zg[j]  # c_t = f c_prev + i g
            for j in range(H):
                hn[j] = zo[j] * tanh_(cn[j])  # h_t = o tanh(c_t)
        store_step(a, t, acc)
        store_step(out, t, prev)
        if save_cells:
            store_step(cells, t, c)
    store_step(c_last.reshape((1,) + c_last.shape), 0, c)


@jit
def _backward(gates, cells, c0, d_out, has_d_out, w_hh, reverse, d_a, dh, dc):
    T, N, G = gates.shape
    H = G // 4
    one = gates.dtype.type(1)
    gw = np.empty((N, G), gates.dtype)  # the gates of step t
    da = np.empty((N, G), gates.dtype)  # dA_t
    cw = np.empty((N, H), gates.dtype)  # c_t
    cp = np.empty((N, H), gates.dtype)  # c_prev
    gh = np.empty((N, H), gates.dtype)  # dL/dh_t in all
    tc = np.empty((N, H), gates.dtype)  # tanh(c_t)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        tp = t + 1 if reverse else t - 1  # the step before t in this direction's order
        load_step(gw, gates, t)
        load_step(cw, cells, t)
        if s == 0:
            load_step(cp, c0.reshape((1,) + c0.shape), 0)
        else:
            load_step(cp, cells, tp)
        if has_d_out:
            load_step(gh, d_out, t)
        else:
            gh[...] = 0
        # Short passes over contiguous rows, each reading few arrays, so that LLVM vectorises them.
        for n in range(N):
            i, f, g, o = gw[n, :H], gw[n, H : 2 * H], gw[n, 2 * H : 3 * H], gw[n, 3 * H :]
            di, df, dg, do = da[n, :H], da[n, H : 2 * H], da[n, 2 * H : 3 * H], da[n, 3 * H :]
            ghn, dhn, dcn, tcn, cpn = gh[n], dh[n], dc[n], tc[n], cp[n]
            for j in range(H):
                ghn[j] += dhn[j]  # dL/dh_t: from above and from the step after t
            for j in range(H):
                tcn[j] = tanh_(cw[n, j])
            for j in range(H):
                dcn[j] += ghn[j] * o[j] * (one - tcn[j] * tcn[j])  # dc_t
            for j in range(H):
                do[j] = ghn[j] * tcn[j] * o[j] * (one - o[j])
            for j in range(H):
                di[j] = dcn[j] * g[j] * i[j] * (one - i[j])
            for j in range(H):
                df[j] = dcn[j] * cpn[j] * f[j] * (one - f[j])
            for j in range(H):
                dg[j] = dcn[j] * i[j] * (one - g[j] * g[j])
            for j in range(H):
                dcn[j] *= f[j]  # dc_prev = dc_t f
                dhn[j] = 0
        add_product(dh, da, w_hh)  # dh_prev = dA_t W_hh
        store_step(d_a, t, da)


def lstm_forward_loop(a, h0, c0, w_hh, reverse, out, cells, c_last):
    """Run one LSTM layer-direction over all T steps.

    Args:
        a: (T, N, 4H) A_t on entry; on exit the gate activations [i, f, g, o] of every step.
        h0, c0: (N, H) initial states.  w_hh: (4H, H).  reverse: visit t = T-1..0.
        out: (T, N, H) receives h_t.  cells: (T, N, H) receives c_t, or None (inference).
        c_last: (N, H) receives the final cell state (c after the last step visited).
    """
    whh_t = np.ascontiguousarray(w_hh.T)  # (H, 4H)
    save = cells is not None
    _forward(a, h0, c0, whh_t, reverse, out, cells if save else out, save, c_last)


def lstm_backward_loop(gates, cells, c0, d_out, d_h_last, d_c_last, w_hh, reverse, d_a, dh0, dc0):
    """Back-propagate through one LSTM layer-direction.

    Args:
        gates: (T, N, 4H) [i, f, g, o] from forward.  cells: (T, N, H) c_t.  c0: (N, H).
        d_out: (T, N, H) dL/dh_t from above, or None.  d_h_last, d_c_last: (N, H) dL/dh_n and
            dL/dc_n, or None.  w_hh: (4H, H).  reverse: as in forward.
        d_a: (T, N, 4H) receives dA_t (it may be `gates` itself: each step reads before it writes).
        dh0, dc0: (N, H) contiguous; on return dL/dh0 and dL/dc0.
    """
    dh0[...] = 0 if d_h_last is None else d_h_last
    dc0[...] = 0 if d_c_last is None else d_c_last
    has = d_out is not None
    _backward(gates, cells, c0, d_out if has else cells, has, np.ascontiguousarray(w_hh), reverse, d_a, dh0, dc0)
