"""The recurrent product on packed weights: a register-blocked kernel written in LLVM's vector IR.

Each step of a time loop adds h_prev W_hh^T (forward) or dA_t W_hh (backward) to a few rows:
(N, K) by (K, M) with N small and the same (K, M) matrix at every step.  OpenBLAS packs that
matrix again at every call; oneDNN and onnxruntime pack their weights once.  Here the matrix is
packed once per call of a time loop (kernels/transposed.py keeps the packed copy while the weight
is unchanged) into panels of NR columns, each panel K rows of NR contiguous values, the last one
padded with zeros:

    panels(b)[p, k, j] = b[k, p NR + j]                        (ceil(M / NR), K, NR), kernels/panels.py

and the kernel keeps a block of MR rows by NR columns of the result in vector registers through
the whole shared dimension: per k, NV vector loads of the panel, MR broadcasts of x and MR * NV
fused multiply-adds.  numba cannot express vector registers, and LLVM did not vectorise the same
block written as 256 scalars (10 GFLOP/s), so the kernel is emitted as IR through numba's
`intrinsic`: explicit <VW x float> values, the llvm.fma intrinsic, and accumulators that LLVM's
mem2reg keeps in registers.  It is compiled and cached with the loops that call it.

Measured on one core of a 2-core AMD EPYC Zen 4 (AVX-512), float32, (N, K) by (K, 4K): 94-112
GFLOP/s at N = 32, K = 128-512, as much as OpenBLAS's sgemm on both cores at those sizes; per
product, 1.1-2.8x faster than the hand-written loop (_math.add_product_rows) at N = 1-16, K = 64-512.

With AVX-512 a vector holds VW = 16 float32 (8 float64) and a block is MR = 4 rows by NV = 4
vectors: 16 accumulators, 4 panel vectors and a broadcast of the 32 registers.  Without AVX-512,
VW = 8 float32 and NV = 2, so that the block fits 16 registers; `enabled()` says whether the
loops take this product (measured on AVX-512 only; elsewhere they keep the hand-written loop).
Columns past M in the last, padded panel are kept out of acc by masked loads and stores of its
blocks (`_masked*`; masked everywhere, the blocks ran 5-15% slower at K = 100-200), and rows past
the last block of four are done by blocks of two and one.  A batch of one row takes its full panels
two at a time (`_block1x2`): 8 independent chains of multiply-adds instead of 4, which hide more of
their latency (batch-1 inference 0.46-0.54 -> 0.41-0.50 ms, LSTM T = 25, H = 200; GRU T = 100, H = 100
0.37 -> 0.34-0.36 ms; Intel Xeon, interleaved runs); a single row streams the whole matrix from L2 at
every step, so it stays bound by that bandwidth.  The sums run over k in order with one rounding per
multiply-add, as the hand-written loop's with fastmath 'contract'.

The same blocks also run on b itself, its rows M elements apart (`strided_product_rows`, masked loads for
the last columns): the backward loops' product at batch 1 where a row of b is wider than _stream.py's
one pass over b's rows takes (the same bits), since keeping the panels costs a check of W_hh's bits at
every call, which pushed the panels out of L2.  A train step at T = 100, H = 100 took
1.26-1.32 ms against 1.58-1.70 ms for the LSTM, and 1.07-1.11 against 1.13-1.15 for the GRU; at T = 25,
H = 200, 1.27-1.38 against 1.41-1.48 ms (LSTM) (Intel Xeon, 3 interleaved pairs each), with the same bits.
"""

from __future__ import annotations

import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import jit

__all__ = [
    "VECTOR_BYTES", "NV", "MR", "KC", "panel_width", "vector_intrinsics", "enabled", "packed_product_rows",
    "strided_product_rows", "packed_product_set",
]  # fmt: skip


def _host_vector_bytes() -> int:
    """64 where the processor has AVX-512F, else 32 (AVX2's registers; LLVM splits wider vectors)."""
    try:
        features = llvm.get_host_cpu_features()
        return 64 if features.get("avx512f", False) else 32
    except Exception:  # no feature list on this platform
        return 32


VECTOR_BYTES = _host_vector_bytes()
NV = 4 if VECTOR_BYTES == 64 else 2  # vectors per block row
MR = 4  # rows per block


def panel_width(itemsize: int) -> int:
    """NR: the columns of a panel for elements of `itemsize` bytes (64 float32 with AVX-512)."""
    return VECTOR_BYTES // itemsize * NV


def vector_intrinsics(builder, bits: int) -> tuple:
    """(vty, mty, fma, masked_load, masked_store) for the kernels' vector IR (here, _dot.py, _stream.py): the
    vector of VECTOR_BYTES of `bits`-bit floats, its lane mask, and llvm.fma, llvm.masked.load and
    llvm.masked.store on it, declared once in builder's module."""
    fty = ir.FloatType() if bits == 32 else ir.DoubleType()
    lanes = VECTOR_BYTES * 8 // bits
    vty, i32 = ir.VectorType(fty, lanes), ir.IntType(32)
    vptr, mty = vty.as_pointer(), ir.VectorType(ir.IntType(1), lanes)
    module, suffix = builder.module, f"v{lanes}f{bits}"
    fma = cgutils.get_or_insert_function(module, ir.FunctionType(vty, [vty, vty, vty]), f"llvm.fma.{suffix}")
    mload = cgutils.get_or_insert_function(
        module, ir.FunctionType(vty, [vptr, i32, mty, vty]), f"llvm.masked.load.{suffix}.p0"
    )
    mstore = cgutils.get_or_insert_function(
        module, ir.FunctionType(ir.VoidType(), [vty, vptr, i32, mty]), f"llvm.masked.store.{suffix}.p0"
    )
    return vty, mty, fma, mload, mstore


def enabled() -> bool:
    """Whether the compiled loops (loops=True) take this product rather than the hand-written one:
    where it was measured, processors with AVX-512."""
    return VECTOR_BYTES == 64


def _block_kernel(
    rows: int, masked: bool, panels: int = 1, strided: bool = False, prefetch: bool = False, from_zero: bool = False
):
    """An intrinsic: acc block (rows x NR) += x block (rows x k) times one packed panel (k x NR).
    masked: acc's columns from `width` on are neither read nor written (the last, padded panel).
    panels=2 (unmasked only): two neighbouring panels at once, the second b_step elements after the
    first, into acc's next NR columns; the intrinsic then takes b_step after b_at.
    strided: the "panel" is NR columns of b (K, M) itself, its rows ldb = M elements apart (the
    intrinsic takes ldb after b_step, or after b_at); masked, the columns past `width` are not read either.
    prefetch: at each k, one vector of bp from pf_at + k VW (the intrinsic takes pf_at after b_at) is
    prefetched into L2, a hint that reads nothing and changes no value (`_panel_rows` aims it at the next chunk).
    from_zero: the block's sums start at zero instead of acc's values, which are not read (packed_product_set)."""

    def typed(x, bp, acc, extra):
        if not (isinstance(acc, types.Array) and acc.dtype in (types.float32, types.float64)):
            return None
        if x.dtype != acc.dtype or bp.dtype != acc.dtype:
            return None
        ints = (types.intp,) * extra
        return types.void(
            x, types.intp, types.intp, bp, types.intp, *ints, types.intp, acc, types.intp, types.intp, types.intp
        )

    extra = (panels > 1) + strided + prefetch  # b_step, ldb or pf_at

    if extra == 0:

        @intrinsic
        def block(typingctx, x, x_at, ldx, bp, b_at, k, acc, acc_at, ldc, width):
            sig = typed(x, bp, acc, 0)
            return None if sig is None else (sig, codegen)

    elif extra == 1:

        @intrinsic
        def block(typingctx, x, x_at, ldx, bp, b_at, b_extra, k, acc, acc_at, ldc, width):
            sig = typed(x, bp, acc, 1)
            return None if sig is None else (sig, codegen)

    else:

        @intrinsic
        def block(typingctx, x, x_at, ldx, bp, b_at, b_step, ldb, k, acc, acc_at, ldc, width):
            sig = typed(x, bp, acc, 2)
            return None if sig is None else (sig, codegen)

    def codegen(context, builder, signature, args):
        xv, x_at, ldx, bpv, b_at, *ints, k, accv, acc_at, ldc, width = args
        b_step = ints[0] if panels > 1 else None
        pf_at = ints[0] if prefetch else None
        ldb = ints[-1] if strided else None
        acc_ty = signature.args[-4]
        F = acc_ty.dtype
        bits = 32 if F == types.float32 else 64
        lanes = VECTOR_BYTES * 8 // bits
        nr = lanes * NV
        vty, mty, fma, mload, mstore = vector_intrinsics(builder, bits)
        vptr = vty.as_pointer()
        align = bits // 8
        i32 = ir.IntType(32)

        def data(value, ty):
            return context.make_array(ty)(context, builder, value).data

        xp = data(xv, signature.args[0])
        bpp = data(bpv, signature.args[3])
        cp = data(accv, acc_ty)
        i64 = ldc.type

        def const(v):
            return ir.Constant(i64, v)

        def c_ptr(r, v):
            at = builder.add(acc_at, builder.add(builder.mul(const(r), ldc), const(v * lanes)))
            return builder.bitcast(builder.gep(cp, [at]), vptr)

        masks = []
        if masked:  # lane j of vector v is in the row when v VW + j < width
            i64v = ir.VectorType(i64, lanes)
            w = builder.insert_element(ir.Constant(i64v, ir.Undefined), width, ir.Constant(i32, 0))
            w = builder.shuffle_vector(w, w, ir.Constant(ir.VectorType(i32, lanes), [0] * lanes))
            for v in range(NV):
                ids = ir.Constant(i64v, [v * lanes + j for j in range(lanes)])
                masks.append(builder.icmp_signed("<", ids, w))
        zero_v = ir.Constant(vty, [0.0] * lanes)

        def load_c(r, v):
            if masked:
                return builder.call(mload, [c_ptr(r, v), ir.Constant(i32, align), masks[v], zero_v])
            value = builder.load(c_ptr(r, v))
            value.align = align
            return value

        def store_c(value, r, v):
            if masked:
                builder.call(mstore, [value, c_ptr(r, v), ir.Constant(i32, align), masks[v]])
            else:
                builder.store(value, c_ptr(r, v)).align = align

        nvt = NV * panels  # vectors per block row: vector v is vector v % NV of panel v // NV
        slots = []
        for r in range(rows):
            row = []
            for v in range(nvt):
                slot = cgutils.alloca_once(builder, vty)
                builder.store(zero_v if from_zero else load_c(r, v), slot)
                row.append(slot)
            slots.append(row)
        zero = ir.Constant(i32, 0)
        splat_mask = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)
        undef = ir.Constant(vty, ir.Undefined)
        if prefetch:
            i8p = ir.IntType(8).as_pointer()
            hint = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0"
            )
            read, into_l2, data_cache = ir.Constant(i32, 0), ir.Constant(i32, 2), ir.Constant(i32, 1)
        with cgutils.for_range(builder, k) as loop:
            kk = loop.index
            panel_row = builder.add(b_at, builder.mul(kk, ldb if strided else const(nr)))
            if prefetch:  # one line of the next chunk per k: about as many as the hardware takes in stride
                at = builder.add(pf_at, builder.mul(kk, const(lanes)))
                builder.call(hint, [builder.bitcast(builder.gep(bpp, [at]), i8p), read, into_l2, data_cache])
            bvs = []
            for v in range(nvt):
                at = builder.add(panel_row, const((v % NV) * lanes))
                if v >= NV:
                    at = builder.add(at, b_step)
                p = builder.bitcast(builder.gep(bpp, [at]), vptr)
                if strided and masked:  # b's own columns past width: the next row's, or past b's end
                    value = builder.call(mload, [p, ir.Constant(i32, align), masks[v], zero_v])
                else:
                    value = builder.load(p)
                    value.align = align
                bvs.append(value)
            for r in range(rows):
                at = builder.add(x_at, builder.add(builder.mul(const(r), ldx), kk))
                scalar = builder.load(builder.gep(xp, [at]))
                bcast = builder.shuffle_vector(builder.insert_element(undef, scalar, zero), undef, splat_mask)
                for v in range(nvt):
                    acc_v = builder.load(slots[r][v])
                    builder.store(builder.call(fma, [bcast, bvs[v], acc_v]), slots[r][v])
        for r in range(rows):
            for v in range(nvt):
                store_c(builder.load(slots[r][v]), r, v)
        return context.get_dummy_value()

    return block


_block4 = _block_kernel(4, False)
_block4_prefetch = _block_kernel(4, False, prefetch=True)
_block2 = _block_kernel(2, False)
_block1 = _block_kernel(1, False)
_block1x2 = _block_kernel(1, False, panels=2)
_masked4 = _block_kernel(4, True)
_masked2 = _block_kernel(2, True)
_masked1 = _block_kernel(1, True)
_zero4 = _block_kernel(4, False, from_zero=True)
_zero4_prefetch = _block_kernel(4, False, prefetch=True, from_zero=True)
_zero2 = _block_kernel(2, False, from_zero=True)
_zero1 = _block_kernel(1, False, from_zero=True)
_zero_masked4 = _block_kernel(4, True, from_zero=True)
_zero_masked2 = _block_kernel(2, True, from_zero=True)
_zero_masked1 = _block_kernel(1, True, from_zero=True)
_strided1x2 = _block_kernel(1, False, panels=2, strided=True)
_strided1 = _block_kernel(1, False, strided=True)
_strided_masked1 = _block_kernel(1, True, strided=True)


KC = 128  # the shared dimension in chunks of KC: a chunk of a panel (KC x NR, 32 KB) stays in L1 for every row block


@jit
def packed_product_rows(acc, acc_first, x, x_first, N, K, bp, M):
    """Rows acc_first .. acc_first + N - 1 of acc += rows x_first .. x_first + N - 1 of x, times b.

    acc and x are flat_rows pairs (_rows.py) of rows of width M and K; bp the panels of b (K, M)
    (kernels/panels.py, with NR = panel_width(itemsize)), 1-D.  Panels outer, then the shared
    dimension in chunks of KC, row blocks inner, so that each chunk of a panel is read from L1 by
    every block of MR rows: 1.03-1.18x faster than whole panels at K = 512-1024, N = 16-64, one core
    (Intel Xeon, AVX-512, 2026-12-07).  While a chunk is read, the blocks of four prefetch the next
    chunk into L2, a line per k, so that its first block does not wait on L3 when b does not fit L2
    (4 MB at K = 512, M = 2048): one core, N = 16, 114 -> 154 GFLOP/s; N = 32, 134 -> 160; N = 32,
    K = 1024, M = 4096, 132 -> 160, against 168 with b in L2 (Intel Xeon, 2026-12-07).  Two or four
    lines per k were slower (110-129 at N = 16); at N <= 8 the product stays bound by L3's 27 GB/s
    to one core.  Each block stores its sums after a chunk and loads them again for the next, so
    every sum still runs over k in order: the bits are those of whole panels.
    """
    acc_flat, ldc = acc
    x_flat, ldx = x
    NR = VECTOR_BYTES // acc_flat.itemsize * NV
    P = (M + NR - 1) // NR
    if N > 0 and bp.shape[0] < P * K * NR:  # never read past the panels (an empty bp in a wrong mode)
        raise ValueError("packed_product_rows: bp holds fewer panels than b (K, M) has")
    p0 = 0
    if N == 1:  # one row: two panels at a time, 2 NV chains of multiply-adds instead of NV (8 against 4)
        acc_at, x_at = acc_first * ldc, x_first * ldx
        while p0 + 2 <= M // NR:
            _block1x2(x_flat, x_at, ldx, bp, p0 * K * NR, K * NR, K, acc_flat, acc_at + p0 * NR, ldc, NR)
            p0 += 2
    for p in range(p0, P):
        col = p * NR
        width = M - col
        for k0 in range(0, K, KC):
            kc = min(KC, K - k0)
            b_at = p * K * NR + k0 * NR
            acc_at, x_at = acc_first * ldc + col, x_first * ldx + k0
            _panel_rows(acc_flat, acc_at, ldc, x_flat, x_at, ldx, N, bp, b_at, kc, width, NR)


@jit
def _panel_rows(acc_flat, acc_at, ldc, x_flat, x_at, ldx, N, bp, b_at, kc, width, NR, zero=False):
    """acc's N rows from acc_at (row stride ldc), columns of one panel, += x's rows from x_at (stride ldx),
    kc of their columns, times kc rows of the panel from b_at; width < NR masks the padded columns.
    zero: = instead of += (the sums start at zero; acc is not read)."""
    n = 0
    if width >= NR:
        ahead, end = b_at + kc * NR, b_at + 2 * kc * NR  # the next chunk: this panel's, or the next panel's first
        while n + 4 <= N:
            at_x, at_c = x_at + n * ldx, acc_at + n * ldc
            if ahead < end:  # blocks of four prefetch it a line per k, until all of it is asked for
                if zero:
                    _zero4_prefetch(x_flat, at_x, ldx, bp, b_at, ahead, kc, acc_flat, at_c, ldc, NR)
                else:
                    _block4_prefetch(x_flat, at_x, ldx, bp, b_at, ahead, kc, acc_flat, at_c, ldc, NR)
                ahead += kc * (NR // NV)
            elif zero:
                _zero4(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, NR)
            else:
                _block4(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, NR)
            n += 4
        at_x, at_c = x_at + n * ldx, acc_at + n * ldc
        if n + 2 <= N:
            if zero:
                _zero2(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, NR)
            else:
                _block2(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, NR)
            n += 2
            at_x, at_c = x_at + n * ldx, acc_at + n * ldc
        if n < N:
            if zero:
                _zero1(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, NR)
            else:
                _block1(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, NR)
    else:  # the last panel, padded with zeros: its columns past M are masked out of acc
        while n + 4 <= N:
            at_x, at_c = x_at + n * ldx, acc_at + n * ldc
            if zero:
                _zero_masked4(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, width)
            else:
                _masked4(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, width)
            n += 4
        at_x, at_c = x_at + n * ldx, acc_at + n * ldc
        if n + 2 <= N:
            if zero:
                _zero_masked2(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, width)
            else:
                _masked2(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, width)
            n += 2
            at_x, at_c = x_at + n * ldx, acc_at + n * ldc
        if n < N:
            if zero:
                _zero_masked1(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, width)
            else:
                _masked1(x_flat, at_x, ldx, bp, b_at, kc, acc_flat, at_c, ldc, width)


@jit
def packed_product_set(acc, acc_first, x, x_first, N, K, bp, M):
    """packed_product_rows with = instead of +=: rows acc_first .. acc_first + N - 1 of acc = rows x_first ..
    x_first + N - 1 of x, times b (K, M), from b's panels bp; acc's old values are never read.  The first
    chunk of each panel starts its sums at zero, the later ones go on from acc as packed_product_rows' do, so
    every sum runs over k in order.  K = 0 sets the rows to zero.  The input projection (_projection.py)."""
    acc_flat, ldc = acc
    x_flat, ldx = x
    NR = VECTOR_BYTES // acc_flat.itemsize * NV
    P = (M + NR - 1) // NR
    if N > 0 and bp.shape[0] < P * K * NR:  # never read past the panels
        raise ValueError("packed_product_set: bp holds fewer panels than b (K, M) has")
    if K == 0:
        for n in range(N):
            at = (acc_first + n) * ldc
            acc_flat[at : at + M] = 0
        return
    for p in range(P):
        col = p * NR
        for k0 in range(0, K, KC):
            b_at = p * K * NR + k0 * NR
            acc_at, x_at = acc_first * ldc + col, x_first * ldx + k0
            _panel_rows(acc_flat, acc_at, ldc, x_flat, x_at, ldx, N, bp, b_at, min(KC, K - k0), M - col, NR, k0 == 0)


@jit
def strided_product_rows(acc, acc_first, x, x_first, N, K, b, M):
    """packed_product_rows on b (K, M) itself, flattened to 1-D, instead of its panels: each block reads NR
    columns of b's rows, M elements apart, so nothing is packed, kept or checked.  One row at a time, the
    row blocks of a batch of one: the backward loops' product at batch 1 (_product.py's STRIDED) for rows
    wider than _stream.py takes, where a check of the kept panels' bits costs more than it saves.  Every
    sum runs over k in order as in the packed kernel, so the bits are packed_product_rows'.
    """
    acc_flat, ldc = acc
    x_flat, ldx = x
    NR = VECTOR_BYTES // acc_flat.itemsize * NV
    if N > 0 and b.shape[0] < K * M:  # never read past b
        raise ValueError("strided_product_rows: b holds fewer than K * M values")
    for n in range(N):
        acc_at, x_at = (acc_first + n) * ldc, (x_first + n) * ldx
        col = 0
        while col + 2 * NR <= M:
            _strided1x2(x_flat, x_at, ldx, b, col, NR, M, K, acc_flat, acc_at + col, ldc, NR)
            col += 2 * NR
        while col + NR <= M:
            _strided1(x_flat, x_at, ldx, b, col, M, K, acc_flat, acc_at + col, ldc, NR)
            col += NR
        if col < M:
            _strided_masked1(x_flat, x_at, ldx, b, col, M, K, acc_flat, acc_at + col, ldc, M - col)
