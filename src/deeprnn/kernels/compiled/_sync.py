"""Two threads through one recurrence at batch 1: the hidden units in two parts, a step's h shared.

At batch 1 a forward step reads all of W_hh (640 KB for an LSTM at H = 200, float32) to compute one
row, and one core reads it from its L2 at about 95 GB/s: 6.8 us a step (Intel Xeon).  The rows of W_hh
for half of the hidden units (the rows of every gate for those units) fit in the other core's L2 as
well, so two threads can each compute half of the gates and, the cell being elementwise, half of
h_t, c_t; then each needs the other's half of h_t for the next step.  That is one barrier a step:

    part q of step s:  its gates' rows of h_{s-1} W_hh^T, its units of the cell    -> publish(sync, q, s + 1)
                       wait_for(sync, s + 1, owned): every other part has published s + 1

`sync` is a small int64 array, zeros at the start of a call (`new_sync`): a claim word and a step
count per part, each on its own cache line.  A thread of the pool claims its part (`claim`, a compare
and swap) before its first step.  The pool runs one part a thread when it has two threads free, but
nothing promises it (a nested parallel region runs its iterations one after the other): a thread that
has waited STEAL_SPINS spins for a part that no thread has claimed claims it itself and runs its
steps along with its own, so a call always ends, with the same bits.  That can only happen at the first
step, since no part gets past a step before every other part has done it.

The step counts are written with release and read with acquire order, so the h written before a
count is seen by the thread that reads the count.  Each spin runs `pause` on x86, which lets the
other hyper-thread of a core run, and after YIELD_SPINS spins it yields the core (sched_yield, POSIX):
with more threads than cores (two processes, each with a pool of two), the thread that the spinner
waits for may be waiting for that core.
"""

from __future__ import annotations

import os
import platform

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import jit

__all__ = ["PARTS", "new_sync", "claim", "publish", "wait_for", "unit_range"]

PARTS = 2  # threads through one recurrence
LINE = 8  # int64 values a cache line: each word of `sync` on its own
YIELD_SPINS = 1 << 10  # spins (about 30-100 us of pauses) after which each spin also yields the core
STEAL_SPINS = 1 << 13  # spins before a thread takes over a part that no thread has started
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")
_POSIX = os.name == "posix"


def new_sync() -> np.ndarray:
    """A call's synchronisation words, all zero: PARTS claims, then PARTS step counts, a cache line each."""
    return np.zeros(2 * PARTS * LINE, np.int64)


def _word(context, builder, array_type, array, index):
    """A pointer to element `index` of an int64 array."""
    ary = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, ary, [index])


@intrinsic
def _load_acquire(typingctx, array, index):
    def codegen(context, builder, signature, args):
        return builder.load_atomic(_word(context, builder, signature.args[0], *args), "acquire", 8)

    return types.int64(array, types.intp), codegen


@intrinsic
def _store_release(typingctx, array, index, value):
    def codegen(context, builder, signature, args):
        builder.store_atomic(args[2], _word(context, builder, signature.args[0], args[0], args[1]), "release", 8)
        return context.get_dummy_value()

    return types.void(array, types.intp, types.int64), codegen


@intrinsic
def _compare_and_swap(typingctx, array, index, expected, value):
    def codegen(context, builder, signature, args):
        where = _word(context, builder, signature.args[0], args[0], args[1])
        pair = builder.cmpxchg(where, args[2], args[3], "acq_rel", "acquire")
        return builder.extract_value(pair, 1)

    return types.boolean(array, types.intp, types.int64, types.int64), codegen


@intrinsic
def _pause(typingctx):
    def codegen(context, builder, signature, args):
        if _X86:
            fnty = ir.FunctionType(ir.VoidType(), [])
            builder.call(cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse2.pause"), [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _yield(typingctx):
    def codegen(context, builder, signature, args):
        if _POSIX:
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@jit
def claim(sync, part):
    """Claim `part` for this thread: True if no thread had (then this one runs its steps)."""
    return _compare_and_swap(sync, part * LINE, 0, 1)


@jit
def publish(sync, part, steps):
    """`part` has done `steps` steps: its h of those steps is written."""
    _store_release(sync, (PARTS + part) * LINE, steps)


@jit
def wait_for(sync, steps, owned):
    """Wait until every part not in `owned` (a bit a part) has done `steps` steps.  -1 then; or, when a part
    that no thread has claimed keeps it waiting STEAL_SPINS spins, that part, now claimed by this thread,
    which must run its steps itself (from the first: steps is 1 then)."""
    for q in range(PARTS):
        if (owned >> q) & 1:
            continue
        spins = 0
        while _load_acquire(sync, (PARTS + q) * LINE) < steps:
            if spins < YIELD_SPINS:
                _pause()
            else:  # the other part's thread may be waiting for this core (more threads than cores)
                _yield()
            spins += 1
            if spins >= STEAL_SPINS and _load_acquire(sync, q * LINE) == 0 and claim(sync, q):
                return q
    return -1


@jit
def unit_range(H, part, per_line):
    """The hidden units (j0, j1) of `part`: the first part takes H / 2 rounded to a multiple of per_line (the
    values of a cache line), so that the parts write no cache line in common where the rows start on one."""
    half = min(H, max(per_line, (H + per_line) // (2 * per_line) * per_line))
    return (0, half) if part == 0 else (half, H)
