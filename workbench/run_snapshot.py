"""What is kept of a run to compare it with a later one (pure data, no Panel).

A pinned run outlives the results the session shows, so it keeps only what the comparison
draws: the spikes, the populations, the run's statistics, its stamp and its project document.
Traces, weight snapshots and operation counts are dropped, so a pinned run is at most one
result's spike record (bounded by the per-run memory limit of the server), usually much less
than the result it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from engine.analysis.run_comparison import run_statistics
from engine.core.results import SimulationResult
from engine.encoders import CURRENT_ENCODERS
from widgets.plot_format import recorded_populations
from workbench.result_stamp import ResultStamp


def result_populations(result: SimulationResult, record_spikes: str | tuple[str, ...]
                       ) -> tuple[dict[str, int], dict[str, int]]:
    """The populations a result has spikes for.

    Returns
    -------
    raster : dict
        Node id -> size of the nodes that emit spikes and were recorded: the raster's rows.
    spiking : dict
        Node id -> size of every node that emits spikes (current inputs never do), recorded
        or not: the rows of the statistics.
    """
    info = result.node_info
    currents = set(info.loc[info["model"].isin(list(CURRENT_ENCODERS)), "node"])
    spiking = {node: size for node, size in result.sizes.items() if node not in currents}
    recorded = recorded_populations(record_spikes, spiking)
    return {n: s for n, s in spiking.items() if n in recorded}, spiking


@dataclass(frozen=True)
class RunSnapshot:
    """One run as the comparison shows it.

    Attributes
    ----------
    stamp
        Whose run it is (run number, project, revision).
    document
        The project document that was run (differences are computed from it).
    spikes
        The run's spikes DataFrame (shared with the result, never copied).
    raster_sizes
        Recorded spiking populations -> size (raster rows and rate curves).
    statistics
        :func:`engine.analysis.run_comparison.run_statistics` of every spiking population.
    duration_ms, status
        Simulated time and the run's status (``completed``, ``cancelled``, ...).
    """

    stamp: ResultStamp
    document: dict
    spikes: pd.DataFrame
    raster_sizes: dict[str, int]
    statistics: pd.DataFrame
    duration_ms: float
    status: str

    @property
    def nbytes(self) -> int:
        """Memory the snapshot holds (its spikes; the statistics are a few rows)."""
        return int(self.spikes.memory_usage(index=True, deep=False).sum())

    @property
    def header(self) -> str:
        """``Run 2 of CUBA, 1000 ms, at 15:42`` (plain text)."""
        return self.stamp.header(self.duration_ms, self.status)


def snapshot(result: SimulationResult, stamp: ResultStamp, document: dict) -> RunSnapshot:
    """Keep what the comparison needs of ``result`` (see the module docstring)."""
    raster, spiking = result_populations(result, stamp.record_spikes)
    stats = run_statistics(result.spikes, spiking, result.duration_ms, recorded=raster)
    return RunSnapshot(stamp, document, result.spikes, raster, stats,
                       float(result.duration_ms), str(result.status))
