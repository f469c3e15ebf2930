"""Two runs side by side: per-population statistics of each and their differences.

:func:`run_statistics` gives one run's table (the columns of
:func:`engine.spike_stats.population_summary` plus synchrony and whether the population's
spikes were recorded); :func:`comparison_table` puts a pinned run's and the current run's tables
next
to each other with ``current - pinned`` for every statistic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from engine.spike_stats import population_summary, population_synchrony

#: Bin width of the synchrony measure in the comparison (ms).
SYNCHRONY_BIN_MS = 5.0
#: The statistics compared, in column order.
METRICS = ("spikes", "mean_rate_hz", "cv_isi", "synchrony")
#: Which run each column of a metric belongs to.
SIDES = ("pinned", "current", "change")

__all__ = ["METRICS", "SIDES", "SYNCHRONY_BIN_MS", "common_bin_ms", "comparison_table",
           "run_statistics"]


def run_statistics(spikes: pd.DataFrame, sizes: Mapping[str, int], duration_ms: float,
                   recorded: Iterable[str] | None = None) -> pd.DataFrame:
    """One run's statistics per population, ready for :func:`comparison_table`.

    Parameters
    ----------
    spikes
        Spikes DataFrame of the contract.
    sizes
        Node id -> size of every spiking population of the run, in display order.
    duration_ms
        The run's simulated time.
    recorded
        Populations whose spikes the run recorded (``simulation.record_spikes``); None: all.
        The statistics of the others are NaN (their spikes are not in the result, so "0
        spikes" would be wrong).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`engine.spike_stats.population_summary`, ``synchrony``
        (:func:`engine.spike_stats.population_synchrony` with :data:`SYNCHRONY_BIN_MS`
        bins) and a boolean ``recorded``.
    """
    frame = population_summary(spikes, sizes, duration_ms)
    frame["synchrony"] = population_synchrony(spikes, sizes, duration_ms, SYNCHRONY_BIN_MS)
    recorded = set(sizes) if recorded is None else set(recorded)
    frame["recorded"] = frame["population"].astype(str).isin(recorded)
    stats = [c for c in frame.columns if c not in ("population", "size", "recorded")]
    frame[stats] = frame[stats].astype(np.float64)
    frame.loc[~frame["recorded"], stats] = np.nan
    return frame


def comparison_table(pinned: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Per population: each metric of :data:`METRICS` for both runs and the change.

    Parameters
    ----------
    pinned, current
        Tables of :func:`run_statistics`.

    Returns
    -------
    pandas.DataFrame
        ``population``, ``size_pinned``, ``size_current``, then for every metric ``m``:
        ``m_pinned``, ``m_current`` and ``m_change`` (``current - pinned``). Rows: the
        current run's populations in its order, then those only the pinned run had. A value a
        run does not have (population missing or not recorded) is NaN, and so is its change.
    """
    order = list(current["population"]) + [p for p in pinned["population"]
                                           if p not in set(current["population"])]
    a = pinned.set_index("population").reindex(order)
    b = current.set_index("population").reindex(order)
    out = pd.DataFrame({"population": pd.Series(order, dtype=object)})
    out["size_pinned"] = a["size"].to_numpy(dtype=np.float64)
    out["size_current"] = b["size"].to_numpy(dtype=np.float64)
    for metric in METRICS:
        before = a[metric].to_numpy(dtype=np.float64) if metric in a else np.full(len(a), np.nan)
        after = b[metric].to_numpy(dtype=np.float64) if metric in b else np.full(len(b), np.nan)
        out[f"{metric}_pinned"] = before
        out[f"{metric}_current"] = after
        out[f"{metric}_change"] = after - before
    return out


def common_bin_ms(*durations_ms: float, bins: int = 200) -> float:
    """One rate bin width for runs of these durations (so their curves compare point by point):
    about ``bins`` bins over the longest run, at least 1 ms."""
    longest = max((float(d) for d in durations_ms if d and d > 0), default=0.0)
    return max(1.0, longest / bins)
