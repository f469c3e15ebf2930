"""Exceptions with messages meant for users (shown in the CLI and as UI notifications)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is (a field path) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpikeStudioError(Exception):
    """Base class of every error the engine raises on purpose."""


class ProjectError(SpikeStudioError):
    """A project file or network description is invalid.

    ``problems`` lists every problem found, each with its field path, e.g.
    ``network.nodes[2].params.tau_m: must be > 0 ms, got -5 ms``.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid project")


class MemoryBudgetError(SpikeStudioError):
    """The network or its recordings would need more memory than the budget allows."""


class SimulationError(SpikeStudioError):
    """The simulation stopped because the state became invalid (NaN or infinite)."""
