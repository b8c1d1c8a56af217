"""The Elman RNN's time loops, compiled: kernels/rnn.py's ElmanKind with its two loops in machine code.

    forward   h_t  = act(A_t + h_prev W_hh^T)            A_t = x_t W_ih^T given, + b_ih + b_hh in the loop
    backward  dA_t = (dL/dh_t + dh_t) * act'(a_t)         act'(a_t) given (backward_prepare), dh_t the carry
              dh_prev = dA_t W_hh

Each call runs every step of one layer-direction (or of one segment of a packed batch) with no
Python and no library call per step: the recurrent product (a hand-written loop,
_math.add_product_rows), the addition and the activation, in the rows of the stack's buffers.
Everything done for all steps at once (the input projection, act', the weight-gradient products)
stays NumPy, in the shared stack.

The twin made with loops=False (kernels/backend.py: batches too large for the compiled loops)
runs each step's product in NumPy's BLAS instead of the hand-written loop.  Where NumPy's OpenBLAS
is found (_blas.py) the same two loops stay compiled and call its GEMM themselves, with no Python
per step (inference 1.07-1.09x, train 1.04-1.07x faster than the Python loop at N = 32, H = 128-512,
Zen 4).  Otherwise, and at batch 1, the forward time loop is Python's, with np.matmul and the
addition and activation as one compiled call (`_step`) instead of two NumPy calls: on processors
without AVX-512, NumPy's float32 tanh is scalar (43 us for 32 x 512 values on a Zen 3, where
`_step` takes a few), and that made inference 1.13-1.36x faster there at N = 32-64, H = 128-1024;
the backward loop is then NumPy's (two cheap ufuncs and the product per step).

At batch 1 with a W_hh of at least 300 KB (H >= 274) the forward loop runs as `_forward_units`: the hidden
units in two parts, one a thread, each in its own units of the rows, h_t shared through one barrier a step
(_sync.py), with the same bits as `_forward`.

Letters: T steps (of the segment), N rows, H hidden features.
"""

from __future__ import annotations

import numpy as np
from numba import prange, types

from ..rnn import ElmanKind
from . import _product  # its cold helpers: loop_bias, plain_transpose
from ._dot import dot_product_rows
from ._jit import jit, readonly_matrix, readonly_vector, typed_jit
from ._math import tanh_
from ._product import NO_PANELS, backward_operands, forward_operands, loop_mode, product_rows, run_loop, run_pair
from ._projection import project_layer
from ._rows import flat_rows, part_rows, row_at, rows_type
from ._sync import PARTS, claim, publish, unit_range, wait_for

__all__ = ["CompiledElman", "compiled_twin"]


_FORWARD_TYPES = lambda F: (  # noqa: E731
    readonly_matrix(F), rows_type(F), types.intp, types.intp, rows_type(F), types.boolean, types.boolean,
    readonly_vector(F), readonly_vector(F), types.intp,
)  # fmt: skip


@typed_jit(_FORWARD_TYPES)
def _forward(whh_t, a, T, N, h0, relu, reverse, bias, bp, mode):
    """The forward time loop on flat_rows pairs (_rows.py), whh_t (H, H) first (its dtype picks the
    compiled version): a (T*N rows of H) x_t W_ih^T in, h_t out; h0 (N rows of H); bias (H,) b_ih + b_hh,
    added to each step's rows after its product (empty: none); bp, mode: each step's
    product (_product.py): PACKED on the panels bp, BLAS or HAND.  Each step works in the
    rows of the buffer, without copies (1.00-1.16x faster than copying each step to a work array
    and back, float32, N = 1-16, H = 64-256, Zen 3), with the same bits."""
    _forward_part(whh_t, a, T, N, 0, N, h0, relu, reverse, bias, bp, mode)


@typed_jit(lambda F: (*_FORWARD_TYPES(F), types.intp), parallel=True)
def _forward_split(whh_t, a, T, N, h0, relu, reverse, bias, bp, mode, parts):
    """_forward with the batch's rows in `parts` parts, each on its own thread of the pool (_pool.py), from
    the first step to the last: rows never meet in the recurrence, so each part's bits are _forward's.
    mode must be PACKED or HAND: no OpenBLAS call may run inside the pool's own threads."""
    for p in prange(parts):
        n0, n1 = part_rows(N, parts, p)
        if n0 < n1:
            _forward_part(whh_t, a, T, N, n0, n1 - n0, h0, relu, reverse, bias, bp, mode)


@typed_jit(lambda F: (*_FORWARD_TYPES(F), *_FORWARD_TYPES(F)), parallel=True)
def _forward_pair(w0, a0, T0, N0, h00, relu0, r0, b0, bp0, m0, w1, a1, T1, N1, h01, relu1, r1, b1, bp1, m1):
    """Two _forward calls at once, one a thread of the pool: a bidirectional layer's directions (pair_directions)."""
    for p in prange(2):
        if p == 0:
            _forward_part(w0, a0, T0, N0, 0, N0, h00, relu0, r0, b0, bp0, m0)
        else:
            _forward_part(w1, a1, T1, N1, 0, N1, h01, relu1, r1, b1, bp1, m1)


@jit
def _forward_part(whh_t, a, T, N, n0, nc, h0, relu, reverse, bias, bp, mode):
    """_forward on the rows n0 .. n0 + nc - 1 of every step (N rows a step)."""
    H = whh_t.shape[0]
    prev, prev_first = h0, n0
    zero = whh_t.dtype.type(0)
    has_bias = bias.shape[0] > 0
    for s in range(T):
        t = T - 1 - s if reverse else s
        first = t * N + n0
        product_rows(a, first, prev, prev_first, nc, H, whh_t, bp, mode)  # x_t W_ih^T + h_prev W_hh^T
        for n in range(nc):  # over contiguous rows, the choices outside the loops: LLVM vectorises them
            an = row_at(a, first + n, H)
            if has_bias:
                for j in range(H):
                    an[j] += bias[j]  # a_t = x_t W_ih^T + h_prev W_hh^T + b_ih + b_hh
            if relu:
                for j in range(H):
                    an[j] = max(an[j], zero)
            else:  # with the branch inside and 2-D indexing, tanh ran scalar: 1.2-1.6x slower forward
                for j in range(H):
                    an[j] = tanh_(an[j])
        prev, prev_first = a, first


@typed_jit(lambda F: (*_FORWARD_TYPES(F), types.int64[::1]), parallel=True)
def _forward_units(whh_t, a, T, N, h0, relu, reverse, bias, bp, mode, sync):
    """_forward at batch 1 in DOT mode (bp W_hh flat) with the hidden units in two parts, one a thread of the
    pool, each step's h shared through sync (_sync.py): each value's bits are _forward's.  A part works in
    its own units of each row of a, in place, as _forward does: the rows are h itself."""
    for p in prange(PARTS):
        if claim(sync, p):
            owned = 1 << p
            for s in range(T):
                for q in range(PARTS):
                    if (owned >> q) & 1:
                        _units_step(whh_t, a, T, h0, relu, reverse, bias, bp, q, s, sync)
                stolen = wait_for(sync, s + 1, owned)
                if stolen >= 0:  # a part no thread started (so s = 0): its step here, then along with ours
                    _units_step(whh_t, a, T, h0, relu, reverse, bias, bp, stolen, s, sync)
                    owned |= 1 << stolen


@jit
def _units_step(whh_t, a, T, h0, relu, reverse, bias, bp, part, s, sync):
    """Step s of _forward_units for the hidden units j0 .. j1 - 1 of `part`, in row t of a; then published."""
    H = whh_t.shape[0]
    j0, j1 = unit_range(H, part, 64 // bp.itemsize)
    t = T - 1 - s if reverse else s
    prev = 0 if s == 0 else t + 1 if reverse else t - 1
    flat, stride = a
    dot_product_rows((flat[j0:], stride), t, h0 if s == 0 else a, prev, 1, H, bp[j0 * H : j1 * H], j1 - j0)
    an = row_at(a, t, H)[j0:j1]
    if bias.shape[0] > 0:
        b = bias[j0:j1]
        for j in range(an.shape[0]):
            an[j] += b[j]  # a_t = x_t W_ih^T + h_prev W_hh^T + b_ih + b_hh
    if relu:
        zero = whh_t.dtype.type(0)
        for j in range(an.shape[0]):
            an[j] = max(an[j], zero)
    else:
        for j in range(an.shape[0]):
            an[j] = tanh_(an[j])
    publish(sync, part, s + 1)


_BACKWARD_TYPES = lambda F: (  # noqa: E731
    F[:, ::1], rows_type(F), rows_type(F), types.boolean, types.intp, types.intp, types.boolean, F[:, ::1],
    readonly_vector(F), types.intp,
)  # fmt: skip


@typed_jit(_BACKWARD_TYPES)
def _backward(w_hh, da, dy, has_dy, T, N, reverse, carry, bp, mode):
    """The backward time loop on flat_rows pairs, w_hh (H, H) first: da (T*N rows of H) act'(a_t) in,
    dA_t = (dL/dh_t from above + carry) act'(a_t) out; dy (T*N rows of H); carry (N, H): dL/dh in,
    dL/d(state before the run) out; bp, mode as in _forward.  1.02-1.39x faster without per-step copies, same bits."""
    _backward_part(w_hh, da, dy, has_dy, T, N, 0, N, reverse, carry, bp, mode)


@typed_jit(lambda F: (*_BACKWARD_TYPES(F), types.intp), parallel=True)
def _backward_split(w_hh, da, dy, has_dy, T, N, reverse, carry, bp, mode, parts):
    """_backward with the batch's rows in `parts` parts on the pool's threads, as _forward_split."""
    for p in prange(parts):
        n0, n1 = part_rows(N, parts, p)
        if n0 < n1:
            _backward_part(w_hh, da, dy, has_dy, T, N, n0, n1 - n0, reverse, carry[n0:n1], bp, mode)


@jit
def _backward_part(w_hh, da, dy, has_dy, T, N, n0, nc, reverse, carry, bp, mode):
    """_backward on the rows n0 .. n0 + nc - 1 of every step (N rows a step); carry (nc, H) their carry."""
    H = w_hh.shape[0]
    carry_rows = (carry.reshape(-1), H)
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        first = t * N + n0
        for n in range(nc):
            d = row_at(da, first + n, H)
            c = carry[n]
            if has_dy:  # two copies of the loop, so that neither has a branch inside
                y = row_at(dy, first + n, H)
                for j in range(H):
                    d[j] *= c[j] + y[j]  # dA_t = g_t * act'(a_t)
            else:
                for j in range(H):
                    d[j] *= c[j]
        carry[...] = 0
        product_rows(carry_rows, 0, da, first, nc, H, w_hh, bp, mode)  # dh_prev = dA_t W_hh


@jit
def _step(first, N, H, a, p, relu):
    """One forward step after its product: rows first .. first + N - 1 of the flat_rows pair a (A_t in,
    h_t = act(A_t + p) out, width H); p (N, H) h_prev W_hh^T."""
    zero = p.dtype.type(0)
    for n in range(N):  # over contiguous rows, the choice outside the loops: LLVM vectorises them
        an = row_at(a, first + n, H)
        pn = p[n]
        if relu:
            for j in range(H):
                an[j] = max(an[j] + pn[j], zero)
        else:
            for j in range(H):
                an[j] = tanh_(an[j] + pn[j])


class CompiledElman(ElmanKind):
    """ElmanKind whose forward_steps and backward_steps run compiled (same buffers, same contract);
    with loops=False only each forward step but its product."""

    input_bias_in_loop = True  # forward_steps adds b_ih + b_hh itself: in each step of the compiled loops
    project_input = staticmethod(project_layer)  # the layer's X W_ih^T on the packed kernel (_projection.py)

    def __init__(self, nonlinearity: str, loops: bool = True, dot: bool = False) -> None:
        super().__init__(nonlinearity)
        self.loops = loops
        self.dot = dot and loops  # batch 1: the products on W_hh itself, DOT forward and STRIDED backward (_product.py)

    def forward_constants(self, weights, contiguous=True):
        """(b, bp, view, dot, bias): the forward product's operands (_product.forward_operands: b W_hh^T, or
        with view W_hh's buffer seen as (K, M); bp its panels, W_hh flat or an empty array), dot whether this
        is a batch-1 twin (DOT forward).  bias: b_ih + b_hh (H,), a read-only copy, or None."""
        bias = _product.loop_bias(ElmanKind, weights)  # b_ih + b_hh, read-only, or None
        if not contiguous:
            return ElmanKind.forward_constants(weights, contiguous), NO_PANELS[weights[1].dtype], False, False, bias
        return (*forward_operands(weights[1], self.loops, self.dot), self.dot, bias)

    def forward_steps(self, consts, v, prev, reverse, scratch):
        """h_t = act(x_t W_ih^T + b + h_prev W_hh^T) in place over v['h'] (T, N, H), which holds x_t W_ih^T on
        entry (the stack leaves the bias to this kind), from prev = (h_prev,); consts from forward_constants."""
        whh_t, bp, view, dot, bias = consts
        relu = self.nonlinearity == "relu"
        seq = v["h"]
        rows = flat_rows(seq)
        T, N, H = seq.shape
        mode = loop_mode(self.loops, N, dot)
        if (rows is None or mode is None) and bias is not None:  # not the compiled loops: the bias first
            seq += bias
        if rows is None:
            return ElmanKind.forward_steps(self, _product.plain_transpose(whh_t, view), v, prev, reverse, scratch)
        if mode is None:  # each step's product in BLAS from Python, the rest compiled
            prod, matmul, h_prev = scratch[:N], np.matmul, prev[0]
            for t in range(T - 1, -1, -1) if reverse else range(T):
                matmul(h_prev, whh_t, out=prod)  # h_{t-1} W_hh^T
                _step(t * N, N, H, rows, prod, relu)
                h_prev = seq[t]
            return None
        args = self._loop_args(consts, seq, rows, prev, reverse, mode)
        run_loop(_forward, _forward_split, N, mode, *args, units=_forward_units)
        return None

    def forward_steps_pair(self, cs, vs, prevs, works):
        """Both directions' forward_steps at once, one a thread (_product.run_pair), where both run the compiled
        loops: True when done, False (nothing written) when not."""
        return run_pair(_forward_pair, [self._pair_args(cs[d], vs[d]["h"], prevs[d], d == 1) for d in range(2)])

    def _pair_args(self, consts, seq, prev, reverse):
        """_loop_args for forward_steps_pair, or None where seq has a layout the loops cannot take."""
        rows = flat_rows(seq)
        mode = loop_mode(self.loops, seq.shape[1], consts[3])
        return None if rows is None else self._loop_args(consts, seq, rows, prev, reverse, mode)

    def _loop_args(self, consts, seq, rows, prev, reverse, mode):
        """The arguments of _forward for one direction: seq its v['h'] (T, N, H), rows their flat_rows pair."""
        whh_t, bp, _, _, bias = consts
        T, N = seq.shape[:2]
        h0 = flat_rows(np.ascontiguousarray(prev[0]))
        bias = NO_PANELS[seq.dtype] if bias is None else bias
        return (whh_t, rows, T, N, h0, self.nonlinearity == "relu", reverse, bias, bp, mode)

    def backward_steps(self, weights, v, carries, reverse, work):
        """v['d_gates'] (T, N, H): act'(a_t) in, dA_t out; carries = (dL/dh,), (N, H) contiguous, updated."""
        d_a, d_out = v["d_gates"], v["d_out"]
        mode = loop_mode(self.loops, d_a.shape[1], self.dot, forward=False)
        if mode is None:
            return ElmanKind.backward_steps(weights, v, carries, reverse, work)
        has = d_out is not None
        rows = [flat_rows(q) for q in (d_a, d_out if has else d_a)]
        if rows[0] is None or rows[1] is None:
            return ElmanKind.backward_steps(weights, v, carries, reverse, work)
        T, N = d_a.shape[:2]
        w, bp = backward_operands(weights[1], mode)
        run_loop(_backward, _backward_split, N, mode, w, *rows, has, T, N, reverse, carries[0], bp, mode)
        return None


def compiled_twin(kind: ElmanKind, loops: bool = True, dot: bool = False) -> CompiledElman:
    """The compiled twin of RNN_TANH or RNN_RELU: its whole time loops compiled, or (loops=False)
    each forward step but its product; dot: for batch 1, the products on W_hh itself (DOT, STRIDED)."""
    return CompiledElman(kind.nonlinearity, loops, dot)
