"""The GRU's time loops, compiled: kernels/gru.py's GRUKind with its two loops in machine code.

Forward, with A_t given in v['gates'] (T, N, 3H) (x W_ih^T + b_ih, with b_hr and b_hz folded in),
gates r, z, n; b_hn stays inside the step because r multiplies it:

    [P_r, P_z, P_n] = h_prev W_hh^T
    r = sigma(A_r + P_r)    z = sigma(A_z + P_z)                         -> v['gates']
    hn = P_n + b_hn -> v['hn']     n = tanh(A_n + r * hn) -> v['gates']
    h_t = n + z * (h_prev - n) = (1 - z) n + z h_prev                   -> v['h']

Backward, on the factors that GRUKind.backward_prepare computes for all steps at once
(v['d_gates'] = [hn r(1-r), (h_prev - n) z(1-z), .], v['dn'] = (1 - z)(1 - n^2)), with the carry dh:

    g = dh + dL/dh_t (from above);  dA_n = dn * g -> v['dn'];  d(hn) = dA_n * r
    dA_r = d_gates_r * dA_n;  dA_z = d_gates_z * g;  v['d_gates'] = [dA_r, dA_z, d(hn)]
    dh_prev = g * z + [dA_r, dA_z, d(hn)] W_hh

One forward step after its product, gru_cell, is shared with the compiled sampler (sample.py).

Letters: T steps (of the segment), N rows, H hidden features; 3H the three gates side by side.
"""

from __future__ import annotations

import numpy as np
from numba import types

from ..gru import GRUKind
from ._jit import jit, typed_jit
from ._math import add_product, load_step, sigmoid_, store_step, tanh_

__all__ = ["CompiledGRU", "compiled_twin", "gru_cell"]


@jit
def gru_cell(x, p, b_hn, h):
    """One GRU step after its products, in place, gates r z n.

    x (N, 3H): A_t in, the gates [r, z, n] out;  p (N, 3H): h_prev W_hh^T in, [., ., hn = P_n + b_hn] out;
    b_hn (H,);  h (N, H): h_prev in, h_t = n + z (h_prev - n) out.
    """
    N, G = x.shape
    H = G // 3
    for n in range(N):  # short loops over contiguous rows, each of which LLVM vectorises
        xn = x[n]
        gn = p[n]
        for j in range(2 * H):
            xn[j] = sigmoid_(xn[j] + gn[j])  # r, z
        xr = xn[:H]
        xz = xn[H : 2 * H]
        xg = xn[2 * H :]
        gg = gn[2 * H :]
        hn = h[n]
        for j in range(H):
            gg[j] += b_hn[j]  # hn = P_n + b_hn
        for j in range(H):
            xg[j] = tanh_(xg[j] + xr[j] * gg[j])  # n = tanh(A_n + r hn)
        for j in range(H):
            hn[j] = xg[j] + xz[j] * (hn[j] - xg[j])  # h_t = n + z (h_prev - n), as torch


@typed_jit(lambda F: (F[:, :, :], F[:, ::1], F[:, ::1], F[::1], types.boolean, F[:, :, :], F[:, :, :]))
def _forward(a, h0, whh_t, b_hn, reverse, h_out, hn_out):
    T, N, G = a.shape
    H = G // 3
    prev = h0.copy()  # (N, H) h_prev, then h_t
    acc = np.empty((N, G), a.dtype)  # h_prev W_hh^T, then [., ., hn]
    x = np.empty((N, G), a.dtype)  # A_t, then the gates
    for s in range(T):
        t = T - 1 - s if reverse else s
        load_step(x, a, t)
        acc[...] = 0
        add_product(acc, prev, whh_t)  # [P_r, P_z, P_n] = h_prev W_hh^T
        gru_cell(x, acc, b_hn, prev)  # r, z, n, hn and h_t
        store_step(a, t, x)
        store_step(h_out, t, prev)
        for n in range(N):
            for j in range(H):
                hn_out[t, n, j] = acc[n, 2 * H + j]


@typed_jit(
    lambda F: (F[:, :, :], F[:, :, :], F[:, :, :], F[:, :, :], types.boolean, F[:, ::1], types.boolean, F[:, ::1])
)
def _backward(d_gates, dn, gates, d_out, has_d_out, w_hh, reverse, dh):
    T, N, G = d_gates.shape
    H = G // 3
    da = np.empty((N, G), d_gates.dtype)  # the prepared factors of step t, then [dA_r, dA_z, d(hn)]
    dnw = np.empty((N, H), d_gates.dtype)  # (1 - z)(1 - n^2), then dA_n
    rz = np.empty((N, 2 * H), d_gates.dtype)  # r, z
    g = np.empty((N, H), d_gates.dtype)  # dL/dh_t in all
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        load_step(da, d_gates, t)
        load_step(dnw, dn, t)
        for n in range(N):
            for j in range(2 * H):
                rz[n, j] = gates[t, n, j]
        g[...] = dh
        if has_d_out:
            for n in range(N):
                for j in range(H):
                    g[n, j] += d_out[t, n, j]
        for n in range(N):  # short passes over contiguous rows, each of which LLVM vectorises
            gn = g[n]
            dnn = dnw[n]
            row = da[n]
            r = rz[n, :H]
            z = rz[n, H:]
            dhn = dh[n]
            for j in range(H):
                dnn[j] *= gn[j]  # dA_n = g (1 - z)(1 - n^2)
            for j in range(H):
                row[j] *= dnn[j]  # dA_r = dA_n hn r (1 - r)
            for j in range(H):
                row[H + j] *= gn[j]  # dA_z = g (h_prev - n) z (1 - z)
            for j in range(H):
                row[2 * H + j] = dnn[j] * r[j]  # d(hn) = dA_n r
            for j in range(H):
                dhn[j] = gn[j] * z[j]  # dh_prev = g z + ...
        add_product(dh, da, w_hh)  # ... + [dA_r, dA_z, d(hn)] W_hh
        store_step(d_gates, t, da)
        store_step(dn, t, dnw)


class CompiledGRU(GRUKind):
    """GRUKind whose forward_steps and backward_steps run compiled (same buffers, same contract)."""

    def forward_steps(self, c, v, prev, reverse, work):
        """v['gates'] (T, N, 3H): A_t in, r z n out; writes v['hn'] and v['h'] from prev = (h_prev,)."""
        H = c["H"]
        b_hn = c["b_hn"]
        b_hn = np.zeros(H, v["gates"].dtype) if b_hn is None else np.ascontiguousarray(b_hn)
        _forward(v["gates"], np.ascontiguousarray(prev[0]), c["whh_t"], b_hn, reverse, v["h"], v["hn"])

    def backward_steps(self, weights, v, carries, reverse, work):
        """v['d_gates'] and v['dn']: the prepared factors in, [dA_r, dA_z, d(hn)] and dA_n out; carries (dh,)."""
        d_out = v["d_out"]
        has = d_out is not None
        w_hh = np.ascontiguousarray(weights[1])
        _backward(v["d_gates"], v["dn"], v["gates"], d_out if has else v["dn"], has, w_hh, reverse, carries[0])


def compiled_twin(kind: GRUKind) -> CompiledGRU:
    """The compiled twin of GRU."""
    return CompiledGRU()
