"""What a lab check reads from a run: one population's spikes and recorded traces.

Lab checks name a population (and a time window) in their parameters; these helpers find the
population's spikes and a monitor's trace in a :class:`engine.core.results.SimulationResult`, and
say in plain text what is missing when the run does not hold them.
"""

from __future__ import annotations

import numpy as np

from engine.core.results import SimulationResult
from engine.spike_stats import neuron_spike_times

__all__ = ["MissingData", "population_trace", "require_result", "spike_times_in"]


class MissingData(Exception):
    """The run lacks what a check needs; the message says what, as plain text."""


def require_result(result: SimulationResult | None) -> SimulationResult:
    """``result``, or :class:`MissingData` when there is no run to look at."""
    if result is None:
        raise MissingData("There is no run to check yet: run the project first.")
    return result


def spike_times_in(result: SimulationResult, population: str, neuron: int = 0,
                   start_ms: float = 0.0, stop_ms: float = np.inf) -> np.ndarray:
    """Sorted spike times of one neuron in ``[start_ms, stop_ms)``."""
    if population not in set(result.node_info["node"]):
        raise MissingData(f"The run has no population called {population!r}.")
    times = neuron_spike_times(result.spikes, population, neuron)
    return times[(times >= start_ms) & (times < stop_ms)]


def population_trace(result: SimulationResult, population: str, variable: str = "v",
                     neuron: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(time_ms, values)`` of one neuron's recorded ``variable``.

    Raises
    ------
    MissingData
        When no state monitor of the run records that variable of that neuron.
    """
    for record in result.traces.values():
        if record.population != population or variable not in record.values:
            continue
        columns = np.flatnonzero(np.asarray(record.neurons) == neuron)
        if len(columns):
            return record.time_ms, record.values[variable][:, columns[0]]
    raise MissingData(f"The run has no recording of {variable} of neuron {neuron} of "
                      f"{population!r}: add a state monitor on it recording {variable!r}.")
