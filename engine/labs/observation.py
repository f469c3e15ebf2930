"""What a lab step checks: the :class:`Observation` a check returns, and the registry of checks.

A check is a function ``check(project, result, **params) -> Observation``: ``project`` is the
student's validated :class:`engine.project.Project`, ``result`` the
:class:`engine.core.results.SimulationResult` on show (``None`` when the step needs no run, or when
the check runs the experiment the project describes itself), ``params`` the step's parameters
from the lab file (plain JSON values). It computes what it measures and says whether the
expected behaviour holds. Its messages name what was measured and what is missing, with a
hint, without giving the solution away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OBSERVATIONS", "CheckFunction", "FigureData", "Observation", "observation"]


@dataclass(frozen=True)
class FigureData:
    """The data of a figure the page draws under a check's outcome (plain numbers only).

    Attributes
    ----------
    kind
        Which figure: a key of the page's figure registry (``workbench.lab_figures``).
    series
        Named number sequences the figure of that kind reads (e.g. ``amplitude_mv`` and
        ``rate_hz`` of an f-I curve).
    """

    kind: str
    series: dict[str, tuple[float, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Observation:
    """The outcome of one check.

    Attributes
    ----------
    holds
        Whether the expected behaviour was observed.
    message
        Plain text: what was measured and what holds or is missing.
    measured
        The figures the check computed, by name (for the page, the CLI's JSON line and the
        class progress table).
    hint
        Plain text shown when the observation does not hold: where to look, not the answer.
    figure
        What the check measured as a figure (a curve against its theory), or None.
    """

    holds: bool
    message: str
    measured: dict[str, float] = field(default_factory=dict)
    hint: str = ""
    figure: FigureData | None = None


CheckFunction = Callable[..., Observation]

#: check name -> function. Filled by :func:`observation` when the checks' modules are imported.
OBSERVATIONS: dict[str, CheckFunction] = {}


def observation(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register ``fn`` as the check called ``name`` in lab files."""
    def register(fn: CheckFunction) -> CheckFunction:
        if name in OBSERVATIONS:
            raise ValueError(f"two lab checks are called {name!r}")
        OBSERVATIONS[name] = fn
        return fn
    return register


def describe(check: str, params: dict[str, Any]) -> str:
    """One line naming a check and its parameters (for listings and error messages)."""
    args = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()))
    return f"{check}({args})"
