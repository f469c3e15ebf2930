"""One interface for batches of independent runs: the local process pool, Dask or threads.

A batch is a picklable function applied to a list of picklable items (project documents and
plain settings, never engine objects); an :class:`Executor` runs them in worker processes and
yields ``(index, value)`` pairs as they finish, in any order. Three implementations:

* :class:`engine.executor.local.LocalPoolExecutor` (the default, nothing to install): a pool
  of worker processes on this machine; a worker that dies is replaced and its tasks rerun.
* :class:`engine.executor.dask.DaskExecutor`: ``dask.distributed``, a ``LocalCluster`` of
  worker processes or an existing scheduler (``tcp://HOST:PORT``); Dask reruns the tasks of a
  worker that dies.
* :class:`engine.executor.threads.ThreadExecutor`: threads of this process, for the page's
  batches whose runs go to the server's own run workers (live progress, Stop mid-run).

:func:`make_executor` is the one place that decides which to use. The OS caps a task runs
under are in :mod:`engine.executor.caps`.
"""

from __future__ import annotations

from engine.errors import SpikeStudioError
from engine.executor.base import Cancel, Executor, ExecutorLost, is_cancelled

__all__ = ["Cancel", "Executor", "ExecutorLost", "is_cancelled", "make_executor"]


def make_executor(*, workers: int | None = None, dask: bool = False,
                  scheduler: str | None = None, in_process: bool = False) -> Executor:
    """The executor for a batch: Dask when ``dask`` or a ``scheduler`` address is given,
    threads of this process when ``in_process``, otherwise the local process pool.

    Parameters
    ----------
    workers
        Worker processes to start (default: one per core). Ignored with ``scheduler``:
        an existing cluster brings its own workers.
    dask
        Use a Dask ``LocalCluster`` of worker processes.
    scheduler
        Address of a running Dask scheduler, ``tcp://HOST:PORT``.
    in_process
        Threads of this process (:class:`~engine.executor.threads.ThreadExecutor`): for
        tasks that hand their runs to another pool or need live progress.

    Raises
    ------
    SpikeStudioError
        When Dask is asked for but not installed, or the scheduler cannot be reached.
    """
    if workers is not None and workers < 1:
        raise SpikeStudioError(f"--workers: must be at least 1, got {workers}")
    if dask or scheduler:
        from engine.executor.dask import DaskExecutor

        return DaskExecutor(workers=workers, scheduler=scheduler)
    if in_process:
        from engine.executor.threads import ThreadExecutor

        return ThreadExecutor(workers=workers)
    from engine.executor.local import LocalPoolExecutor

    return LocalPoolExecutor(workers=workers)
