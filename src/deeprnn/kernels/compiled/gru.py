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
`_prepare` is GRUKind.backward_prepare in one pass over the rows.  The twin made with loops=False
(kernels/backend.py: batches too large for the compiled loops) keeps the time loops in Python with
each step's product in NumPy's BLAS, and runs the rest of each step as one compiled call (`_step`,
`_step_backward`) instead of 8-12 NumPy calls.

Letters: T steps (of the segment), N rows, H hidden features; 3H the three gates side by side.
"""

from __future__ import annotations

import numpy as np
from numba import types

from ..gru import GRUKind
from ._jit import jit, readonly_matrix, typed_jit
from ._math import add_product, load_step, sigmoid_, store_step, tanh_
from ._rows import flat_rows, row_at

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


@typed_jit(lambda F: (F[:, :, :], F[:, ::1], readonly_matrix(F), F[::1], types.boolean, F[:, :, :], F[:, :, :]))
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


@jit
def _prepare(gates, d, dn, hn, h_prev):
    """GRUKind.backward_prepare in one pass: gates (R, 3H) [r z n], hn, h_prev (R, H) in;
    d[:, :2H] = [hn r(1-r), (h_prev - n) z(1-z)] and dn (R, H) = (1 - z)(1 - n^2) out."""
    R, G = gates.shape
    H = G // 3
    one = np.ones(1, gates.dtype)[0]
    for q in range(R):
        for j in range(H):
            r = gates[q, j]
            z = gates[q, H + j]
            n = gates[q, 2 * H + j]
            dn[q, j] = (one - z) * (one - n * n)
            d[q, j] = (one - r) * r * hn[q, j]
            d[q, H + j] = (one - z) * z * (h_prev[q, j] - n)


@jit
def _step(first, N, H, a, p, b_hn, h_prev, prev_first, hn, h):
    """One forward step after its product, gates r z n, on the rows first .. first + N - 1 of the
    flat_rows pairs a (A_t in, the gates out, width 3H), hn (P_n + b_hn out) and h (n + z (h_prev - n)
    out, width H); p (N, 3H) h_prev W_hh^T; b_hn (H,); h_prev a flat_rows pair, rows from prev_first.

    Every loop runs over a contiguous slice of one row, which LLVM vectorises: with 2-D indexing
    the same step ran 2.6x slower (float32, N=32, H=128, Zen 5: 17.0 us against 6.6), and so did
    2-D views with strided rows (_rows.py).
    """
    for q in range(N):
        aq = row_at(a, first + q, 3 * H)
        pq = p[q]
        arz, prz = aq[: 2 * H], pq[: 2 * H]
        for j in range(2 * H):
            arz[j] = sigmoid_(arz[j] + prz[j])  # r, z
        ar, az, an = aq[:H], aq[H : 2 * H], aq[2 * H :]
        pn = pq[2 * H :]
        hq = row_at(hn, first + q, H)
        hp = row_at(h_prev, prev_first + q, H)
        ht = row_at(h, first + q, H)
        for j in range(H):
            hq[j] = pn[j] + b_hn[j]  # hn = P_n + b_hn
        for j in range(H):
            an[j] = tanh_(an[j] + ar[j] * hq[j])  # n = tanh(A_n + r hn)
        for j in range(H):
            ht[j] = an[j] + az[j] * (hp[j] - an[j])  # h_t = n + z (h_prev - n), as torch


@jit
def _step_backward(first, N, H, da, dn, r, z, dy, has_dy, dh):
    """One backward step before its product, on the rows first .. first + N - 1 of the flat_rows pairs
    da (the prepared factors in, [dA_r, dA_z, d(hn)] out, width 3H), dn ((1 - z)(1 - n^2) in, dA_n out),
    r, z and dy (width H); dh (N, H): dL/dh_t from step t+1 in (plus dy from above when has_dy), g z out
    (the product with W_hh is added after)."""
    for q in range(N):
        row = row_at(da, first + q, 3 * H)
        dr, dz, dhn = row[:H], row[H : 2 * H], row[2 * H :]
        dnq = row_at(dn, first + q, H)
        rq = row_at(r, first + q, H)
        zq = row_at(z, first + q, H)
        dyq = row_at(dy, first + q, H)
        dhq = dh[q]
        if has_dy:  # two copies of the loop, so that neither has a branch inside
            for j in range(H):
                g = dhq[j] + dyq[j]
                an = dnq[j] * g  # dA_n = g (1 - z)(1 - n^2)
                dnq[j] = an
                dr[j] *= an  # dA_r = dA_n hn r (1 - r)
                dz[j] *= g  # dA_z = g (h_prev - n) z (1 - z)
                dhn[j] = an * rq[j]  # d(hn) = dA_n r
                dhq[j] = g * zq[j]  # dh_prev = g z + ...
        else:
            for j in range(H):
                g = dhq[j]
                an = dnq[j] * g
                dnq[j] = an
                dr[j] *= an
                dz[j] *= g
                dhn[j] = an * rq[j]
                dhq[j] = g * zq[j]


class CompiledGRU(GRUKind):
    """GRUKind whose backward preparation runs compiled, and with loops=True its two time loops
    (same buffers, same contract)."""

    def __init__(self, loops: bool = True):
        self.loops = loops

    def backward_prepare(self, weights, v, prev):
        """As GRUKind.backward_prepare (v['d_gates'][:, :2H], v['dn'] for every step), in one compiled pass."""
        _prepare(v["gates"], v["d_gates"], v["dn"], v["hn"], prev[0])

    def forward_steps(self, c, v, prev, reverse, work):
        """v['gates'] (T, N, 3H): A_t in, r z n out; writes v['hn'] and v['h'] from prev = (h_prev,)."""
        H = c["H"]
        b_hn = c["b_hn"]
        b_hn = np.zeros(H, v["gates"].dtype) if b_hn is None else np.ascontiguousarray(b_hn)
        if not self.loops:  # each step's product in BLAS, the rest of the step compiled
            return self._forward_with_blas(c, v, prev, reverse, work, b_hn)
        _forward(v["gates"], np.ascontiguousarray(prev[0]), c["whh_t"], b_hn, reverse, v["h"], v["hn"])

    def backward_steps(self, weights, v, carries, reverse, work):
        """v['d_gates'] and v['dn']: the prepared factors in, [dA_r, dA_z, d(hn)] and dA_n out; carries (dh,)."""
        if not self.loops:  # the rest of each step compiled, its product in BLAS
            return self._backward_with_blas(weights, v, carries, reverse, work)
        d_out = v["d_out"]
        has = d_out is not None
        w_hh = np.ascontiguousarray(weights[1])
        _backward(v["d_gates"], v["dn"], v["gates"], d_out if has else v["dn"], has, w_hh, reverse, carries[0])
        return None

    def _forward_with_blas(self, c, v, prev, reverse, work, b_hn):
        """forward_steps with the time loop in Python: each step's product in BLAS, the rest compiled."""
        gates = v["gates"]
        T, N = gates.shape[:2]
        rows = [flat_rows(q) for q in (gates, v["hn"], v["h"], prev[0])]
        if any(r is None for r in rows):
            return GRUKind.forward_steps(c, v, prev, reverse, work)
        a, hn, h, h0 = rows
        prod, matmul, whh_t, H = work["prod"][:N], np.matmul, c["whh_t"], c["H"]
        h_prev, prev_rows, prev_first = prev[0], h0, 0
        for t in range(T - 1, -1, -1) if reverse else range(T):
            matmul(h_prev, whh_t, out=prod)  # h_{t-1} W_hh^T
            _step(t * N, N, H, a, prod, b_hn, prev_rows, prev_first, hn, h)
            h_prev, prev_rows, prev_first = v["h"][t], h, t * N
        return None

    def _backward_with_blas(self, weights, v, carries, reverse, work):
        """backward_steps with the time loop in Python: each step's product in BLAS, the rest compiled."""
        d_gates, d_out, w_hh = v["d_gates"], v["d_out"], weights[1]
        T, N, G = d_gates.shape
        H = G // 3
        has = d_out is not None
        gates = v["gates"]
        seqs = (d_gates, v["dn"], gates[..., :H], gates[..., H : 2 * H], d_out if has else v["dn"])
        rows = [flat_rows(q) for q in seqs]
        if any(r is None for r in rows):
            return GRUKind.backward_steps(weights, v, carries, reverse, work)
        da, dn, r, z, dy = rows
        (dh,) = carries
        tmp, matmul, add = work["tmp"][:N], np.matmul, np.add
        for t in range(T) if reverse else range(T - 1, -1, -1):  # the opposite order to the direction's own
            _step_backward(t * N, N, H, da, dn, r, z, dy, has, dh)
            matmul(d_gates[t], w_hh, out=tmp)
            add(dh, tmp, out=dh)  # dh_prev = g z + [dA_r, dA_z, d(hn)] W_hh
        return None


def compiled_twin(kind: GRUKind, loops: bool = True) -> CompiledGRU:
    """The compiled twin of GRU: its whole time loops compiled, or (loops=False) each step but its product."""
    return CompiledGRU(loops)
