"""Tasks as threads of this process, for batches whose runs do not need a process of their own.

A batch of the page hands each simulation to the server's run workers through a ``simulate``
callable (which blocks its thread, not a core, and applies the server's limits, progress and
Stop), and a numba run releases the GIL: threads are then enough, and unlike worker processes
they can pass live progress and a Stop that reaches a running simulation. Batches get this
executor from :func:`engine.executor.make_executor` (``in_process=True``) like the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from engine.executor.base import Cancel, is_cancelled

#: Seconds between two looks at the cancel request while tasks run.
POLL_S = 0.1


class ThreadExecutor:
    """Up to ``workers`` tasks at once, each in a thread of this process.

    Parameters
    ----------
    workers
        Tasks at the same time (default: one per core).
    """

    name = "threads"
    dashboard_link = None

    def __init__(self, workers: int | None = None):
        self.workers = int(workers or os.cpu_count() or 1)

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any], *,
                      cancel: Cancel = None) -> Iterator[tuple[int, Any]]:
        """See :meth:`engine.executor.Executor.map_unordered`.

        On ``cancel`` the queued tasks are dropped; a thread cannot be stopped from outside,
        so the running ones are waited for (``fn`` should pass the same request on to its
        run, which then stops at its next chunk) and their values yielded before the
        iteration ends.
        """
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            pending: dict[Future, int] = {pool.submit(fn, item): i
                                          for i, item in enumerate(items)}
            try:
                while pending:
                    if is_cancelled(cancel):
                        pending = {f: i for f, i in pending.items() if not f.cancel()}
                    done, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield pending.pop(future), future.result()
            finally:
                for future in pending:
                    future.cancel()

    def close(self) -> None:
        """Nothing to stop: each batch's threads end with it."""

    def __enter__(self) -> ThreadExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
