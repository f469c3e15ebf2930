"""Batches on ``dask.distributed``: a ``LocalCluster`` of worker processes, or a running
scheduler (``dask scheduler`` + ``dask worker`` by hand, dask-jobqueue on SLURM, Kubernetes).

Dask reruns the tasks of a worker that dies on the other workers. A scheduler that goes away
ends the batch with :class:`~engine.executor.ExecutorLost`; what finished before was yielded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from typing import Any

from engine.errors import SpikeStudioError
from engine.executor.base import Cancel, ExecutorLost, is_cancelled

#: Seconds between two looks at the cancel request while tasks run.
POLL_S = 0.1
#: Seconds to wait for a scheduler given by address before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10.0


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise SpikeStudioError("Dask is not installed: pip install 'spikestudio[sweep]' "
                               "(dask[distributed]) or run without --dask/--scheduler") from exc
    return distributed


def _warm_up_plugin_class():
    distributed = _import_distributed()

    class WarmUp(distributed.WorkerPlugin):
        """Load the numba kernels when a worker starts, so the first task's time is its own,
        and freeze what is loaded (:func:`engine.executor.caps.freeze_baseline`)."""

        name = "spikestudio-warm-up"

        def setup(self, worker: object) -> None:
            from engine.core.warmup import warm_up
            from engine.executor.caps import freeze_baseline

            warm_up(several_threads=False)  # a sweep runs each task on one thread
            freeze_baseline()

    return WarmUp


class DaskExecutor:
    """Tasks as Dask futures, one thread per worker process (a run is single-threaded and
    its OS memory cap applies to the whole worker process).

    Parameters
    ----------
    workers
        Worker processes of the ``LocalCluster`` (default: one per core). Ignored with
        ``scheduler``.
    scheduler
        ``tcp://HOST:PORT`` of a running scheduler; None starts a ``LocalCluster`` on
        127.0.0.1 that :meth:`close` stops.
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        distributed = _import_distributed()
        self._cluster = None
        try:
            if scheduler:
                self.client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S,
                                                 set_as_default=False)
            else:
                self._cluster = distributed.LocalCluster(
                    n_workers=int(workers or os.cpu_count() or 1), threads_per_worker=1,
                    processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0")
                self.client = distributed.Client(self._cluster, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise SpikeStudioError(f"--scheduler: cannot reach the Dask scheduler at "
                                   f"{scheduler} ({exc})") from exc
        # Load the numba kernels on every worker, also those that join or restart later.
        self.client.register_plugin(_warm_up_plugin_class()())
        info = self.client.scheduler_info()
        self.workers = len(info.get("workers", {}))
        try:
            self.dashboard_link: str | None = self.client.dashboard_link
        except Exception:  # noqa: BLE001 - no dashboard (bokeh missing): no link to show
            self.dashboard_link = None

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any], *,
                      cancel: Cancel = None) -> Iterator[tuple[int, Any]]:
        """See :meth:`engine.executor.Executor.map_unordered`."""
        distributed = _import_distributed()
        # pure=False: two equal items (the same point twice) are still two tasks.
        futures = self.client.map(fn, list(items), pure=False)
        pending = {future: i for i, future in enumerate(futures)}
        try:
            while pending:
                if is_cancelled(cancel):
                    return
                try:
                    with self.client.as_current():
                        done = distributed.wait(list(pending), timeout=POLL_S,
                                                return_when="FIRST_COMPLETED").done
                except TimeoutError:
                    done = set()
                except CancelledError as exc:  # Dask cancels every future when it loses
                    raise self._lost(len(pending)) from exc  # the scheduler
                if not done and self.client.status not in ("running", "connecting"):
                    raise self._lost(len(pending))
                for future in done:
                    if future.status == "finished":
                        try:
                            value = future.result()
                        except CancelledError as exc:  # lost between its end and our read
                            raise self._lost(len(pending)) from exc
                        yield pending.pop(future), value
                    elif future.status == "error":
                        exc = future.exception()
                        if isinstance(exc, distributed.KilledWorker):
                            raise ExecutorLost(f"a task was running each time its worker "
                                               f"died; Dask gave up on it ({exc})") from exc
                        future.result()  # fn's own exception: the batch's error
                    else:  # cancelled or lost: the scheduler went away
                        raise self._lost(len(pending))
        finally:
            if pending:
                try:
                    self.client.cancel(list(pending))
                except Exception:  # noqa: BLE001 - the scheduler is gone: nothing to cancel
                    pass

    def _lost(self, left: int) -> ExecutorLost:
        return ExecutorLost(f"the Dask scheduler {self.client.scheduler.address} went away "
                            f"(client {self.client.status}); {left} tasks did not finish")

    def close(self) -> None:
        """Disconnect; stop the ``LocalCluster`` when this executor started it."""
        try:
            self.client.close(timeout=5)
        except Exception:  # noqa: BLE001 - closing after the scheduler died
            pass
        if self._cluster is not None:
            self._cluster.close(timeout=10)
            self._cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
