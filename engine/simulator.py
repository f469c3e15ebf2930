"""Run a project: the simulator's public face.

:func:`simulate` builds a project and runs it to the end within the administrator's limits;
:class:`Simulation` is a run that can be paused, stepped, continued and extended. The
simulator core behind them (build, kernel, stepping, breakpoints, result assembly) is
described in docs/architecture.md.
"""

from __future__ import annotations

import time

from engine.core.assembly import salvaged_result, unbuilt_result
from engine.core.breakpoints import Breakpoint, BreakpointHit
from engine.core.limits import RunLimits, RunStopped, StopCheck, memory_budget
from engine.core.progress import Progress
from engine.core.results import SimulationResult
from engine.core.simulation import Simulation
from engine.core.stepping import CancelCheck, ProgressCallback
from engine.errors import MemoryBudgetError
from engine.project import Project


def simulate(project: Project, *, limits: RunLimits | None = None,
             duration_ms: float | None = None, progress: ProgressCallback | None = None,
             cancel: CancelCheck = None, chunk_wall_s: float = 0.1,
             writing: bool = False) -> SimulationResult:
    """Build and run a project within the administrator's limits.

    Parameters
    ----------
    project
        A validated project.
    limits
        Caps on memory and wall time per run. The memory budget is the project's
        ``simulation.memory_budget_mb`` lowered to ``limits.max_memory_mb`` (a project cannot
        raise it); the run's wall time (build, simulation, results) is capped at
        ``limits.max_wall_s``. None: the project's budget, bounded by this machine's memory.
    duration_ms
        Overrides ``project.simulation.duration_ms``.
    progress
        Called between chunks with a :class:`Progress`.
    cancel
        A ``threading.Event`` or a callable; when it is set / returns True the run stops
        promptly in any phase and the run returns what was done so far (status
        ``cancelled``): nothing when it was still building (``duration_ms`` 0).
    chunk_wall_s
        Target wall time of one kernel call.
    writing
        The caller will write the spikes to files: count that in the memory estimate (CLI).

    Returns
    -------
    SimulationResult
        ``status`` is one of :data:`engine.core.limits.STATUSES`: ``memory_limit`` and
        ``time_limit`` runs hold their partial results and a message naming what to change.

    Raises
    ------
    MemoryBudgetError
        Before building, when the network would not fit the memory budget.
    SimulationError
        When a state variable became NaN or infinite (``partial_result`` holds the run so far).
    """
    if duration_ms is not None:
        project.simulation.duration_ms = float(duration_ms)
    t0 = time.perf_counter()
    stop = StopCheck(cancel, None if limits is None else limits.max_wall_s, t0)
    try:
        simulation = Simulation(project, limits=limits, stop=stop, writing=writing)
        compiled = simulation.net
    except RunStopped as exc:
        return unbuilt_result(project, exc.status, str(exc), time.perf_counter() - t0)
    except MemoryError:
        _, source = memory_budget(project.simulation.memory_budget_mb, limits)
        raise MemoryBudgetError(
            f"This machine could not allocate the memory to build the network (the budget "
            f"is {source}). Try fewer neurons or synapses, or a lower "
            f"simulation.memory_budget_mb.") from None
    build_time = time.perf_counter() - t0
    result = simulation.run(progress=progress, cancel=cancel, chunk_wall_s=chunk_wall_s,
                            build_time_s=build_time, stop=stop)
    if compiled.memory.budget_mb < project.simulation.memory_budget_mb:
        result.messages.append(f"Memory budget: {compiled.memory.budget_source}.")
    return result




__all__ = ["Breakpoint", "BreakpointHit", "CancelCheck", "Progress", "ProgressCallback",
           "RunStopped", "Simulation", "SimulationResult", "salvaged_result", "simulate",
           "unbuilt_result"]
