"""Network activity over time, per node and per projection, for playing a run back.

A run is binned once into *frames*: at frame time ``t`` each node's rate is the number of its
spikes in the window ``[t - window/2, t + window/2]`` (clipped to the run) per neuron per
second, and each projection's traffic is what it carried in the same window, given two ways:

- ``events``: synaptic events (one per spike and synapse it reaches), as counted by the
  simulator in ``SimulationResult.projection_counts``;
- ``spikes``: the presynaptic spikes that travelled along it (its source node's spikes).

The source is the run's operation counts (``SimulationResult.counts`` and
``projection_counts``), not the spikes table: the counts cover every node, also those whose
spikes were not recorded, and they are already binned (``bin_ms``), so a run of millions of
spikes is framed in milliseconds. Frame windows are whole numbers of count bins. The simulator
counts a spike in the bin of the integration step that produced it and stamps it with the
step's end, so a window ``[a, b)`` of bins holds the spikes with times in ``(a, b]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.core.results import SimulationResult

__all__ = ["NetworkActivity", "activity_window_ms", "network_activity", "run_activity"]

#: Shortest window: a few inter-spike intervals of a cortical neuron at 10-100 Hz.
MIN_WINDOW_MS = 10.0
#: At most this many windows fit in a run (longer runs get wider windows).
WINDOWS_PER_RUN = 200
#: Frames per window: frames overlap so that a played-back cursor moves smoothly.
FRAMES_PER_WINDOW = 4


@dataclass(frozen=True)
class NetworkActivity:
    """Per-frame activity of the nodes and projections of one run.

    Attributes
    ----------
    times_ms
        (F,) frame times, ``0, step_ms, 2 * step_ms, ...`` up to the run's duration.
    window_ms
        Width of the window centred on each frame time (clipped at the run's ends).
    step_ms
        Time between frames.
    rates_hz
        Node id -> (F,) float64 spikes per neuron per second in each frame's window.
        Current inputs and silent nodes give 0.
    events
        Projection id -> (F,) int64 synaptic events delivered in each frame's window.
    spikes
        Projection id -> (F,) int64 presynaptic spikes (source node) in each frame's window.
    sizes
        Node id -> number of neurons.
    sources
        Projection id -> its source node id.
    """

    times_ms: np.ndarray
    window_ms: float
    step_ms: float
    rates_hz: dict[str, np.ndarray] = field(default_factory=dict)
    events: dict[str, np.ndarray] = field(default_factory=dict)
    spikes: dict[str, np.ndarray] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def frame_at(self, t_ms: float) -> int:
        """Index of the frame whose time is nearest to ``t_ms`` (clipped to the run)."""
        if not len(self.times_ms):
            return 0
        k = int(math.floor(float(t_ms) / self.step_ms + 0.5))
        return min(max(k, 0), len(self.times_ms) - 1)

    @property
    def max_rate_hz(self) -> float:
        """Highest node rate of any frame (0 for a silent run)."""
        peaks = [float(np.max(r)) for r in self.rates_hz.values() if len(r)]
        return max(peaks, default=0.0)


def activity_window_ms(duration_ms: float, bin_ms: float) -> float:
    """Default window: ``max(10 ms, duration / 200)``, rounded up to an even number of bins.

    An even number of count bins puts the window's edges on bin edges when it is centred on
    a frame time (frame times are whole numbers of bins too, see :func:`network_activity`).
    """
    if bin_ms <= 0:
        raise ValueError(f"bin_ms must be > 0, got {bin_ms}")
    wanted = max(MIN_WINDOW_MS, float(duration_ms) / WINDOWS_PER_RUN)
    return 2 * bin_ms * math.ceil(wanted / (2 * bin_ms) - 1e-9)


def network_activity(counts: pd.DataFrame, projection_counts: pd.DataFrame,
                     sizes: dict[str, int], duration_ms: float, bin_ms: float,
                     projection_sources: dict[str, str] | None = None,
                     window_ms: float | None = None) -> NetworkActivity:
    """Bin a run's operation counts into playback frames.

    Parameters
    ----------
    counts
        ``SimulationResult.counts`` (columns ``bin_start_ms``, ``node``, ``spikes``).
    projection_counts
        ``SimulationResult.projection_counts`` (``bin_start_ms``, ``projection``,
        ``source``, ``syn_events``).
    sizes
        Node id -> number of neurons (``SimulationResult.sizes``); these nodes get rates.
    duration_ms
        Simulated time; frames cover ``[0, duration_ms]``.
    bin_ms
        Width of the count bins (``SimulationResult.bin_ms``).
    projection_sources
        Projection id -> source node id, for projections that may have no count rows (a run
        stopped before its first bin); default: the ``source`` column of
        ``projection_counts``.
    window_ms
        Window around each frame time; rounded up to an even number of bins. Default:
        :func:`activity_window_ms`.

    Returns
    -------
    NetworkActivity
        Frames every ``step_ms`` (a whole number of bins, about a quarter of the window).

    Notes
    -----
    With ``W = window / bin`` (even) and frame ``k`` at bin ``j = k * step / bin``, the window
    holds bins ``j - W/2 .. j + W/2 - 1`` clipped to the run; its width is the clipped span,
    so the rates of the first and last frames are not biased low.
    """
    duration_ms, bin_ms = float(duration_ms), float(bin_ms)
    if bin_ms <= 0:
        raise ValueError(f"bin_ms must be > 0, got {bin_ms}")
    window = (activity_window_ms(duration_ms, bin_ms) if window_ms is None
              else 2 * bin_ms * max(1, math.ceil(float(window_ms) / (2 * bin_ms) - 1e-9)))
    half_bins = int(round(window / bin_ms)) // 2
    step_bins = max(1, int(round(half_bins * 2 / FRAMES_PER_WINDOW)))
    n_bins = max(1, math.ceil(duration_ms / bin_ms - 1e-9))
    edges = np.minimum(np.arange(n_bins + 1) * bin_ms, duration_ms)
    edges[-1] = max(duration_ms, edges[-1])
    n_frames = n_bins // step_bins + 1
    centre = np.arange(n_frames) * step_bins  # frame k's time in bins
    lo = np.clip(centre - half_bins, 0, n_bins)
    hi = np.clip(centre + half_bins, 0, n_bins)
    seconds = (edges[hi] - edges[lo]) / 1000.0

    def windowed(per_bin: np.ndarray) -> np.ndarray:
        cum = np.concatenate([[0], np.cumsum(per_bin)])
        return cum[hi] - cum[lo]

    node_bins = _per_bin(counts, "node", "spikes", list(sizes), n_bins, bin_ms)
    rates: dict[str, np.ndarray] = {}
    node_spikes: dict[str, np.ndarray] = {}
    for name, per_bin in node_bins.items():
        node_spikes[name] = windowed(per_bin)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = node_spikes[name] / max(int(sizes[name]), 1) / seconds
        rates[name] = np.where(seconds > 0, rate, 0.0)

    sources = dict(projection_sources or {})
    if len(projection_counts):
        first = projection_counts.drop_duplicates("projection")
        for pid, src in zip(first["projection"].astype(str), first["source"].astype(str),
                            strict=True):
            sources.setdefault(pid, src)
    proj_bins = _per_bin(projection_counts, "projection", "syn_events", list(sources), n_bins,
                         bin_ms)
    events = {pid: windowed(per_bin) for pid, per_bin in proj_bins.items()}
    carried = {pid: node_spikes.get(src, np.zeros(n_frames, np.int64)).copy()
               for pid, src in sources.items()}
    times = np.minimum(centre * bin_ms, duration_ms)
    return NetworkActivity(times_ms=times.astype(np.float64), window_ms=window,
                           step_ms=step_bins * bin_ms, rates_hz=rates, events=events,
                           spikes=carried, sizes={k: int(v) for k, v in sizes.items()},
                           sources=sources)


def run_activity(result: SimulationResult, window_ms: float | None = None) -> NetworkActivity:
    """:func:`network_activity` of a ``SimulationResult`` (every node and projection)."""
    info = result.network_info
    sources = dict(zip(info["projection"].astype(str), info["source"].astype(str), strict=True))
    return network_activity(result.counts, result.projection_counts, result.sizes,
                            result.duration_ms, result.bin_ms, sources, window_ms)


def _per_bin(frame: pd.DataFrame, key: str, column: str, names: list[str], n_bins: int,
             bin_ms: float) -> dict[str, np.ndarray]:
    """``column`` summed per (``key``, bin) as name -> (n_bins,) int64 (zeros when absent)."""
    out = {name: np.zeros(n_bins, np.int64) for name in names}
    if not len(frame) or not names:
        return out
    codes = pd.Index(names).get_indexer(frame[key].astype(str))
    bins = np.rint(frame["bin_start_ms"].to_numpy(np.float64) / bin_ms).astype(np.int64)
    ok = (codes >= 0) & (bins >= 0) & (bins < n_bins)
    flat = np.bincount(codes[ok] * n_bins + bins[ok],
                       weights=frame[column].to_numpy(np.float64)[ok],
                       minlength=len(names) * n_bins)
    table = np.rint(flat).astype(np.int64).reshape(len(names), n_bins)
    return {name: table[k] for k, name in enumerate(names)}
