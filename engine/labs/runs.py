"""How a check runs the experiment a project describes (an f-I curve, a compression).

Checks call :func:`run_project` (or pass :func:`simulator` on) instead of the simulator
itself, so that whoever evaluates them decides where the runs happen: in this process by
default (``spikestudio lab check``), through the server's worker pool and its limits on the
page (:func:`simulating_with`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["run_project", "simulating_with", "simulator"]

#: ``simulate(project, cancel=..., progress=...)`` -> SimulationResult, or None: in-process.
_SIMULATE: ContextVar[Callable[..., Any] | None] = ContextVar("lab_simulate", default=None)


def simulator() -> Callable[..., Any]:
    """The ``simulate(project, ...)`` checks use now."""
    chosen = _SIMULATE.get()
    if chosen is not None:
        return chosen
    from engine.simulator import simulate  # deferred: numba
    return simulate


def run_project(project: Any) -> Any:
    """Run ``project`` with :func:`simulator` and return its result."""
    return simulator()(project)


@contextmanager
def simulating_with(simulate: Callable[..., Any]) -> Iterator[None]:
    """Within the block (in this thread or task), checks run projects with ``simulate``."""
    token = _SIMULATE.set(simulate)
    try:
        yield
    finally:
        _SIMULATE.reset(token)
