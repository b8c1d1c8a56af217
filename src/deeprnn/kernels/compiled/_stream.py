"""The backward product of a batch of one as one pass over b's rows, the whole row of the result in registers.

    stream_product_rows(acc, acc_first, x, x_first, N, K, b, M)    # rows of acc += rows of x times b (K, M)

At batch 1 the backward loops add dA_t W_hh, (1, G H) by (G H, H), to the carry.  The packed kernel's blocks
on b itself (_gemm.strided_product_rows) read b in column blocks of 128 values: each block's loads run
down the rows M values apart, half of them straddle two cache lines at M = 200 (a row is 800 bytes), and
the lines at a block's edge are read once per block.  Here all of a row of acc (M <= STREAM_VECTORS
vectors) stays in registers while b streams past once, row after row, in memory order: per k one
broadcast of x and one multiply-add per vector, the last vectors masked, so nothing past a row is read.
Every sum runs over k in order with one rounding per multiply-add, as in the packed kernel, so the bits
are those of strided_product_rows and packed_product_rows.

One step alone, float32, one core (Intel Xeon, AVX-512, 2026-12-07), against strided_product_rows:
(800, 200) 7.5 against 8.8-11.3 us; (600, 200) 4.6 against 6.4; (200, 200) 1.9 against 2.2-2.7;
(400, 100) 1.7 against 2.5; (100, 100) 0.28 against 0.50.  With up to 28 accumulators (448 float32, in 28 of
the 32 vector registers): (1408, 352) 31.7 against 40.5; (448, 448) 8.1 against 10.2; and batch-1 train steps at
T = 25, interleaved against 16 vectors (whose rows past 256 took the strided blocks): RNN H = 320 765-768 ->
699-733 us, H = 448 1194-1219 -> 1126-1159, LSTM H = 300 2326-2349 -> 1997-2245.  Wider rows would need two
passes over b, and at (640, 640) in two halves it lost (30.9 against 24.4 us), so `_product.product_rows`
takes this up to STREAM_VECTORS vectors only.

Also measured and not kept: the forward loops at batch 1 on a kept W_hh^T through this kernel instead of
DOT's dot products with W_hh's rows (_dot.py).  Alone the product was faster ((1, 100) by (100, 400) 1.08
against 1.97 us), but module inference lost at 7 of 8 sizes (GRU H = 128, T = 25: 160 -> 187 us; LSTM
H = 100, T = 100: 430 -> 450), the check of the kept copy's bits at every call included; only the RNN at
H = 100, T = 100 won (141 -> 132).

Packing W_hh into panels afresh at every call and running the packed kernel was measured too and not
kept: its loop won (LSTM T = 25, H = 200: 307 -> 249 us), but the packing, with W_hh no longer in L2
by then, cost 66 us of it.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._gemm import VECTOR_BYTES, vector_intrinsics
from ._jit import jit

__all__ = ["STREAM_VECTORS", "stream_width", "stream_product_rows"]

STREAM_VECTORS = 28  # the accumulators of a row, of the 32 vector registers of AVX-512
STEP = 4  # the kernel's cases: multiples of STEP vectors (compile time), the last STEP of each masked


@jit(inline=True)
def stream_width(itemsize):
    """The widest row (M values of `itemsize` bytes) that stream_product_rows takes: 448 float32 with AVX-512.
    Compiled, for the loops' choice (_product.product_rows) and this file's check alike."""
    return STREAM_VECTORS * (VECTOR_BYTES // itemsize)


@intrinsic
def _stream(typingctx, x, x_at, b, b_at, K, ldb, acc, acc_at, width):
    """acc[acc_at : acc_at + width] += sum over k < K, in order, of x[x_at + k] b[b_at + k ldb : ... + width],
    for 0 < width <= STREAM_VECTORS lanes: one case per multiple of STEP vectors, each with its accumulators
    in registers (LLVM's mem2reg), its last STEP vectors masked in their loads and stores (a vector wholly
    past width reads and writes nothing).  One case per number of vectors (28) ran as fast, within the
    noise of interleaved train steps, but the first calls of the three kinds at batches 1 and 8 compiled in
    60 s against 51 s with STEP = 4 (47 s before this kernel; Intel Xeon, 2026-12-07)."""
    arrays = (x, b, acc)
    if not all(isinstance(a, types.Array) and a.dtype == acc.dtype for a in arrays):
        return None
    if acc.dtype not in (types.float32, types.float64):
        return None
    sig = types.void(x, types.intp, b, types.intp, types.intp, types.intp, acc, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        xv, x_at, bv, b_at, K, ldb, accv, acc_at, width = args
        bits = 32 if signature.args[6].dtype == types.float32 else 64
        lanes = VECTOR_BYTES * 8 // bits
        vty, _, fma, mload, mstore = vector_intrinsics(builder, bits)
        i32, i64 = ir.IntType(32), width.type
        vptr, i64v = vty.as_pointer(), ir.VectorType(i64, lanes)
        align = ir.Constant(i32, bits // 8)

        def data(value, ty):
            return context.make_array(ty)(context, builder, value).data

        xp, bp, cp = data(xv, signature.args[0]), data(bv, signature.args[2]), data(accv, signature.args[6])

        def const(v):
            return ir.Constant(i64, v)

        def vector_at(base, at):
            return builder.bitcast(builder.gep(base, [at]), vptr)

        zero_v, undef = ir.Constant(vty, [0.0] * lanes), ir.Constant(vty, ir.Undefined)
        splat = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)
        width_v = builder.insert_element(ir.Constant(i64v, ir.Undefined), width, ir.Constant(i32, 0))
        width_v = builder.shuffle_vector(width_v, width_v, splat)
        # vectors, rounded up to a multiple of STEP: one case per multiple, the last STEP vectors masked
        nvec = builder.sdiv(builder.add(width, const(STEP * lanes - 1)), const(STEP * lanes))

        def mask_of(v):  # lanes of vector v inside the row: v lanes + j < width
            return builder.icmp_signed("<", ir.Constant(i64v, [v * lanes + j for j in range(lanes)]), width_v)

        def load(base, at, mask):
            if mask is not None:
                return builder.call(mload, [vector_at(base, at), align, mask, zero_v])
            value = builder.load(vector_at(base, at))
            value.align = bits // 8
            return value

        done = builder.append_basic_block("stream.done")
        cases = builder.switch(nvec, done)
        for n in range(STEP, STREAM_VECTORS + 1, STEP):
            block = builder.append_basic_block(f"stream.{n}")
            cases.add_case(const(n // STEP), block)
            builder.position_at_end(block)
            masks = [mask_of(v) if v >= n - STEP else None for v in range(n)]
            slots = []
            for v in range(n):
                slot = cgutils.alloca_once(builder, vty)
                builder.store(load(cp, builder.add(acc_at, const(v * lanes)), masks[v]), slot)
                slots.append(slot)
            with cgutils.for_range(builder, K) as loop:
                row = builder.add(b_at, builder.mul(loop.index, ldb))
                scalar = builder.load(builder.gep(xp, [builder.add(x_at, loop.index)]))
                bcast = builder.shuffle_vector(builder.insert_element(undef, scalar, ir.Constant(i32, 0)), undef, splat)
                for v in range(n):
                    b_v = load(bp, builder.add(row, const(v * lanes)), masks[v])
                    builder.store(builder.call(fma, [bcast, b_v, builder.load(slots[v])]), slots[v])
            for v in range(n):
                at = vector_at(cp, builder.add(acc_at, const(v * lanes)))
                if masks[v] is not None:
                    builder.call(mstore, [builder.load(slots[v]), at, align, masks[v]])
                else:
                    builder.store(builder.load(slots[v]), at).align = bits // 8
            builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    return sig, codegen


@jit
def stream_product_rows(acc, acc_first, x, x_first, N, K, b, M):
    """Rows acc_first .. acc_first + N - 1 of acc += rows x_first .. x_first + N - 1 of x, times b (K, M).

    acc and x are flat_rows pairs (_rows.py) of rows of width M and K; b is b (K, M) C-contiguous flattened
    to 1-D; M <= stream_width(itemsize).  One pass over b per row of x."""
    acc_flat, ldc = acc
    x_flat, ldx = x
    if N > 0 and (b.shape[0] < K * M or M > stream_width(acc_flat.itemsize)):
        raise ValueError("stream_product_rows: b holds fewer than K * M values, or M is wider than stream_width")
    if M == 0:
        return
    for n in range(N):
        _stream(x_flat, (x_first + n) * ldx, b, 0, K, M, acc_flat, (acc_first + n) * ldc, M)
