"""Runs simulations off the server's event loop, shared by every browser session.

A small thread pool (one worker per core) executes runs; the numba kernel releases the GIL, so
the Tornado loop keeps serving every session while a run computes. Each run gets a
:class:`RunHandle` whose fields the session polls from its own event loop (a periodic
callback), so no UI object is ever touched from a worker thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.errors import SimulationError, SpikeStudioError

if TYPE_CHECKING:  # the simulator (numba) is imported by the first run or the warm-up
    from engine.project import Project
    from engine.results import SimulationResult
    from engine.simulator import Progress

log = logging.getLogger(__name__)

_POOL = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1),
                           thread_name_prefix="spikestudio-run")
_warm_lock = threading.Lock()
_warm_started = False


def warm_up_in_background() -> None:
    """Load the cached numba kernels once per server process, so the first Run is fast.

    Called once the first page has been drawn: loading kernels holds the GIL for about half a
    second, which would otherwise delay the first page of a freshly started server.
    """
    global _warm_started
    with _warm_lock:
        if _warm_started:
            return
        _warm_started = True
    _POOL.submit(_warm_kernels)


def _warm_kernels() -> None:
    try:
        from engine.warmup import warm_up

        log.info("numba kernels ready in %.2f s", warm_up())
    except Exception:  # noqa: BLE001 - warming is an optimisation; runs still work without it
        log.warning("could not warm the numba kernels:\n%s", traceback.format_exc())


@dataclass
class RunHandle:
    """State of one submitted run, written by the worker and read by the session."""

    duration_ms: float
    cancel: threading.Event = field(default_factory=threading.Event)
    state: str = "queued"           # queued -> running -> done
    progress: Progress | None = None
    result: SimulationResult | None = None
    error: str | None = None
    submitted: float = field(default_factory=time.monotonic)
    future: Future | None = None

    @property
    def done(self) -> bool:
        return self.state == "done"

    def stop(self) -> None:
        """Ask the run to stop at its next chunk boundary (well under a second)."""
        self.cancel.set()


def submit(project: Project) -> RunHandle:
    """Queue a simulation of ``project``; returns immediately."""
    handle = RunHandle(duration_ms=project.simulation.duration_ms)
    handle.future = _POOL.submit(_run, project, handle)
    return handle


def _run(project: Project, handle: RunHandle) -> None:
    from engine.simulator import simulate

    handle.state = "running"
    try:
        if handle.cancel.is_set():
            handle.error = "Run cancelled before it started."
            return

        def progress(p: Progress) -> None:
            handle.progress = p

        handle.result = simulate(project, progress=progress, cancel=handle.cancel)
    except SimulationError as exc:
        handle.error = str(exc)
        handle.result = getattr(exc, "partial_result", None)
    except SpikeStudioError as exc:
        handle.error = str(exc)
    except MemoryError:
        handle.error = ("The run ran out of memory. Lower simulation.memory_budget_mb, use "
                        "fewer neurons or record less.")
    except Exception as exc:  # noqa: BLE001 - the user sees a message, the log the traceback
        log.error("simulation failed:\n%s", traceback.format_exc())
        handle.error = f"Internal error while simulating ({type(exc).__name__}: {exc}). " \
                       f"The server log has the details."
    finally:
        handle.state = "done"
