"""The default executor: a pool of worker processes on this machine (nothing to install)."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from engine.executor.base import Cancel, ExecutorLost, is_cancelled

#: Seconds between two looks at the cancel request while tasks run.
POLL_S = 0.1
#: How often a pool whose worker died is replaced in one batch before giving up.
MAX_RESTARTS = 3
#: Scheduling priority of the workers: below an interactive server's, like its own workers.
NICENESS = 5


def _init_worker() -> None:
    """Lower the worker's priority (a page served from this machine stays responsive), load
    the numba kernels once, so the first task's time is its own, and freeze what is loaded
    (:func:`engine.executor.caps.freeze_baseline`)."""
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    # Ctrl-C in a terminal reaches the whole process group: stopping is the parent's
    # decision (it drops the queued tasks), not each worker's.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from engine.core.warmup import warm_up
    from engine.executor.caps import freeze_baseline

    warm_up(several_threads=False)  # a sweep runs each task on one thread
    freeze_baseline()


class LocalPoolExecutor:
    """Worker processes started with ``spawn`` (safe from a threaded server process).

    A worker that dies (killed, out of memory) breaks the whole standard-library pool: the
    pool is then replaced and the tasks that had not returned are submitted again, at most
    :data:`MAX_RESTARTS` times per batch.

    Parameters
    ----------
    workers
        Number of worker processes (default: one per core).
    """

    name = "local"
    dashboard_link = None

    def __init__(self, workers: int | None = None):
        self.workers = int(workers or os.cpu_count() or 1)
        self._context = multiprocessing.get_context("spawn")
        self._pool: ProcessPoolExecutor | None = None

    def _fresh_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = ProcessPoolExecutor(self.workers, mp_context=self._context,
                                         initializer=_init_worker)
        return self._pool

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (for tests and diagnostics)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any], *,
                      cancel: Cancel = None) -> Iterator[tuple[int, Any]]:
        """See :meth:`engine.executor.Executor.map_unordered`."""
        pool = self._pool or self._fresh_pool()
        pending: dict[Future, int] = {pool.submit(fn, item): i for i, item in enumerate(items)}
        restarts = 0
        try:
            while pending:
                if is_cancelled(cancel):
                    return
                done, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    try:
                        value = future.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    yield pending.pop(future), value
                if broken:
                    restarts += 1
                    if restarts > MAX_RESTARTS:
                        raise ExecutorLost(f"the local worker pool died {restarts} times in "
                                           f"one batch (a task may exhaust the machine); "
                                           f"{len(pending)} tasks did not run")
                    left = sorted(pending.values())
                    pool = self._fresh_pool()
                    pending = {pool.submit(fn, items[i]): i for i in left}
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalPoolExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
