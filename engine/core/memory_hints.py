"""A hint to the CPU for the kernel's scattered reads: fetch an array element into the cache.

The post-spike pass of a plasticity rule walks a post neuron's incoming synapses through the
CSC index, so each weight it updates lies somewhere else in megabytes of weights (synapses
are stored by pre neuron). Those reads wait on memory one after the other unless the CPU is
told early which lines will be needed: :func:`prefetch` is LLVM's ``llvm.prefetch`` (a read,
kept in every cache level), which never faults, changes no value and costs one instruction.
Measured on a replay of CUBA's STDP work (N = 40000, 1 s, bench/RESULTS.md): 8 synapses ahead
cut the plastic passes from 0.68-0.89 s to 0.58-0.60 s.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, array, index):
    """Ask the CPU to load ``array[index]`` into its caches (no bounds check: a prefetch of
    any address is harmless, but callers pass valid indices)."""
    if not isinstance(array, types.Array) or array.ndim != 1 or \
            not isinstance(index, types.Integer):
        return None
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        arr = context.make_array(array_type)(context, builder, args[0])
        position = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, array_type, arr, [position],
                                       wraparound=False)
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]))
        # (address, 0 = read, 3 = keep in all cache levels, 1 = data cache)
        builder.call(fn, [builder.bitcast(ptr, byte_ptr), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
