"""One interface for batches of independent runs: the local process pool or Dask.

A batch is a picklable function applied to a list of picklable items (project documents and
plain settings, never engine objects); an :class:`Executor` runs them in worker processes and
yields ``(index, value)`` pairs as they finish, in any order. Two implementations:

* :class:`engine.executor.local.LocalPoolExecutor` (the default, nothing to install): a pool
  of worker processes on this machine; a worker that dies is replaced and its tasks rerun.
* :class:`engine.executor.dask.DaskExecutor`: ``dask.distributed``, a ``LocalCluster`` of
  worker processes or an existing scheduler (``tcp://HOST:PORT``); Dask reruns the tasks of a
  worker that dies.

:func:`make_executor` is the one place that decides which to use. The OS caps a task runs
under are in :mod:`engine.executor.caps`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from engine.errors import SpikeStudioError

#: A cancel request: an Event or a callable returning True once the batch should stop.
Cancel = threading.Event | Callable[[], bool] | None


class ExecutorLost(SpikeStudioError):
    """The executor can no longer run tasks (the Dask scheduler went away, the local pool
    kept dying); the results yielded before it stay valid."""


class Executor(Protocol):
    """What a batch needs from a pool of workers.

    Attributes
    ----------
    name
        ``local`` or ``dask``.
    workers
        Number of worker processes (at the start of the batch).
    dashboard_link
        Address of a web page showing the workers (Dask's dashboard), or None.
    """

    name: str
    workers: int
    dashboard_link: str | None

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any], *,
                      cancel: Cancel = None) -> Iterator[tuple[int, Any]]:
        """Run ``fn(item)`` for every item in worker processes.

        Yields ``(index into items, fn's return value)`` as tasks finish. When ``cancel`` is
        set the queued tasks are dropped and the iteration ends (finished values were
        yielded already); closing the iterator early does the same. ``fn`` should catch its
        own errors and return them as values: an exception raised by ``fn`` ends the batch.

        Raises
        ------
        ExecutorLost
            When the workers can no longer be reached.
        """
        ...

    def close(self) -> None:
        """Stop the workers this executor started (an external cluster is left running)."""
        ...


def is_cancelled(cancel: Cancel) -> bool:
    """Whether a :data:`Cancel` request is set."""
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def make_executor(*, workers: int | None = None, dask: bool = False,
                  scheduler: str | None = None) -> Executor:
    """The executor for a batch: Dask when ``dask`` or a ``scheduler`` address is given,
    otherwise the local process pool.

    Parameters
    ----------
    workers
        Worker processes to start (default: one per core). Ignored with ``scheduler``:
        an existing cluster brings its own workers.
    dask
        Use a Dask ``LocalCluster`` of worker processes.
    scheduler
        Address of a running Dask scheduler, ``tcp://HOST:PORT``.

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
    from engine.executor.local import LocalPoolExecutor

    return LocalPoolExecutor(workers=workers)
