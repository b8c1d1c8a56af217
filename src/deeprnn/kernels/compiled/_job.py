"""Calling a C job function given as an address, from compiled code: OpenBLAS's threads callback
hands its jobs over so (_pool.py; benchmarks/thread_pool_probe.py measures the same call)."""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic

__all__ = ["call_job"]


@intrinsic
def call_job(typingctx, fn, i, data, arg):
    """Call OpenBLAS's job function fn(int i, void *data, int arg), given as an address."""

    def codegen(context, builder, sig, args):
        import llvmlite.ir as ir

        i32, i8p = ir.IntType(32), ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i32, i8p, i32])
        fp = builder.inttoptr(args[0], fnty.as_pointer())
        builder.call(fp, [builder.trunc(args[1], i32), builder.inttoptr(args[2], i8p), builder.trunc(args[3], i32)])
        return context.get_dummy_value()

    return types.void(types.intp, types.intp, types.intp, types.intp), codegen
