"""The recurrent product of a single row on the weight itself: dot products with W's rows, in LLVM's vector IR.

At batch 1 each forward step multiplies one row by W_hh^T, (1, K) by (K, M): element m of the
product is the dot product of row m of W_hh (M, K) with the row.  The packed product (_gemm.py)
runs it on W_hh^T's panels, which kernels/transposed.py keeps while W_hh's bits are unchanged; but
the check of those bits reads W_hh and its kept copy at every call, and at batch 1 it costs more than
it saves.  Those two 640 KB streams (an LSTM at H = 200, float32) push the panels out of a 2 MB L2,
so that the loop then reads them from L3: inference at T = 25 took 441-467 us with the check against
283-350 us with it skipped (Intel Xeon, AVX-512, 2026-12-07).  Read row by row, W_hh needs neither a
transpose, nor panels, nor a check, and the same call takes 341-367 us:

    acc[n, m] += sum_k x[n, k] W[m, k]                     W (M, K) C-contiguous, as nn.LSTM holds it

A block of RB = 4 rows of W runs through the shared dimension together, two vectors of VW values at
a time, with 2 RB accumulators in registers (8 chains of multiply-adds), and the last K mod VW
values by masked loads that read nothing past a row.  A row of W is short (800 bytes at H = 200),
too short for the processor's prefetchers to follow four of them at once, so each load also
prefetches the same place in the next block's rows: 8.0 -> 7.0 us a step at (800, 200), 2.06 ->
1.94 us at (400, 100), one core (Intel Xeon).  The two accumulators of a row are added, and the
block's RB sums folded into one vector of RB values by a fixed tree of shuffles (_fold).

So a value's sum runs over k in another order than the packed product's (lane by lane, then the
tree): the numbers agree to rounding, not to the bit, and the batch-1 loops are tested against torch
at the usual tolerances.  The order depends on K only, never on where W lies in memory, so a call
gives the same bits in every process.  Rows that do not start on a 64-byte line cost split loads:
W at (800, 200) took 7.6 us a step starting 16 bytes past a line and 6.5 us on one (its odd rows start
32 bytes past one either way), which is why nn.Parameter allocates on 64-byte boundaries; (800, 192),
whose rows are all whole lines, takes 4.9-5.1 us.  Peeling each row to a line would make the order
depend on the address, so it is not done.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._gemm import VECTOR_BYTES, vector_intrinsics
from ._jit import jit

__all__ = ["RB", "dot_product_rows"]

RB = 4  # rows of W per block


def _dot_kernel(rows: int, chains: int):
    """An intrinsic: acc[acc_at + r] += w[w_at + r K : w_at + r K + K] . x[x_at : x_at + K], r < rows."""

    @intrinsic
    def block(typingctx, w, w_at, k, ahead, x, x_at, acc, acc_at):
        if not (isinstance(acc, types.Array) and acc.dtype in (types.float32, types.float64)):
            return None
        if x.dtype != acc.dtype or w.dtype != acc.dtype:
            return None
        return types.void(w, types.intp, types.intp, types.intp, x, types.intp, acc, types.intp), codegen

    def codegen(context, builder, signature, args):
        wv, w_at, k, ahead, xv, x_at, accv, acc_at = args
        F = signature.args[-2].dtype
        bits = 32 if F == types.float32 else 64
        lanes = VECTOR_BYTES * 8 // bits
        vty, mty, fma, mload, _ = vector_intrinsics(builder, bits)
        vptr = vty.as_pointer()
        align = bits // 8
        i32 = ir.IntType(32)
        i64 = k.type

        i8p = ir.IntType(8).as_pointer()
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0"
        )

        def data(value, ty):
            return context.make_array(ty)(context, builder, value).data

        wp = data(wv, signature.args[0])
        xp = data(xv, signature.args[4])
        ap = data(accv, signature.args[6])

        def const(v):
            return ir.Constant(i64, v)

        def vec_at(base, at):
            return builder.bitcast(builder.gep(base, [at]), vptr)

        def load(base, at):
            value = builder.load(vec_at(base, at))
            value.align = align
            return value

        zero_v = ir.Constant(vty, [0.0] * lanes)
        slots = [[cgutils.alloca_once_value(builder, zero_v) for _ in range(chains)] for _ in range(rows)]
        row_at = [builder.add(w_at, builder.mul(const(r), k)) for r in range(rows)]

        def accumulate(kk, chain, x_vec, w_load, fetch=False):
            for r in range(rows):
                s = slots[r][chain]
                at = builder.add(row_at[r], kk)
                if fetch:  # the same place `ahead` values on: the next block's rows, read soon
                    p = builder.bitcast(builder.gep(wp, [builder.add(at, ahead)]), i8p)
                    builder.call(prefetch, [p, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
                builder.store(builder.call(fma, [w_load(at), x_vec, builder.load(s)]), s)

        step = chains * lanes
        groups = builder.udiv(k, const(step))
        with cgutils.for_range(builder, groups) as loop:  # `chains` vectors of k per iteration
            k0 = builder.mul(loop.index, const(step))
            for chain in range(chains):
                kk = builder.add(k0, const(chain * lanes))
                accumulate(kk, chain, load(xp, builder.add(x_at, kk)), lambda at: load(wp, at), True)
        done = builder.mul(groups, const(step))
        full = builder.mul(builder.udiv(k, const(lanes)), const(lanes))
        for chain in range(chains - 1):  # the whole vectors left, fewer than `chains`
            kk = builder.add(done, const(chain * lanes))
            with builder.if_then(builder.icmp_signed("<", kk, full)):
                accumulate(kk, chain, load(xp, builder.add(x_at, kk)), lambda at: load(wp, at))
        rest = builder.sub(k, full)
        with builder.if_then(builder.icmp_signed(">", rest, const(0))):  # the last k mod VW values, masked
            i64v = ir.VectorType(i64, lanes)
            splat = builder.insert_element(ir.Constant(i64v, ir.Undefined), rest, ir.Constant(i32, 0))
            splat = builder.shuffle_vector(splat, splat, ir.Constant(ir.VectorType(i32, lanes), [0] * lanes))
            mask = builder.icmp_signed("<", ir.Constant(i64v, list(range(lanes))), splat)

            def masked(base, at):
                return builder.call(mload, [vec_at(base, at), ir.Constant(i32, align), mask, zero_v])

            accumulate(full, chains - 1, masked(xp, builder.add(x_at, full)), lambda at: masked(wp, at))
        sums = []
        for r in range(rows):
            v = builder.load(slots[r][0])
            for chain in range(1, chains):
                v = builder.fadd(v, builder.load(slots[r][chain]))
            sums.append(v)
        total = _fold(builder, sums, lanes)  # <rows x float>: row r's sum in lane r
        ap_v = builder.bitcast(builder.gep(ap, [acc_at]), ir.VectorType(vty.element, rows).as_pointer())
        old = builder.load(ap_v)
        old.align = align
        builder.store(builder.fadd(old, total), ap_v).align = align
        return context.get_dummy_value()

    return block


def _fold(builder, vectors, lanes):
    """The lane sums of each vector, in one vector: lane r holds vectors[r]'s sum, by a fixed tree.

    Each vector holds groups of lanes, one group per row.  Two vectors become one by adding each
    group's first half to its second half (the rows of the first vector, then those of the second);
    once one vector is left, its groups are halved the same way until each row has one lane.
    """
    i32 = ir.IntType(32)

    def halves(a, b, groups, g):  # lanes of a then b (b's numbered from a's width on), groups of g
        lo = [j * g + i for j in range(groups) for i in range(g // 2)]
        hi = [j * g + g // 2 + i for j in range(groups) for i in range(g // 2)]
        u = builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(i32, len(lo)), lo))
        w = builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(i32, len(hi)), hi))
        return builder.fadd(u, w)

    rows, g = 1, lanes  # rows per vector, lanes per row
    while len(vectors) > 1:
        vectors = [halves(vectors[i], vectors[i + 1], 2 * rows, g) for i in range(0, len(vectors), 2)]
        rows, g = 2 * rows, g // 2
    (v,) = vectors
    while g > 1:
        v = halves(v, v, rows, g)
        g //= 2
    return v


_dot4 = _dot_kernel(RB, 2)
_dot1 = _dot_kernel(1, 2)


@jit
def dot_product_rows(acc, acc_first, x, x_first, N, K, w, M):
    """Rows acc_first .. acc_first + N - 1 of acc += rows x_first .. x_first + N - 1 of x, times W^T.

    acc and x are flat_rows pairs (_rows.py) of rows of width M and K; w is W (M, K) C-contiguous,
    flattened to 1-D: each of the N rows reads all of W, so the loops take this for N = 1 only.
    """
    acc_flat, ldc = acc
    x_flat, ldx = x
    if N > 0 and w.shape[0] < M * K:  # never read past W
        raise ValueError("dot_product_rows: w holds fewer than M * K values")
    for n in range(N):
        acc_at, x_at = (acc_first + n) * ldc, (x_first + n) * ldx
        m = 0
        while m + RB <= M:
            _dot4(w, m * K, K, RB * K, x_flat, x_at, acc_flat, acc_at + m)
            m += RB
        while m < M:
            _dot1(w, m * K, K, K, x_flat, x_at, acc_flat, acc_at + m)
            m += 1
