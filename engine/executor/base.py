"""The interface of an executor (see :mod:`engine.executor`) and its cancel request."""

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
