"""Per-run resource limits that belong to whoever runs the engine, not to the project.

An administrator (``spikestudio serve --max-run-memory-mb ... --max-run-seconds ...``) or the
CLI sets a :class:`RunLimits`; a project's ``simulation.memory_budget_mb`` can only lower the
memory cap, never raise it. The engine estimates a run's memory against
:func:`effective_memory_mb` before allocating, and stops a run that still exceeds a limit with
status ``memory_limit`` or ``time_limit`` and its partial results.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from engine.errors import SpikeStudioError

#: Result statuses of a run, in the order a user would look for them (``paused``: a
#: breakpoint stopped an ``engine.simulator.Simulation`` that can be continued).
STATUSES = ("completed", "cancelled", "memory_limit", "time_limit", "paused")


def machine_memory_mb() -> float:
    """Physical memory of this machine in MB (4096 when it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        return 4096.0


@dataclass(frozen=True)
class RunLimits:
    """Caps on one run, set by the server's administrator or the CLI user.

    Parameters
    ----------
    max_memory_mb
        Most memory one run may use (estimate before building, and the worker's OS limit).
        ``None``: no cap beyond the project's own budget.
    max_wall_s
        Most wall-clock seconds one run may take (build, simulation and result assembly).
        ``None``: no time limit.
    max_threads
        Most threads one run may use (``simulation.threads`` is lowered to it). ``None``: as
        many as the machine has.
    """

    max_memory_mb: float | None = None
    max_wall_s: float | None = None
    max_threads: int | None = None

    @classmethod
    def for_server(cls, workers: int, max_memory_mb: float | None = None,
                   max_wall_s: float | None = 300.0,
                   max_threads: int | None = 1) -> RunLimits:
        """Defaults for a shared server: half the machine's memory split among the workers,
        one thread per run (the workers already share the cores)."""
        if max_memory_mb is None:
            max_memory_mb = 0.5 * machine_memory_mb() / max(1, workers)
        return cls(max_memory_mb=float(max_memory_mb), max_wall_s=max_wall_s,
                   max_threads=max_threads)


def effective_memory_mb(project_budget_mb: float, limits: RunLimits | None) -> float:
    """The memory budget of a run: the project's, lowered to the administrator's cap."""
    if limits is None or limits.max_memory_mb is None:
        return float(project_budget_mb)
    return float(min(project_budget_mb, limits.max_memory_mb))


#: The spike record holds at most this mean rate per recorded neuron over the run (on top of
#: RECORD_MIN_SPIKES, and less when the budget has no room for it). A capped record keeps
#: memory bounded by construction: a network that fires faster than this (e.g. every neuron
#: every step) stops with status ``memory_limit`` and its partial results instead of growing
#: without bound. Balanced cortical models (1-30 Hz) stay far below; input encoders are
#: counted exactly, not at this rate.
RECORD_RATE_HZ = 100.0
#: Spikes the record always has room for (short runs, bursts at the start).
RECORD_MIN_SPIKES = 100_000


def memory_budget(project_budget_mb: float, limits: RunLimits | None) -> tuple[float, str]:
    """The effective memory budget in MB and a phrase naming the limit that set it.

    The project's ``simulation.memory_budget_mb`` can only lower the administrator's cap; a
    project asking for more than the cap is not an error, the cap wins. Without a cap, the
    machine's physical memory still bounds what a run can use.
    """
    project_mb = float(project_budget_mb)
    cap = None if limits is None else limits.max_memory_mb
    machine = machine_memory_mb()
    if cap is not None and cap < project_mb:
        return float(cap), (f"the administrator's cap of {cap:,.0f} MB per run (the project "
                            f"asks for simulation.memory_budget_mb = {project_mb:,.0f} MB)")
    if cap is None and project_mb > machine:
        return machine, (f"this machine's memory of {machine:,.0f} MB (the project asks for "
                         f"simulation.memory_budget_mb = {project_mb:,.0f} MB)")
    return project_mb, f"the memory budget of {project_mb:,.0f} MB (simulation.memory_budget_mb)"


class RunStopped(SpikeStudioError):
    """A run stopped before it had any result (cancelled or over time while building).

    ``status`` is one of :data:`STATUSES` (``cancelled`` or ``time_limit``).
    """

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


class StopCheck:
    """Whether a run must stop now: a cancel request or the wall-time limit.

    Parameters
    ----------
    cancel
        A ``threading.Event``, a callable returning True to cancel, or None.
    max_wall_s
        Wall seconds allowed from ``start`` (None: no limit).
    start
        ``time.perf_counter()`` when the run started.
    """

    def __init__(self, cancel=None, max_wall_s: float | None = None,
                 start: float | None = None):
        self.cancel = cancel
        self.max_wall_s = max_wall_s
        self.start = time.perf_counter() if start is None else start

    def status(self) -> str | None:
        """``"cancelled"``, ``"time_limit"`` or None (keep going)."""
        if self.cancel is not None:
            is_set = getattr(self.cancel, "is_set", None)
            if is_set() if is_set is not None else self.cancel():
                return "cancelled"
        if self.max_wall_s is not None and time.perf_counter() - self.start > self.max_wall_s:
            return "time_limit"
        return None

    def reason(self, status: str) -> str:
        """Why the run stopped, as the end of a sentence."""
        if status == "cancelled":
            return "cancelled"
        return (f"the run took longer than the limit of {self.max_wall_s:g} s wall time per "
                f"run (set by whoever runs the engine; --max-seconds for the CLI)")

    def message(self, status: str, phase: str) -> str:
        """A sentence for a run stopped while ``phase`` (e.g. "building the network")."""
        if status == "cancelled":
            return f"Cancelled while {phase}."
        return f"Stopped while {phase}: {self.reason(status)}."

    def check(self, phase: str) -> None:
        """Raise :class:`RunStopped` when the run must stop (used before any result exists)."""
        status = self.status()
        if status is not None:
            raise RunStopped(status, self.message(status, phase))
