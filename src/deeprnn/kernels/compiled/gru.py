"""The GRU's time loops, compiled: kernels/gru.py's GRUKind with its two loops in machine code.

Forward, with x_t W_ih^T given in v['gates'] (T, N, 3H); each step adds A_t = x_t W_ih^T + b_ih +
[b_hr, b_hz, 0] itself (`input_bias_in_loop`), gates r, z, n; b_hn stays inside the step because r
multiplies it:

    [P_r, P_z, P_n] = h_prev W_hh^T
    r = sigma(A_r + P_r)    z = sigma(A_z + P_z)                         -> v['gates']
    hn = P_n + b_hn -> v['hn']     n = tanh(A_n + r * hn) -> v['gates']
    h_t = n + z * (h_prev - n) = (1 - z) n + z h_prev                   -> v['h']

Backward, on the factors that GRUKind.backward_prepare computes for all steps at once
(v['d_gates'] = [hn r(1-r), (h_prev - n) z(1-z), .], v['dn'] = (1 - z)(1 - n^2)), with the carry dh:

    g = dh + dL/dh_t (from above);  dA_n = dn * g -> v['dn'];  d(hn) = dA_n * r
    dA_r = d_gates_r * dA_n;  dA_z = d_gates_z * g;  v['d_gates'] = [dA_r, dA_z, d(hn)]
    dh_prev = g * z + [dA_r, dA_z, d(hn)] W_hh

One forward step after its product, `_step`, runs the compiled loops, the BLAS-product twin and
(as gru_cell) the compiled sampler (sample.py).
`_prepare` is GRUKind.backward_prepare in one pass over the rows.  The twin made with loops=False
(kernels/backend.py: batches too large for the compiled loops) runs each step's product in NumPy's
BLAS: from these same compiled loops, which call NumPy's OpenBLAS themselves where it is found
(_blas.py; 1.03-1.05x faster train and 1.05-1.16x inference than from Python, N = 32,
H = 128-512, Zen 4), else, and at batch 1, from a Python loop that runs the rest of each step as
one compiled call (`_step`, `_step_backward`) instead of 8-12 NumPy calls.

At batch 1 with a W_hh of at least 300 KB the forward loop runs as `_forward_units`: the hidden units in
two parts, one a thread, each step's gates in the part's own array and h_t shared through one barrier a
step (_sync.py), with the same bits as `_forward`.

Letters: T steps (of the segment), N rows, H hidden features; 3H the three gates side by side.
"""

from __future__ import annotations

import numpy as np
from numba import prange, types

from ..gru import GRUKind
from . import _product  # its cold helpers: loop_bias, plain_transpose
from ._dot import dot_product_rows
from ._jit import jit, readonly_matrix, readonly_vector, typed_jit
from ._math import sigmoid_, tanh_
from ._product import NO_PANELS, backward_operands, forward_operands, loop_mode, product_rows, run_loop, run_pair
from ._projection import project_layer
from ._rows import copy_values, flat_rows, loop_rows, part_rows, row_at, rows_type
from ._sync import PARTS, claim, publish, unit_range, wait_for

__all__ = ["CompiledGRU", "compiled_twin", "gru_cell"]


@jit
def gru_cell(x, p, b_hn, h):
    """One GRU step after its products, in place, gates r z n: `_step` on whole C-contiguous arrays.

    x (N, 3H): A_t in, the gates [r, z, n] out;  p (N, 3H): h_prev W_hh^T in, [., ., hn = P_n + b_hn] out;
    b_hn (H,);  h (N, H): h_prev in, h_t = n + z (h_prev - n) out.
    """
    N, G = x.shape
    H = G // 3
    hn = (p.reshape(-1)[2 * H :], G)  # row n: p[n, 2H:], where _step writes hn over P_n
    h_rows = (h.reshape(-1), H)
    _step(0, N, H, (x.reshape(-1), G), p, b_hn, h_rows, 0, hn, h_rows, x[0, :0])  # no input bias: x has it


_FORWARD_TYPES = lambda F: (  # noqa: E731
    readonly_matrix(F), rows_type(F), types.intp, types.intp, rows_type(F), F[::1], types.boolean, rows_type(F),
    rows_type(F), readonly_vector(F), readonly_vector(F), types.intp,
)  # fmt: skip


@typed_jit(_FORWARD_TYPES)
def _forward(whh_t, a, T, N, h0, b_hn, reverse, h, hn, bias, bp, mode):
    """The forward time loop on flat_rows pairs (_rows.py), whh_t (H, 3H) first (its dtype picks the
    compiled version): a (T*N rows of 3H) A_t = x_t W_ih^T in, the gates out; h0 (N rows of H); h, hn
    (T*N rows of H) out; bias (3H,) b_ih + [b_hr, b_hz, 0], added to each step's rows before its step
    (empty: none); bp, mode: each step's product (_product.py): PACKED on the panels bp, BLAS or HAND.  Each step
    is its product into a work array, then `_step` in the rows of the buffers: without copying each
    step to work arrays and back, 0.97-1.18x faster than with (float32, N = 1-16, H = 64-256,
    Zen 3), with the same bits."""
    _forward_part(whh_t, a, T, N, 0, N, h0, b_hn, reverse, h, hn, bias, bp, mode)


@typed_jit(lambda F: (*_FORWARD_TYPES(F), types.intp), parallel=True)
def _forward_split(whh_t, a, T, N, h0, b_hn, reverse, h, hn, bias, bp, mode, parts):
    """_forward with the batch's rows in `parts` parts, each on its own thread of the pool (_pool.py), from
    the first step to the last: rows never meet in the recurrence, so each part's bits are _forward's.
    mode must be PACKED or HAND: no OpenBLAS call may run inside the pool's own threads."""
    for p in prange(parts):
        n0, n1 = part_rows(N, parts, p)
        if n0 < n1:
            _forward_part(whh_t, a, T, N, n0, n1 - n0, h0, b_hn, reverse, h, hn, bias, bp, mode)


@typed_jit(lambda F: (*_FORWARD_TYPES(F), *_FORWARD_TYPES(F)), parallel=True)
def _forward_pair(
    w0, a0, T0, N0, h00, bn0, r0, h_0, hn0, b0, bp0, m0, w1, a1, T1, N1, h01, bn1, r1, h_1, hn1, b1, bp1, m1
):
    """Two _forward calls at once, one a thread of the pool: a bidirectional layer's directions (pair_directions)."""
    for p in prange(2):
        if p == 0:
            _forward_part(w0, a0, T0, N0, 0, N0, h00, bn0, r0, h_0, hn0, b0, bp0, m0)
        else:
            _forward_part(w1, a1, T1, N1, 0, N1, h01, bn1, r1, h_1, hn1, b1, bp1, m1)


@jit
def _forward_part(whh_t, a, T, N, n0, nc, h0, b_hn, reverse, h, hn, bias, bp, mode):
    """_forward on the rows n0 .. n0 + nc - 1 of every step (N rows a step), with its own work array."""
    H = whh_t.shape[0]
    acc = np.empty((nc, 3 * H), whh_t.dtype)  # h_prev W_hh^T
    acc_rows = (acc.reshape(-1), 3 * H)
    prev, prev_first = h0, n0
    for s in range(T):
        t = T - 1 - s if reverse else s
        first = t * N + n0
        acc[...] = 0
        product_rows(acc_rows, 0, prev, prev_first, nc, H, whh_t, bp, mode)  # [P_r, P_z, P_n] = h_prev W_hh^T
        _step(first, nc, H, a, acc, b_hn, prev, prev_first, hn, h, bias)  # r, z, n, hn and h_t
        prev, prev_first = h, first


@typed_jit(lambda F: (*_FORWARD_TYPES(F), types.int64[::1]), parallel=True)
def _forward_units(whh_t, a, T, N, h0, b_hn, reverse, h, hn, bias, bp, mode, sync):
    """_forward at batch 1 in DOT mode (bp W_hh flat) with the hidden units in two parts, one a thread of the
    pool, each step's h shared through sync (_sync.py), as the LSTM's (lstm.py): each value's bits are
    _forward's."""
    H = whh_t.shape[0]
    for p in prange(PARTS):
        if claim(sync, p):
            work = np.empty((PARTS, 8 * H), whh_t.dtype)  # each part's A_t, h_prev W_hh^T and b_r, b_z
            for q in range(PARTS):
                _part_bias(bias, H, q, work[q], 64 // bp.itemsize)
            owned = 1 << p
            for s in range(T):
                for q in range(PARTS):
                    if (owned >> q) & 1:
                        _units_step(whh_t, a, T, h0, b_hn, reverse, h, hn, bias, bp, q, s, work[q], sync)
                stolen = wait_for(sync, s + 1, owned)
                if stolen >= 0:  # a part no thread started (so s = 0): its step here, then along with ours
                    _units_step(whh_t, a, T, h0, b_hn, reverse, h, hn, bias, bp, stolen, s, work[stolen], sync)
                    owned |= 1 << stolen


@jit
def _part_bias(bias, H, part, work, per_line):
    """The b_r and b_z of `part`'s U units side by side in work[6U : 8U], as its r and z are in work[:2U], once a
    call (nothing without a bias)."""
    if bias.shape[0] > 0:
        j0, j1 = unit_range(H, part, per_line)
        U = j1 - j0
        copy_values(bias[j0:j1], work[6 * U : 7 * U])
        copy_values(bias[H + j0 : H + j1], work[7 * U : 8 * U])


@jit
def _units_step(whh_t, a, T, h0, b_hn, reverse, h, hn, bias, bp, part, s, work, sync):
    """Step s of _forward_units for the U hidden units of `part`: each gate's U values of A_t and of
    h_prev W_hh^T in the part's own work rows (the LSTM's reason), then the cell; h_t and hn written to their
    rows, h_t published, and the gates copied to a."""
    H = whh_t.shape[0]
    j0, j1 = unit_range(H, part, 64 // bp.itemsize)
    U = j1 - j0
    t = T - 1 - s if reverse else s
    prev = 0 if s == 0 else t + 1 if reverse else t - 1
    h_prev = h0 if s == 0 else h
    x, pw = work[: 3 * U], work[3 * U : 6 * U]
    row = row_at(a, t, 3 * H)
    for g in range(3):
        copy_values(row[g * H + j0 : g * H + j1], x[g * U : (g + 1) * U])  # A_t
        pg = pw[g * U : (g + 1) * U]
        pg[:] = 0
        dot_product_rows((pg, 0), 0, h_prev, prev, 1, H, bp[(g * H + j0) * H : (g * H + j1) * H], U)
    brz, bn = bias, bias  # none
    if bias.shape[0] > 0:  # the part's b_r, b_z side by side (_part_bias), as its r, z
        brz, bn = work[6 * U : 8 * U], bias[2 * H + j0 : 2 * H + j1]
    hp, hq, ht = row_at(h_prev, prev, H)[j0:j1], row_at(hn, t, H)[j0:j1], row_at(h, t, H)[j0:j1]
    _cell_units(x[: 2 * U], x[2 * U :], pw[: 2 * U], pw[2 * U :], brz, bn, b_hn[j0:j1], hp, hq, ht)
    publish(sync, part, s + 1)  # h_t is written: the other part may go on
    for g in range(3):
        copy_values(x[g * U : (g + 1) * U], row[g * H + j0 : g * H + j1])  # the gates


_BACKWARD_TYPES = lambda F: (  # noqa: E731
    F[:, ::1], rows_type(F), rows_type(F), rows_type(F), rows_type(F), rows_type(F), types.boolean, types.intp,
    types.intp, types.boolean, F[:, ::1], readonly_vector(F), types.intp,
)  # fmt: skip


@typed_jit(_BACKWARD_TYPES)
def _backward(w_hh, da, dn, r, z, dy, has_dy, T, N, reverse, dh, bp, mode):
    """The backward time loop on flat_rows pairs (_rows.py), w_hh (3H, H) first (its dtype picks the
    compiled version): da (T*N rows of 3H) the prepared factors in, [dA_r, dA_z, d(hn)] out; dn
    (T*N rows of H) (1 - z)(1 - n^2) in, dA_n out; r, z, dy (T*N rows of H); dh (N, H) the carry;
    bp, mode as in _forward.
    Each step is `_step_backward` in the rows of the buffers, then dh_prev += [dA_r, dA_z, d(hn)] W_hh:
    without copying each step to work arrays and back, 1.11-1.30x faster than with (float32,
    N = 1-16, H = 64-256, Zen 3), with the same bits."""
    _backward_part(w_hh, da, dn, r, z, dy, has_dy, T, N, 0, N, reverse, dh, bp, mode)


@typed_jit(lambda F: (*_BACKWARD_TYPES(F), types.intp), parallel=True)
def _backward_split(w_hh, da, dn, r, z, dy, has_dy, T, N, reverse, dh, bp, mode, parts):
    """_backward with the batch's rows in `parts` parts on the pool's threads, as _forward_split."""
    for p in prange(parts):
        n0, n1 = part_rows(N, parts, p)
        if n0 < n1:
            _backward_part(w_hh, da, dn, r, z, dy, has_dy, T, N, n0, n1 - n0, reverse, dh[n0:n1], bp, mode)


@jit
def _backward_part(w_hh, da, dn, r, z, dy, has_dy, T, N, n0, nc, reverse, dh, bp, mode):
    """_backward on the rows n0 .. n0 + nc - 1 of every step (N rows a step); dh (nc, H) their carry."""
    H = w_hh.shape[1]
    dh_rows = (dh.reshape(-1), H)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        first = t * N + n0
        _step_backward(first, nc, H, da, dn, r, z, dy, has_dy, dh)  # dh <- g z
        product_rows(dh_rows, 0, da, first, nc, 3 * H, w_hh, bp, mode)  # dh_prev = g z + [dA_r, dA_z, d(hn)] W_hh


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
def _step(first, N, H, a, p, b_hn, h_prev, prev_first, hn, h, bias):
    """One forward step after its product, gates r z n, on the rows first .. first + N - 1 of the
    flat_rows pairs a (A_t in, the gates out, width 3H), hn (P_n + b_hn out) and h (n + z (h_prev - n)
    out, width H); p (N, 3H) h_prev W_hh^T; b_hn (H,); h_prev a flat_rows pair, rows from prev_first;
    bias (3H,) b_ih + [b_hr, b_hz, 0] still to add to A_t, or empty when A_t has it.

    Every loop runs over a contiguous slice of one row, which LLVM vectorises: with 2-D indexing
    the same step ran 2.6x slower (float32, N=32, H=128, Zen 5: 17.0 us against 6.6), and so did
    2-D views with strided rows (_rows.py).
    """
    has_bias = bias.shape[0] > 0
    for q in range(N):
        aq = row_at(a, first + q, 3 * H)
        pq = p[q]
        brz, bn = (bias[: 2 * H], bias[2 * H :]) if has_bias else (bias, bias)
        hp, hq, ht = row_at(h_prev, prev_first + q, H), row_at(hn, first + q, H), row_at(h, first + q, H)
        _cell_units(aq[: 2 * H], aq[2 * H :], pq[: 2 * H], pq[2 * H :], brz, bn, b_hn, hp, hq, ht)


@jit(inline=True)
def _cell_units(arz, an, prz, pn, brz, bn, b_hn, hp, hq, ht):
    """_step's arithmetic on U hidden units (all of a row, or one part's in _forward_units): arz (2U,) A_t's
    gates r then z, an (U,) A_n, in, r z n out; prz (2U,), pn (U,) h_prev W_hh^T's; brz (2U,), bn (U,) the
    input bias still to add, or both empty; b_hn, hp (U,) b_hn and h_prev; hq (U,) hn = P_n + b_hn out, ht (U,)
    h_t out.  Inlined into its callers, with r and z in one loop: as a call of its own with a loop for each,
    the whole loop took 6% longer at T = 100, N = 1, H = 100 (345 against 321 us a module call; Intel Xeon)."""
    U = an.shape[0]
    if brz.shape[0] > 0:  # two copies of each loop, so that neither has a branch inside
        for j in range(2 * U):
            arz[j] = sigmoid_(arz[j] + brz[j] + prz[j])  # r, z
    else:
        for j in range(2 * U):
            arz[j] = sigmoid_(arz[j] + prz[j])  # r, z
    ar, az = arz[:U], arz[U:]
    for j in range(U):
        hq[j] = pn[j] + b_hn[j]  # hn = P_n + b_hn
    if bn.shape[0] > 0:
        for j in range(U):
            an[j] = tanh_(an[j] + bn[j] + ar[j] * hq[j])  # n = tanh(A_n + b_in + r hn)
    else:
        for j in range(U):
            an[j] = tanh_(an[j] + ar[j] * hq[j])  # n = tanh(A_n + r hn)
    for j in range(U):
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

    # As the compiled LSTM's (lstm.py): the loops add the input bias inside each step (_step), not the stack
    # in a pass over every row first: inference 4.33-4.61 -> 3.71-3.85 ms at T = 50, N = 32, H = 128, 2 layers;
    # training and H = 512 within the noise (Intel Xeon, interleaved runs).
    input_bias_in_loop = True
    project_input = staticmethod(project_layer)  # the layer's X W_ih^T on the packed kernel (_projection.py)

    def __init__(self, loops: bool = True, dot: bool = False):
        self.loops = loops
        self.dot = dot and loops  # batch 1: the products on W_hh itself, DOT forward and STRIDED backward (_product.py)

    def backward_prepare(self, weights, v, prev):
        """As GRUKind.backward_prepare (v['d_gates'][:, :2H], v['dn'] for every step), in one compiled pass."""
        _prepare(v["gates"], v["d_gates"], v["dn"], v["hn"], prev[0])

    def forward_constants(self, weights, contiguous=True):
        """GRUKind's, with 'panels': W_hh^T's panels for the compiled loops' packed product, or an empty array;
        'dot': True for a batch-1 twin (DOT forward); 'view': True when 'whh_t' is W_hh's buffer seen as (K, M)
        rather than W_hh^T (_product.forward_operands)."""
        c = GRUKind.forward_constants(weights, contiguous=False)  # everything but the transpose
        bias = _product.loop_bias(GRUKind, weights)  # b_ih + [b_hr, b_hz, 0], read-only, or None
        c["bias"] = bias
        c["dot"] = self.dot and contiguous  # whether the forward loop runs in DOT
        if contiguous:
            c["whh_t"], c["panels"], c["view"] = forward_operands(weights[1], self.loops, c["dot"])
        else:
            c["panels"], c["view"] = NO_PANELS[weights[1].dtype], False
        return c

    def forward_steps(self, c, v, prev, reverse, work):
        """v['gates'] (T, N, 3H): x_t W_ih^T in (the input bias is added here), r z n out; writes v['hn'] and
        v['h'] from prev = (h_prev,)."""
        b_hn = _b_hn(c, v)
        both = loop_rows(work, v, prev, ("gates", "h", "hn"))
        rows = None if both is None else both[0]
        T, N = v["gates"].shape[:2]
        mode = loop_mode(self.loops, N, c["dot"])
        if rows is None or mode is None:  # not the compiled loops: the input bias for every step first
            c = dict(c, whh_t=_product.plain_transpose(c["whh_t"], c["view"]))  # W_hh^T, not the loops' view
            if c["bias"] is not None:
                v["gates"] += c["bias"]
            if rows is None:
                return GRUKind.forward_steps(c, v, prev, reverse, work)
            h0 = np.ascontiguousarray(prev[0])  # each step's product in BLAS from Python, the rest compiled
            return self._forward_with_blas(c, v, h0, reverse, work, b_hn, rows)
        args = _loop_args(c, v, both, b_hn, reverse, mode)
        run_loop(_forward, _forward_split, N, mode, *args, units=_forward_units)
        return None

    def forward_steps_pair(self, cs, vs, prevs, works):
        """Both directions' forward_steps at once, one a thread (_product.run_pair), where both run the compiled
        loops: True when done, False (nothing written) when not."""
        return run_pair(_forward_pair, [self._pair_args(cs[d], vs[d], prevs[d], works[d], d == 1) for d in range(2)])

    def _pair_args(self, c, v, prev, work, reverse):
        """_loop_args for forward_steps_pair, or None where the rows have a layout the loops cannot take."""
        both = loop_rows(work, v, prev, ("gates", "h", "hn"))
        if both is None:
            return None
        return _loop_args(c, v, both, _b_hn(c, v), reverse, loop_mode(self.loops, v["gates"].shape[1], c["dot"]))

    def backward_steps(self, weights, v, carries, reverse, work):
        """v['d_gates'] and v['dn']: the prepared factors in, [dA_r, dA_z, d(hn)] and dA_n out; carries (dh,)."""
        rows = _backward_rows(v)
        if rows is None:
            return GRUKind.backward_steps(weights, v, carries, reverse, work)
        T, N = v["d_gates"].shape[:2]
        mode = loop_mode(self.loops, N, self.dot, forward=False)
        if mode is None:  # the rest of each step compiled, its product in BLAS from Python
            return self._backward_with_blas(weights, v, carries, reverse, work, rows)
        has = v["d_out"] is not None
        w, bp = backward_operands(weights[1], mode)
        run_loop(_backward, _backward_split, N, mode, w, *rows, has, T, N, reverse, carries[0], bp, mode)
        return None

    def _forward_with_blas(self, c, v, h0, reverse, work, b_hn, rows):
        """forward_steps with the time loop in Python: each step's product in BLAS, the rest compiled;
        h0 (N, H) C-contiguous the initial state, rows the flat_rows pairs of loop_rows."""
        T, N = v["gates"].shape[:2]
        a, h, hn = rows
        prod, matmul, whh_t, H = work["prod"][:N], np.matmul, c["whh_t"], c["H"]
        h_prev, prev_rows, prev_first = h0, flat_rows(h0), 0
        for t in range(T - 1, -1, -1) if reverse else range(T):
            matmul(h_prev, whh_t, out=prod)  # h_{t-1} W_hh^T
            _step(t * N, N, H, a, prod, b_hn, prev_rows, prev_first, hn, h, b_hn[:0])  # the bias is in a
            h_prev, prev_rows, prev_first = v["h"][t], h, t * N
        return None

    def _backward_with_blas(self, weights, v, carries, reverse, work, rows):
        """backward_steps with the time loop in Python: each step's product in BLAS, the rest compiled."""
        d_gates, w_hh = v["d_gates"], weights[1]
        T, N, G = d_gates.shape
        H = G // 3
        has = v["d_out"] is not None
        da, dn, r, z, dy = rows
        (dh,) = carries
        tmp, matmul, add = work["tmp"][:N], np.matmul, np.add
        for t in range(T) if reverse else range(T - 1, -1, -1):  # the opposite order to the direction's own
            _step_backward(t * N, N, H, da, dn, r, z, dy, has, dh)
            matmul(d_gates[t], w_hh, out=tmp)
            add(dh, tmp, out=dh)  # dh_prev = g z + [dA_r, dA_z, d(hn)] W_hh
        return None


def _b_hn(c, v):
    """b_hn (H,) contiguous, zeros without biases: the loops add it inside r * (h_prev W_hn^T + b_hn)."""
    b_hn = c["b_hn"]
    return np.zeros(c["H"], v["gates"].dtype) if b_hn is None else np.ascontiguousarray(b_hn)


def _loop_args(c, v, both, b_hn, reverse, mode):
    """The arguments of _forward for one direction: constants c, views v, loop_rows' `both`."""
    T, N = v["gates"].shape[:2]
    (a, h, hn), (h0,) = both
    bias = NO_PANELS[v["gates"].dtype] if c["bias"] is None else c["bias"]
    return (c["whh_t"], a, T, N, h0, b_hn, reverse, h, hn, bias, c["panels"], mode)


def _backward_rows(v):
    """The flat_rows pairs of d_gates, dn, r, z and dL/dh_t from above (dn when there is none) that the
    backward loops read, or None when one of them has a layout they cannot describe."""
    d_gates, d_out, gates = v["d_gates"], v["d_out"], v["gates"]
    H = d_gates.shape[2] // 3
    seqs = (d_gates, v["dn"], gates[..., :H], gates[..., H : 2 * H], v["dn"] if d_out is None else d_out)
    rows = [flat_rows(q) for q in seqs]
    return None if any(r is None for r in rows) else rows


def compiled_twin(kind: GRUKind, loops: bool = True, dot: bool = False) -> CompiledGRU:
    """The compiled twin of GRU: its whole time loops compiled, or (loops=False) each step but its product;
    dot: for batch 1, the products on W_hh itself (DOT forward, STRIDED backward)."""
    return CompiledGRU(loops, dot)
