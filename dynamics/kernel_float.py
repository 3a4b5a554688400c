"""Subnormal floats flushed to zero inside the compiled kernels (numba), x86 only.

On Intel CPUs an operation on a subnormal float (below 1.2e-38 in float32, 2.2e-308 in float64)
takes a microcode assist, about a hundred times a normal one (an Adam pass over float32 moments:
1.8 ns per entry normal, 180 ns subnormal, on this project's 2-core Xeon). Long runs make them: a
moment whose gradient stays 0 (a filter silent on a sample, sigma'(z) = 0 for z < 0) decays by
beta2 per step and is subnormal in float32 after about 6 10^4 steps. The kernels therefore set the
thread's MXCSR flush-to-zero and denormals-are-zero bits for the span of steps of each member and
restore the previous value after it, so nothing outside them changes: a subnormal result is 0 and
a subnormal input is read as 0, a change below the smallest normal float (the reference
implementations keep IEEE subnormals; the equivalence tests never reach them). On other
architectures both calls do nothing.
"""

from __future__ import annotations

import platform

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

#: MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
FLUSH_TO_ZERO = 0x8040
#: Whether this machine has the MXCSR register (x86-64).
X86 = platform.machine().lower() in ("x86_64", "amd64")


@intrinsic
def _read_control(typingctx):
    """MXCSR (0 where there is none)."""

    def codegen(context, builder, signature, args):
        word = ir.IntType(32)
        if not X86:
            return ir.Constant(word, 0)
        slot = builder.alloca(word)
        pointer = ir.IntType(8).as_pointer()
        store = builder.module.declare_intrinsic(
            "llvm.x86.sse.stmxcsr", fnty=ir.FunctionType(ir.VoidType(), [pointer])
        )
        builder.call(store, [builder.bitcast(slot, pointer)])
        return builder.load(slot)

    return types.uint32(), codegen


@intrinsic
def _write_control(typingctx, value):
    """Set MXCSR to ``value`` (nothing where there is none)."""

    def codegen(context, builder, signature, args):
        if X86:
            slot = builder.alloca(ir.IntType(32))
            builder.store(args[0], slot)
            pointer = ir.IntType(8).as_pointer()
            load = builder.module.declare_intrinsic(
                "llvm.x86.sse.ldmxcsr", fnty=ir.FunctionType(ir.VoidType(), [pointer])
            )
            builder.call(load, [builder.bitcast(slot, pointer)])
        return context.get_dummy_value()

    return types.none(types.uint32), codegen


@numba.njit(cache=True, nogil=True, inline="always")
def flush_subnormals():
    """Set flush-to-zero and denormals-are-zero on this thread; returns the previous control word
    for :func:`restore_control`."""
    previous = _read_control()
    _write_control(previous | numba.uint32(FLUSH_TO_ZERO))
    return previous


@numba.njit(cache=True, nogil=True, inline="always")
def restore_control(previous):
    """Put back the control word :func:`flush_subnormals` returned."""
    _write_control(previous)
