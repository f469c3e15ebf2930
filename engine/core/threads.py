"""How many threads a run's kernel uses (``simulation.threads``, lowered by the caps).

The kernel of several threads cuts each step's neuron updates (all populations together) into
one range of neurons per thread (:func:`engine.core.kernels.thread_parts`); numba's thread
count is per calling thread, so it is set around each run's kernel calls and given back after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba


def usable_threads(requested: int, cap: int | None = None) -> int:
    """``requested`` threads, at most ``cap`` and at most the cores numba may use (>= 1)."""
    n = min(int(requested), numba.config.NUMBA_NUM_THREADS)
    if cap is not None:
        n = min(n, int(cap))
    return max(1, n)


@contextmanager
def kernel_threads(n: int) -> Iterator[None]:
    """numba's thread count of this thread is ``n`` inside the block."""
    if n <= 1:  # the kernel then makes no parallel call: leave numba's setting alone
        yield
        return
    old = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(old)
