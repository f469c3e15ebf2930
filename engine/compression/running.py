"""One simulation of a compression step, in this process or through an injected runner.

The workbench's server never simulates: it hands its worker pool's ``simulate`` (the same
callable :func:`engine.evaluation.scenario_fit.run_scenarios` takes) to
:func:`~engine.compression.compress` and :func:`~engine.compression.evaluate_settings`, and the
pool applies the server's limits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.core.limits import RunLimits, RunStopped, StopCheck
from engine.errors import SpikeStudioError
from engine.project import Project

#: ``simulate(project, cancel=..., progress=...)`` -> a ``SimulationResult`` (e.g.
#: ``workbench.runner.simulate``); None: :func:`engine.simulator.simulate` in this process.
Simulate = Callable[..., Any]


def run(project: Project, *, limits: RunLimits | None = None, cancel=None,
        progress: Callable[[Any], None] | None = None, simulate: Simulate | None = None):
    """Simulate ``project``: with ``limits`` in this process, or through ``simulate`` (which
    applies its own). A run refused because it was cancelled while waiting for a worker
    raises :class:`~engine.core.limits.RunStopped` (``cancelled``), as a cancelled build does."""
    if simulate is None:
        from engine.simulator import simulate as engine_simulate  # deferred: numba

        return engine_simulate(project, limits=limits, cancel=cancel, progress=progress)
    try:
        return simulate(project, cancel=cancel, progress=progress)
    except SpikeStudioError as exc:
        if StopCheck(cancel).status() == "cancelled":
            raise RunStopped("cancelled", str(exc)) from None
        raise
