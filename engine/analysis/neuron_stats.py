"""Statistics of one neuron's activity: ISI histogram, spike-triggered average, rankings.

Pure functions over spike times, traces and the spikes DataFrame; the per-neuron statistics
themselves (rate, first spike, CV, burstiness) are
:func:`engine.spike_stats.neuron_statistics`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.results import SimulationResult, TraceRecord
from engine.errors import SpikeStudioError
from engine.spike_stats import neuron_statistics

__all__ = ["RANKINGS", "input_current", "isi_histogram", "rank_neurons",
           "spike_triggered_average"]

#: Ranking key -> (column of :func:`engine.spike_stats.neuron_statistics`, ascending,
#: label).
RANKINGS: dict[str, tuple[str, bool, str]] = {
    "first_spike": ("first_spike_ms", True, "first spike (ms)"),
    "rate": ("rate_hz", False, "rate (Hz)"),
    "cv": ("cv_isi", False, "CV of ISI"),
    "burstiness": ("burstiness", False, "burstiness"),
}

#: Spikes averaged at once by :func:`spike_triggered_average` (bounds its temporary).
_STA_BLOCK = 4096


def isi_histogram(times: np.ndarray, bins: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the inter-spike intervals of one neuron's spike times.

    Parameters
    ----------
    times
        Spike times (ms), in any order.
    bins
        Number of equal bins from 0 to the longest interval (0 is included so a refractory
        gap shows as empty bins).

    Returns
    -------
    counts : numpy.ndarray
        int64 intervals per bin (all zero with fewer than two spikes).
    edges : numpy.ndarray
        float64 bin edges (ms), ``bins + 1`` of them (0 to 1 ms without intervals).
    """
    if int(bins) < 1:
        raise SpikeStudioError(f"bins: must be at least 1, got {bins!r}")
    intervals = np.diff(np.sort(np.asarray(times, dtype=np.float64)))
    top = float(intervals.max()) if len(intervals) else 0.0
    counts, edges = np.histogram(intervals, bins=int(bins), range=(0.0, top if top > 0 else 1.0))
    return counts.astype(np.int64), edges


def spike_triggered_average(trace: np.ndarray, spike_times: np.ndarray, window_ms: float,
                            dt_ms: float, t0_ms: float = 0.0
                            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean of a trace over the window before each spike.

    Parameters
    ----------
    trace
        Samples at ``t0_ms + i * dt_ms``.
    spike_times
        Spike times (ms); a spike at ``t`` is at sample ``round((t - t0_ms) / dt_ms)``.
    window_ms
        How far back to look; rounded to whole samples ``w``.
    dt_ms
        Sampling interval of ``trace``.
    t0_ms
        Time of the first sample.

    Returns
    -------
    lags_ms : numpy.ndarray
        ``-w * dt_ms .. 0``; lag 0 is the sample of the spike's own step.
    mean : numpy.ndarray
        The average of the ``w + 1`` samples before and at each spike (NaN when no spike
        qualifies).
    n : int
        Spikes averaged: those whose whole window lies inside the trace.
    """
    if not dt_ms > 0:
        raise SpikeStudioError(f"dt_ms: must be > 0, got {dt_ms!r}")
    if not window_ms >= 0:
        raise SpikeStudioError(f"window_ms: must be >= 0, got {window_ms!r}")
    trace = np.asarray(trace, dtype=np.float64)
    w = int(round(window_ms / dt_ms))
    lags = np.arange(-w, 1)
    k = np.rint((np.asarray(spike_times, dtype=np.float64) - t0_ms) / dt_ms).astype(np.int64)
    k = k[(k - w >= 0) & (k < len(trace))]
    total = np.zeros(w + 1)
    for lo in range(0, len(k), _STA_BLOCK):
        total += trace[k[lo:lo + _STA_BLOCK, None] + lags[None, :]].sum(axis=0)
    mean = total / len(k) if len(k) else np.full(w + 1, np.nan)
    return lags * dt_ms, mean, int(len(k))


def input_current(traces: TraceRecord, column: int = 0) -> np.ndarray | None:
    """The net synaptic input of one recorded neuron: ``i_exc + i_inh`` (what it has).

    Inhibitory currents are negative, so the sum is the net drive. None when neither was
    recorded.
    """
    parts = [traces.values[v][:, column] for v in ("i_exc", "i_inh") if v in traces.values]
    if not parts:
        return None
    return np.sum(parts, axis=0)


def rank_neurons(result: SimulationResult, population: str, by: str = "first_spike",
                 top: int | None = None) -> pd.DataFrame:
    """The neurons of a population, best first by one statistic.

    Parameters
    ----------
    result
        A run's result (its recorded spikes).
    population
        Node id.
    by
        ``first_spike`` (earliest first), ``rate`` (highest first), ``cv`` (most irregular
        first) or ``burstiness`` (most bursty first; defined in
        :func:`engine.spike_stats.neuron_statistics`).
    top
        Keep only this many (None: all).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`engine.spike_stats.neuron_statistics` for the population, with
        ``value`` (the ranked statistic), ordered; ties keep the lower index first. Neurons
        without a value (never fired, or fewer than two intervals for CV and burstiness)
        are left out.
    """
    if by not in RANKINGS:
        raise SpikeStudioError(f"by: rank by one of {', '.join(RANKINGS)}, got {by!r}")
    sizes = result.sizes
    if population not in sizes:
        raise SpikeStudioError(f"population: no population or encoder {population!r} in "
                               f"this result")
    if top is not None and int(top) < 0:
        raise SpikeStudioError(f"top: must be >= 0, got {top!r}")
    column, ascending, _ = RANKINGS[by]
    stats = neuron_statistics(result.spikes, {population: sizes[population]},
                              result.duration_ms)
    stats = stats[np.isfinite(stats[column].to_numpy(np.float64))]
    stats = stats.assign(value=stats[column]).sort_values(
        "value", ascending=ascending, kind="stable", ignore_index=True)
    return stats if top is None else stats.head(int(top))
