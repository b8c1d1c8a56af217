"""The LSTM's time loops, compiled: kernels/lstm.py's LSTMKind with its two loops in machine code.

Forward, with x_t W_ih^T given in v['gates'] (T, N, 4H), gates i, f, g, o; the loops add the bias
b = b_ih + b_hh to each step's rows themselves (`input_bias_in_loop`):

    z_t = x_t W_ih^T + h_prev W_hh^T + b                         (N, 4H)
    i = sigma(z_i)   f = sigma(z_f)   g = tanh(z_g)   o = sigma(z_o)     -> v['gates']
    c_t = f * c_prev + i * g  -> v['c']     tanh(c_t) -> v['tc']     h_t = o * tanh(c_t) -> v['h']

Backward, with the carries dh, dc, from the gates i f g o (v['gates']), c_prev (v['prev_c']) and
tanh(c_t) (v['tc']) of each step:

    dh += dL/dh_t (from above);  dc += dh * o (1 - tanh(c_t)^2);  dA_o = dh * tanh(c_t) o (1 - o)
    dA_i = dc * g i (1 - i);  dA_f = dc * c_prev f (1 - f);  dA_g = dc * i (1 - g^2)   -> v['d_gates']
    dc_prev = dc * f;  dh_prev = dA_t W_hh

Each step computes the factors of dA that do not depend on the carries itself, while its rows are
in the cache, instead of a pass over every step before the loop (LSTMKind.backward_prepare): the
loop reads what that pass read and writes what it wrote, and the pass is gone (a training step
17.6 -> 16.7 ms at T = 50, N = 32, H = 128, 2 layers; at H = 512 within the noise; Intel Xeon,
interleaved runs).  `_prepare` is that pass, compiled, for the layouts the loops cannot take.

The twin made with loops=False (kernels/backend.py: batches too large for the compiled loops) runs
each step's product in NumPy's BLAS: from these same compiled loops, which call NumPy's OpenBLAS
themselves where it is found (_blas.py; 1.04-1.11x faster train and 1.08-1.19x inference than from
Python, N = 24-32, H = 64-512, Zen 4), else, and at batch 1, from a Python loop that runs the rest
of each step as one compiled call (`_step`, `_step_backward`) instead of 6-10 NumPy calls.

An LSTM with projections (proj_size > 0) runs LSTMKind's NumPy loops and preparation.  One forward step after its
product, lstm_cell, is shared with the compiled sampler (sample.py).

At batch 1 with a W_hh of at least 300 KB the forward loop runs as `_forward_units`: the hidden units in
two parts, one a thread, each step's gates in the part's own array and h_t shared through one barrier a
step (_sync.py), with the same bits as `_forward`.

Letters: T steps (of the segment), N rows, H hidden features; 4H the four gates side by side.
"""

from __future__ import annotations

import numpy as np
from numba import prange, types

from ..lstm import LSTMKind
from ..transposed import transposed
from . import _product  # its cold helpers: loop_bias, plain_transpose
from ._dot import dot_product_rows
from ._jit import jit, readonly_matrix, readonly_vector, typed_jit
from ._math import sigmoid_, tanh_
from ._product import NO_PANELS, backward_operands, forward_operands, loop_mode, product_rows, run_loop, run_pair
from ._projection import project_layer
from ._rows import copy_values, flat_rows, loop_rows, part_rows, row_at, rows_type
from ._sync import PARTS, claim, publish, unit_range, wait_for

__all__ = ["CompiledLSTM", "compiled_twin", "lstm_cell"]


@jit
def lstm_cell(z, c, tc, h):
    """One LSTM step after its products, in place, gates i f g o.

    z (N, 4H): z_t = A_t + h_prev W_hh^T in, the gates [sigma(z_i), sigma(z_f), tanh(z_g), sigma(z_o)] out;
    c (N, H): c_prev in, c_t = f c_prev + i g out;  tc (N, H): tanh(c_t) out;  h (N, H): h_t = o tanh(c_t) out.
    """
    for n in range(z.shape[0]):
        lstm_cell_row(z[n], c[n], c[n], tc[n], h[n])


@jit
def lstm_cell_row(z, c_prev, c, tc, h):
    """lstm_cell for one row: z (4H,) in and the gates out; c_prev (H,) in (it may be c itself); c, tc, h (H,) out."""
    H = c.shape[0]
    lstm_cell_units(z[: 2 * H], z[2 * H : 3 * H], z[3 * H :], c_prev, c, tc, h)


@jit(inline=True)
def lstm_cell_units(zif, zg, zo, c_prev, c, tc, h):
    """lstm_cell_row for U hidden units: zif (2U,) gates i then f, zg, zo (U,) g and o, in, the gates out; c_prev,
    c, tc, h (U,) of the same units: all of a row, or the units of one part of _forward_units.

    Each loop runs over one contiguous slice, which LLVM vectorises (_step).  Inlined into its callers: as a
    call of its own from lstm_cell_row, the whole loop took 4% longer at T = 100, N = 1, H = 100 (408-413
    against 392-402 us a module call; Intel Xeon)."""
    U = c.shape[0]
    zi, zf = zif[:U], zif[U:]
    for j in range(2 * U):
        zif[j] = sigmoid_(zif[j])  # i, f
    for j in range(U):
        zg[j] = tanh_(zg[j])  # g
    for j in range(U):
        zo[j] = sigmoid_(zo[j])  # o
    for j in range(U):
        c[j] = zf[j] * c_prev[j] + zi[j] * zg[j]  # c_t = f c_prev + i g
    for j in range(U):
        tc[j] = tanh_(c[j])
    for j in range(U):
        h[j] = zo[j] * tc[j]  # h_t = o tanh(c_t)


_FORWARD_TYPES = lambda F: (  # noqa: E731
    readonly_matrix(F), rows_type(F), types.intp, types.intp, rows_type(F), rows_type(F), types.boolean,
    rows_type(F), rows_type(F), rows_type(F), readonly_vector(F), readonly_vector(F), types.intp,
)  # fmt: skip


@typed_jit(_FORWARD_TYPES)
def _forward(whh_t, a, T, N, h0, c0, reverse, h, c, tc, bias, bp, mode):
    """The time loop on flat_rows pairs (_rows.py), whh_t (H, 4H) first (its dtype picks the compiled
    version): a (T*N rows of 4H) A_t = x_t W_ih^T in, the gates out; h0, c0 (N rows of H); h, c, tc
    (T*N rows of H) out; bias (4H,) b_ih + b_hh, added to each step's rows after its product (empty:
    none); bp, mode: each step's product (_product.py): PACKED on the panels bp, BLAS or HAND.  Each step works in
    the rows of its own buffers, without copies (8-15% faster than copying each step to contiguous
    work arrays and back, float32, N=1-16, Zen 3)."""
    _forward_part(whh_t, a, T, N, 0, N, h0, c0, reverse, h, c, tc, bias, bp, mode)


@typed_jit(lambda F: (*_FORWARD_TYPES(F), types.intp), parallel=True)
def _forward_split(whh_t, a, T, N, h0, c0, reverse, h, c, tc, bias, bp, mode, parts):
    """_forward with the batch's rows in `parts` parts, each on its own thread of the pool (_pool.py), from
    the first step to the last: rows never meet in the recurrence, so each part's bits are _forward's.
    mode must be PACKED or HAND: no OpenBLAS call may run inside the pool's own threads."""
    for p in prange(parts):
        n0, n1 = part_rows(N, parts, p)
        if n0 < n1:
            _forward_part(whh_t, a, T, N, n0, n1 - n0, h0, c0, reverse, h, c, tc, bias, bp, mode)


@typed_jit(lambda F: (*_FORWARD_TYPES(F), *_FORWARD_TYPES(F)), parallel=True)
def _forward_pair(
    w0, a0, T0, N0, h00, c00, r0, h_0, c_0, tc0, b0, bp0, m0, w1, a1, T1, N1, h01, c01, r1, h_1, c_1, tc1, b1, bp1, m1
):
    """Two _forward calls at once, one a thread of the pool: a bidirectional layer's directions (pair_directions)."""
    for p in prange(2):
        if p == 0:
            _forward_part(w0, a0, T0, N0, 0, N0, h00, c00, r0, h_0, c_0, tc0, b0, bp0, m0)
        else:
            _forward_part(w1, a1, T1, N1, 0, N1, h01, c01, r1, h_1, c_1, tc1, b1, bp1, m1)


@jit
def _forward_part(whh_t, a, T, N, n0, nc, h0, c0, reverse, h, c, tc, bias, bp, mode):
    """_forward on the rows n0 .. n0 + nc - 1 of every step (N rows a step)."""
    H = whh_t.shape[0]
    h_prev, h_first, c_prev, c_first = h0, n0, c0, n0
    has_bias = bias.shape[0] > 0
    for s in range(T):
        t = T - 1 - s if reverse else s
        first = t * N + n0
        product_rows(a, first, h_prev, h_first, nc, H, whh_t, bp, mode)  # x_t W_ih^T + h_prev W_hh^T
        for n in range(nc):
            z = row_at(a, first + n, 4 * H)
            if has_bias:
                for j in range(4 * H):
                    z[j] += bias[j]  # z_t = x_t W_ih^T + h_prev W_hh^T + b_ih + b_hh
            lstm_cell_row(
                z,
                row_at(c_prev, c_first + n, H),
                row_at(c, first + n, H),
                row_at(tc, first + n, H),
                row_at(h, first + n, H),
            )
        h_prev, h_first, c_prev, c_first = h, first, c, first


@typed_jit(lambda F: (*_FORWARD_TYPES(F), types.int64[::1]), parallel=True)
def _forward_units(whh_t, a, T, N, h0, c0, reverse, h, c, tc, bias, bp, mode, sync):
    """_forward at batch 1 in DOT mode (bp W_hh flat) with the hidden units in two parts, one a thread of the
    pool, each step's h shared through sync (_sync.py): each value's bits are _forward's."""
    H = whh_t.shape[0]
    for p in prange(PARTS):
        if claim(sync, p):
            z = np.empty((PARTS, 4 * H), whh_t.dtype)  # each part's gates
            owned = 1 << p
            for s in range(T):
                for q in range(PARTS):
                    if (owned >> q) & 1:
                        _units_step(whh_t, a, T, h0, c0, reverse, h, c, tc, bias, bp, q, s, z[q], sync)
                stolen = wait_for(sync, s + 1, owned)
                if stolen >= 0:  # a part no thread started (so s = 0): its step here, then along with ours
                    _units_step(whh_t, a, T, h0, c0, reverse, h, c, tc, bias, bp, stolen, s, z[stolen], sync)
                    owned |= 1 << stolen


@jit
def _units_step(whh_t, a, T, h0, c0, reverse, h, c, tc, bias, bp, part, s, z, sync):
    """Step s of _forward_units for the U hidden units of `part`: each gate's U values of A_t + h_prev W_hh^T
    (+ b) in z (4U,), the part's own, then the cell on them; h_t, c_t and tanh(c_t) written to their rows, h_t
    published, and the gates copied to a.  The products add into z, not into the rows of a: the lines that
    the two parts share in a row (a row of gates need not start on one, nor a gate) went back and forth
    between the cores at every addition, 6.6 -> 5.6 us a step (H = 200, float32, Intel Xeon)."""
    H = whh_t.shape[0]
    j0, j1 = unit_range(H, part, 64 // bp.itemsize)
    U = j1 - j0
    t = T - 1 - s if reverse else s
    prev = 0 if s == 0 else t + 1 if reverse else t - 1
    h_prev, c_prev = (h0, c0) if s == 0 else (h, c)
    row = row_at(a, t, 4 * H)
    for g in range(4):
        copy_values(row[g * H + j0 : g * H + j1], z[g * U : (g + 1) * U])  # A_t
        dot_product_rows((z[g * U :], 0), 0, h_prev, prev, 1, H, bp[(g * H + j0) * H : (g * H + j1) * H], U)
        if bias.shape[0] > 0:
            for j in range(U):
                z[g * U + j] += bias[g * H + j0 + j]
    cp, cu, tu, hu = (
        row_at(c_prev, prev, H)[j0:j1],
        row_at(c, t, H)[j0:j1],
        row_at(tc, t, H)[j0:j1],
        row_at(h, t, H)[j0:j1],
    )
    lstm_cell_units(z[: 2 * U], z[2 * U : 3 * U], z[3 * U : 4 * U], cp, cu, tu, hu)
    publish(sync, part, s + 1)  # h_t is written: the other part may go on
    for g in range(4):
        copy_values(z[g * U : (g + 1) * U], row[g * H + j0 : g * H + j1])  # the gates


_BACKWARD_TYPES = lambda F: (  # noqa: E731
    F[:, ::1], rows_type(F), rows_type(F), rows_type(F), rows_type(F), rows_type(F), types.boolean, types.intp,
    types.intp, types.boolean, F[:, ::1], F[:, ::1], readonly_vector(F), types.intp,
)  # fmt: skip


@typed_jit(_BACKWARD_TYPES)
def _backward(w_hh, da, gates, cp, tc, dy, has_dy, T, N, reverse, dh, dc, bp, mode):
    """The backward time loop on flat_rows pairs (_rows.py), w_hh (4H, H) first (its dtype picks the
    compiled version): da (T*N rows of 4H) dA_t out; gates (T*N rows of 4H) i f g o, cp c_prev, tc
    tanh(c_t), dy dL/dh_t from above (T*N rows of H each) in; dh, dc (N, H) the carries; bp, mode as in
    _forward.  Each step is `_step_backward` in the rows of the buffers, then dh_prev = dA_t W_hh:
    without copying each step to work arrays and back, 1.05-1.31x faster than with (float32,
    N = 1-16, H = 64-256, Zen 3), with the same bits."""
    _backward_part(w_hh, da, gates, cp, tc, dy, has_dy, T, N, 0, N, reverse, dh, dc, bp, mode)


@typed_jit(lambda F: (*_BACKWARD_TYPES(F), types.intp), parallel=True)
def _backward_split(w_hh, da, gates, cp, tc, dy, has_dy, T, N, reverse, dh, dc, bp, mode, parts):
    """_backward with the batch's rows in `parts` parts on the pool's threads, as _forward_split."""
    for p in prange(parts):
        n0, n1 = part_rows(N, parts, p)
        if n0 < n1:
            _backward_part(
                w_hh, da, gates, cp, tc, dy, has_dy, T, N, n0, n1 - n0, reverse, dh[n0:n1], dc[n0:n1], bp, mode
            )


@jit
def _backward_part(w_hh, da, gates, cp, tc, dy, has_dy, T, N, n0, nc, reverse, dh, dc, bp, mode):
    """_backward on the rows n0 .. n0 + nc - 1 of every step (N rows a step); dh, dc (nc, H) their carries."""
    H = w_hh.shape[1]
    dh_rows = (dh.reshape(-1), H)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        first = t * N + n0
        _step_backward(first, nc, H, da, gates, cp, tc, dy, has_dy, dh, dc)
        dh[...] = 0
        product_rows(dh_rows, 0, da, first, nc, 4 * H, w_hh, bp, mode)  # dh_prev = dA_t W_hh


@jit
def _prepare(gates, d, c_prev, tc, k):
    """LSTMKind.backward_prepare in one pass: gates (R, 4H) [i f g o], c_prev, tc = tanh(c_t) (R, H) in;
    d (R, 4H) = [g i(1-i), c_prev f(1-f), i(1-g^2), tanh(c_t) o(1-o)] and k (R, H) = o(1 - tanh(c_t)^2) out."""
    R, G = gates.shape
    H = G // 4
    one = np.ones(1, gates.dtype)[0]
    for r in range(R):
        gr = gates[r]
        dr = d[r]
        i, f, g, o = gr[:H], gr[H : 2 * H], gr[2 * H : 3 * H], gr[3 * H :]
        di, df, dg, do = dr[:H], dr[H : 2 * H], dr[2 * H : 3 * H], dr[3 * H :]
        cp = c_prev[r]
        t = tc[r]
        kr = k[r]
        for j in range(H):
            di[j] = (one - i[j]) * i[j] * g[j]
            df[j] = (one - f[j]) * f[j] * cp[j]
            dg[j] = (one - g[j] * g[j]) * i[j]
            do[j] = (one - o[j]) * o[j] * t[j]
            kr[j] = (one - t[j] * t[j]) * o[j]


@jit
def _step(first, N, H, a, p, c_prev, prev_first, c, tc, h):
    """One forward step after its product, gates i f g o, on the rows first .. first + N - 1 of the
    flat_rows pairs a (A_t in, the gates out, width 4H), c, tc and h (c_t = f c_prev + i g, tanh(c_t),
    o tanh(c_t) out, width H); p (N, 4H) h_prev W_hh^T; c_prev a flat_rows pair, rows from prev_first.

    Every loop runs over a contiguous slice of one row: written with 2-D indexing and gate ranges
    inside one row, the same loops ran 2.3x slower (float32, N=32, H=128, Zen 5: 17.7 us against
    7.8), because LLVM left some of them scalar; so did 2-D views with strided rows (_rows.py).
    """
    for n in range(N):
        an = row_at(a, first + n, 4 * H)
        pn = p[n]
        for j in range(4 * H):
            an[j] += pn[j]  # z_t = A_t + h_prev W_hh^T
        cp = row_at(c_prev, prev_first + n, H)
        lstm_cell_row(an, cp, row_at(c, first + n, H), row_at(tc, first + n, H), row_at(h, first + n, H))


@jit
def _step_backward(first, N, H, da, gates, cp, tc, dy, has_dy, dh, dc):
    """One backward step before its product, on the rows first .. first + N - 1 of the flat_rows pairs
    da (dA_t out, width 4H), gates (i f g o, width 4H), cp (c_prev), tc (tanh(c_t)) and dy (dL/dh_t from
    above; width H each); dh (N, H): dL/dh_t from step t+1 in (plus dy when has_dy); dc (N, H): dc_t in,
    dc_{t-1} out.  Each factor is written as _prepare writes it."""
    one = np.ones(1, dh.dtype)[0]
    for n in range(N):
        row = row_at(da, first + n, 4 * H)
        di, df, dg, do = row[:H], row[H : 2 * H], row[2 * H : 3 * H], row[3 * H :]
        gr = row_at(gates, first + n, 4 * H)
        i, f, g, o = gr[:H], gr[H : 2 * H], gr[2 * H : 3 * H], gr[3 * H :]
        cpn = row_at(cp, first + n, H)
        tcn = row_at(tc, first + n, H)
        dyn = row_at(dy, first + n, H)
        dhn = dh[n]
        dcn = dc[n]
        if has_dy:  # two copies of the loop, so that neither has a branch inside
            for j in range(H):
                gsum = dhn[j] + dyn[j]
                k = (one - tcn[j] * tcn[j]) * o[j]
                c = dcn[j] + gsum * k  # dc_t += dh * o (1 - tanh(c_t)^2)
                do[j] = (one - o[j]) * o[j] * tcn[j] * gsum  # dA_o
                di[j] = (one - i[j]) * i[j] * g[j] * c  # dA_i
                df[j] = (one - f[j]) * f[j] * cpn[j] * c  # dA_f
                dg[j] = (one - g[j] * g[j]) * i[j] * c  # dA_g
                dcn[j] = c * f[j]  # dc_{t-1} = dc_t f
        else:
            for j in range(H):
                gsum = dhn[j]
                k = (one - tcn[j] * tcn[j]) * o[j]
                c = dcn[j] + gsum * k
                do[j] = (one - o[j]) * o[j] * tcn[j] * gsum
                di[j] = (one - i[j]) * i[j] * g[j] * c
                df[j] = (one - f[j]) * f[j] * cpn[j] * c
                dg[j] = (one - g[j] * g[j]) * i[j] * c
                dcn[j] = c * f[j]


class CompiledLSTM(LSTMKind):
    """LSTMKind whose backward factors are computed inside its compiled steps, and with loops=True
    its two time loops (without projections)."""

    step_reads_backward = (*LSTMKind.step_reads_backward, "tc", "prev_c")  # prev_c: each row's c_{t-1}
    # The loops add b_ih + b_hh to each step's rows after its product, while they are in cache, instead of
    # the stack's pass over every step's rows before the loop (kernels/stack.py): inference 5.31-5.43 ->
    # 4.59-4.78 ms at T = 50, N = 32, H = 128, 2 layers, training about 2% faster, H = 512 within the noise
    # (Intel Xeon, interleaved runs).  `forward_steps` adds it itself on the paths that do not run those loops.
    input_bias_in_loop = True
    project_input = staticmethod(project_layer)  # the layer's X W_ih^T on the packed kernel (_projection.py)

    def __init__(self, loops: bool = True, dot: bool = False):
        self.loops = loops
        self.dot = dot and loops  # batch 1: the products on W_hh itself, DOT forward and STRIDED backward (_product.py)

    def backward_prepare(self, weights, v, prev):
        """Nothing: each compiled step computes its factors of dA itself (_step_backward), from v['gates'],
        v['prev_c'] and v['tc'].  With projections, LSTMKind.backward_prepare."""
        if len(weights) == 5:
            return LSTMKind.backward_prepare(weights, v, prev)
        return None

    def forward_constants(self, weights, contiguous=True):
        """LSTMKind's, with 'panels': W_hh^T's panels for the compiled loops' packed product, or an empty array;
        'dot': True for a batch-1 twin without projections (DOT forward); 'view': True when 'whh_t' is W_hh's
        buffer seen as (K, M) rather than W_hh^T (_product.forward_operands)."""
        c = LSTMKind.forward_constants(weights, contiguous=False)  # everything but the transposes: views
        c["bias"] = _product.loop_bias(LSTMKind, weights)  # b_ih + b_hh, read-only, or None
        projected = len(weights) == 5
        if contiguous and projected:
            c["whr_t"] = transposed(weights[4])
        c["dot"] = self.dot and contiguous and not projected  # whether the forward loop runs in DOT
        if contiguous and not projected:
            c["whh_t"], c["panels"], c["view"] = forward_operands(weights[1], self.loops, c["dot"])
        else:
            c["panels"], c["view"] = NO_PANELS[weights[1].dtype], False
            if contiguous:
                c["whh_t"] = transposed(weights[1])
        return c

    def forward_steps(self, c, v, prev, reverse, work):
        """v['gates'] (T, N, 4H): x_t W_ih^T in (the stack leaves the bias to the loop), i f g o out;
        writes v['c'], v['tc'], v['h'] from prev = (h, c)."""
        both = None if c["whr_t"] is not None else loop_rows(work, v, prev, ("gates", "h", "c", "tc"))
        rows = None if both is None else both[0]
        T, N = v["gates"].shape[:2]
        mode = loop_mode(self.loops, N, c["dot"])
        if rows is None or mode is None:  # not the compiled loops: the bias for every step first
            c = dict(c, whh_t=_product.plain_transpose(c["whh_t"], c["view"]))  # W_hh^T, not the loops' view
            if c["bias"] is not None:
                v["gates"] += c["bias"]
            if rows is None:
                return LSTMKind.forward_steps(c, v, prev, reverse, work)
            c0 = flat_rows(np.ascontiguousarray(prev[1]))  # each step's product in BLAS from Python, the rest compiled
            return self._forward_with_blas(c, v, prev[0], c0, reverse, work, rows)
        run_loop(_forward, _forward_split, N, mode, *_loop_args(c, v, both, reverse, mode), units=_forward_units)
        return None

    def forward_steps_pair(self, cs, vs, prevs, works):
        """Both directions' forward_steps at once, one a thread (_product.run_pair), where both run the compiled
        loops: True when done, False (nothing written) when not."""
        if any(c["whr_t"] is not None for c in cs):  # projections: LSTMKind's loop
            return False
        return run_pair(_forward_pair, [self._pair_args(cs[d], vs[d], prevs[d], works[d], d == 1) for d in range(2)])

    def _pair_args(self, c, v, prev, work, reverse):
        """_loop_args for forward_steps_pair, or None where the rows have a layout the loops cannot take."""
        both = loop_rows(work, v, prev, ("gates", "h", "c", "tc"))
        return (
            None
            if both is None
            else _loop_args(c, v, both, reverse, loop_mode(self.loops, v["gates"].shape[1], c["dot"]))
        )

    def backward_steps(self, weights, v, carries, reverse, work):
        """v['d_gates'] (T, N, 4H): dA_t out, from v['gates'], v['prev_c'], v['tc']; carries (dh, dc) updated."""
        if len(weights) == 5:
            return LSTMKind.backward_steps(weights, v, carries, reverse, work)
        rows = _backward_rows(v)
        if rows is None:  # a layout the loops cannot take: the factors for every step, then NumPy's loop
            for t in range(v["gates"].shape[0]):
                _prepare(v["gates"][t], v["d_gates"][t], v["prev_c"][t], v["tc"][t], v["k"][t])
            return LSTMKind.backward_steps(weights, v, carries, reverse, work)
        T, N = v["d_gates"].shape[:2]
        mode = loop_mode(self.loops, N, self.dot, forward=False)
        if mode is None:  # the rest of each step compiled, its product in BLAS from Python
            return self._backward_with_blas(weights, v, carries, reverse, rows)
        dh, dc = carries
        w, bp = backward_operands(weights[1], mode)
        run_loop(_backward, _backward_split, N, mode, w, *rows, v["d_out"] is not None, T, N, reverse, dh, dc, bp, mode)
        return None

    def _forward_with_blas(self, c, v, h0, c0, reverse, work, rows):
        """forward_steps with the time loop in Python: each step's product in BLAS, the rest compiled;
        h0 (N, H) the initial h, c0 the flat_rows pair of the initial c, rows the flat_rows pairs of loop_rows."""
        T, N = v["gates"].shape[:2]
        a, h, c_rows, tc = rows
        prod, matmul, whh_t, H = work["prod"][:N], np.matmul, c["whh_t"], c["H"]
        h_prev, c_prev, prev_first = h0, c0, 0
        for t in range(T - 1, -1, -1) if reverse else range(T):
            matmul(h_prev, whh_t, out=prod)  # h_{t-1} W_hh^T
            _step(t * N, N, H, a, prod, c_prev, prev_first, c_rows, tc, h)
            h_prev, c_prev, prev_first = v["h"][t], c_rows, t * N
        return None

    def _backward_with_blas(self, weights, v, carries, reverse, rows):
        """backward_steps with the time loop in Python: each step's product in BLAS, the rest compiled."""
        d_gates, w_hh = v["d_gates"], weights[1]
        T, N, G = d_gates.shape
        H = G // 4
        has = v["d_out"] is not None
        da, gates, cp, tc, dy = rows
        dh, dc = carries
        matmul = np.matmul
        for t in range(T) if reverse else range(T - 1, -1, -1):  # the opposite order to the direction's own
            _step_backward(t * N, N, H, da, gates, cp, tc, dy, has, dh, dc)
            matmul(d_gates[t], w_hh, out=dh)  # dh_{t-1} = dA_t W_hh
        return None


def _loop_args(c, v, both, reverse, mode):
    """The arguments of _forward for one direction: constants c, views v, loop_rows' `both`."""
    T, N = v["gates"].shape[:2]
    (a, h, c_rows, tc), (h0, c0) = both
    bias = NO_PANELS[v["gates"].dtype] if c["bias"] is None else c["bias"]
    return (c["whh_t"], a, T, N, h0, c0, reverse, h, c_rows, tc, bias, c["panels"], mode)


def _backward_rows(v):
    """The flat_rows pairs of d_gates, the gates, c_prev, tanh(c_t) and dL/dh_t from above (tanh(c_t) when
    there is none) that the backward loops read, or None when one of them has a layout they cannot describe."""
    d_out = v["d_out"]
    names = ("d_gates", "gates", "prev_c", "tc")
    rows = [flat_rows(v[n]) for n in names] + [flat_rows(v["tc"] if d_out is None else d_out)]
    return None if any(r is None for r in rows) else rows


def compiled_twin(kind: LSTMKind, loops: bool = True, dot: bool = False) -> CompiledLSTM:
    """The compiled twin of LSTM: its whole time loops compiled, or (loops=False) each step but its product;
    dot: for batch 1, the products on W_hh itself (DOT forward, STRIDED backward)."""
    return CompiledLSTM(loops, dot)
