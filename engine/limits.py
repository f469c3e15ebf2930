"""Per-run resource limits that belong to whoever runs the engine, not to the project.

An administrator (``spikestudio serve --max-run-memory-mb ... --max-run-seconds ...``) or the
CLI sets a :class:`RunLimits`; a project's ``simulation.memory_budget_mb`` can only lower the
memory cap, never raise it. The engine estimates a run's memory against
:func:`effective_memory_mb` before allocating, and stops a run that still exceeds a limit with
status ``memory_limit`` or ``time_limit`` and its partial results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Result statuses of a run, in the order a user would look for them.
STATUSES = ("completed", "cancelled", "memory_limit", "time_limit")


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
    """

    max_memory_mb: float | None = None
    max_wall_s: float | None = None

    @classmethod
    def for_server(cls, workers: int, max_memory_mb: float | None = None,
                   max_wall_s: float | None = 300.0) -> RunLimits:
        """Defaults for a shared server: half the machine's memory split among the workers."""
        if max_memory_mb is None:
            max_memory_mb = 0.5 * machine_memory_mb() / max(1, workers)
        return cls(max_memory_mb=float(max_memory_mb), max_wall_s=max_wall_s)


def effective_memory_mb(project_budget_mb: float, limits: RunLimits | None) -> float:
    """The memory budget of a run: the project's, lowered to the administrator's cap."""
    if limits is None or limits.max_memory_mb is None:
        return float(project_budget_mb)
    return float(min(project_budget_mb, limits.max_memory_mb))
