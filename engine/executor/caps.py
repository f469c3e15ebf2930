"""Operating-system caps on one run inside a worker process (local pool, Dask, the server's).

A run's memory budget (the project's, lowered to the administrator's cap) becomes an address
space limit (``RLIMIT_AS``) around the run, so a run that allocates more than it estimated
fails with ``MemoryError`` inside its own worker instead of taking the machine down. The
wall-time cap is enforced by the engine itself (:class:`engine.core.limits.RunLimits`).
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Address space granted above the worker's size at the start of a run and the run's cap:
#: room for the interpreter's own transient needs (pickling the result, a numba dispatch).
SLACK_MB = 256.0


def memory_limit_message(cap_mb: float) -> str:
    """What the user reads when a run hit the memory limit of one run."""
    return (f"The run was stopped: it needed more than {cap_mb:,.0f} MB of memory, the limit "
            f"for one run (simulation.memory_budget_mb, lowered to this server's cap). Use "
            f"fewer neurons or synapses, record fewer populations or simulate less time.")


def vm_size_bytes() -> int:
    """Virtual size of this process (what RLIMIT_AS counts), 0 when unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def set_memory_limit(cap_mb: float) -> tuple[int, int] | None:
    """Cap the address space at its current size + ``cap_mb`` (+ slack); returns the old limit.

    The baseline matters: numba and LLVM reserve about 1.6 GB of address space that is never
    touched, so an absolute RLIMIT_AS would stop even tiny runs.
    """
    try:
        import resource
    except ImportError:  # not a POSIX system: the engine's own estimate still applies
        return None
    base = vm_size_bytes()
    if base == 0:
        return None
    old = resource.getrlimit(resource.RLIMIT_AS)
    soft = base + int((cap_mb + SLACK_MB) * 2**20)
    hard = old[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return old


def restore_memory_limit(old: tuple[int, int] | None) -> None:
    """Undo :func:`set_memory_limit` (``old`` is what it returned)."""
    if old is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, old)


@contextmanager
def memory_limit(cap_mb: float) -> Iterator[None]:
    """``with memory_limit(mb):`` the block runs under :func:`set_memory_limit`."""
    old = set_memory_limit(cap_mb)
    try:
        yield
    finally:
        restore_memory_limit(old)


def freeze_baseline() -> None:
    """Exempt everything a worker holds now (imports, compiled kernels) from the collector.

    Call once when a worker process is ready (after the warm-up). The collection in
    :func:`trim_heap` after every task then walks only what the tasks created: without this
    it walks the ~200,000 objects of numba, LLVM and pandas each time (0.1-0.2 s per task, on
    runs of 10 ms). Frozen objects are still freed by reference counting; only cyclic garbage
    among them would stay, and they live as long as the worker anyway.
    """
    gc.collect()
    gc.freeze()


def trim_heap() -> None:
    """Give freed memory back to the OS after a run (glibc keeps it otherwise)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
