"""What a simulation returns: spikes, traces, operation counts and weights as plain data."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.core.spike_store import SpikeStore
from engine.errors import SpikeStudioError
from engine.spike_stats import neuron_spike_times, population_rates, population_summary


@dataclass
class TraceRecord:
    """State traces of some neurons of one population (one state monitor)."""

    monitor: str
    population: str
    neurons: np.ndarray                      # (K,) indices within the population
    time_ms: np.ndarray                      # (T,)
    values: dict[str, np.ndarray]            # variable -> (T, K)
    units: dict[str, str] = field(default_factory=dict)


@dataclass
class WeightRecord:
    """How the weights of one projection evolved."""

    projection: str
    pre: np.ndarray                          # (S,) source index of each synapse
    post: np.ndarray                         # (S,) target index of each synapse
    n_pre: int
    n_post: int
    w_min: float
    w_max: float
    times_ms: np.ndarray                     # (M,) snapshot / statistics times
    mean: np.ndarray                         # (M,)
    std: np.ndarray                          # (M,)
    hist_edges: np.ndarray                   # (B + 1,)
    hist: np.ndarray                         # (M, B) synapse counts per weight bin
    snapshots: np.ndarray | None = None      # (M, S) float32 when full snapshots were kept
    synapse_index: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    trajectory_time_ms: np.ndarray = field(default_factory=lambda: np.empty(0))
    trajectories: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.float32))

    def matrix(self, snapshot: int) -> np.ndarray:
        """Dense (n_pre, n_post) weight matrix at a snapshot (NaN where no synapse)."""
        if self.snapshots is None:
            raise ValueError(f"no full weight snapshots were kept for {self.projection!r}")
        out = np.full((self.n_pre, self.n_post), np.nan, dtype=np.float32)
        out[self.pre, self.post] = self.snapshots[snapshot]
        return out


@dataclass
class SimulationResult:
    """Everything a run produced; see docs/architecture.md for the column contracts."""

    spikes: pd.DataFrame
    traces: dict[str, TraceRecord]
    counts: pd.DataFrame
    projection_counts: pd.DataFrame
    weights: dict[str, WeightRecord]
    node_info: pd.DataFrame
    network_info: pd.DataFrame
    duration_ms: float
    requested_ms: float
    dt_ms: float
    bin_ms: float
    status: str = "completed"
    wall_time_s: float = 0.0
    build_time_s: float = 0.0
    messages: list[str] = field(default_factory=list)
    #: Why a paused run stopped (engine.core.breakpoints.BreakpointHit as a dict), else None.
    breakpoint: dict | None = None
    #: Where the spikes are when they were moved to disk (:meth:`spill_spikes`): ``spikes``
    #: is then empty (with the same categories) and every spike is in the store.
    spike_store: SpikeStore | None = None
    #: With ``spike_store``: engine.spike_stats.population_summary of every node, computed
    #: before the spikes went to disk (it needs each neuron's whole spike train).
    population_stats: pd.DataFrame | None = None

    @property
    def n_spikes(self) -> int:
        """Number of spikes of the run, in memory or in its store."""
        return self.spike_store.n_spikes if self.spike_store is not None else len(self.spikes)

    def spill_spikes(self, path: str | Path) -> SpikeStore:
        """Move the spikes to a :class:`~engine.core.spike_store.SpikeStore` at ``path``.

        Afterwards ``spikes`` is an empty frame with the same columns and categories, and
        ``spike_store``, :attr:`n_spikes`, :meth:`spike_counts`, :meth:`summary` and
        :meth:`write` use the store, and ``population_stats`` holds the firing statistics of
        every node (:func:`engine.spike_stats.population_summary`). For results too large
        to keep in memory (a server holds many pages' results); headless use does not need it.

        Returns
        -------
        SpikeStore
        """
        if self.spike_store is not None:
            raise ValueError("the spikes of this result are already in a store")
        store = SpikeStore.write(path, self.spikes)
        try:
            self.population_stats = population_summary(self.spikes, self.sizes,
                                                       self.duration_ms)
        except MemoryError:  # a run at its memory cap: counts and rates only (see below)
            self.population_stats = None
        self.spike_store = store
        self.spikes = self.spikes.iloc[0:0].copy()
        return store

    def neuron_spike_times(self, population: str, neuron: int) -> np.ndarray:
        """Spike times of one neuron (:func:`engine.spike_stats.neuron_spike_times`; a
        chunked scan of the store when the spikes were spilled)."""
        if self.spike_store is not None:
            return self.spike_store.neuron_times(population, neuron)
        return neuron_spike_times(self.spikes, population, neuron)

    def population_rates(self, sizes: dict[str, int], bin_ms: float) -> pd.DataFrame:
        """:func:`engine.spike_stats.population_rates` of this run (chunked from the store
        when the spikes were spilled)."""
        if self.spike_store is not None:
            return self.spike_store.population_rates(sizes, self.duration_ms, bin_ms)
        return population_rates(self.spikes, sizes, self.duration_ms, bin_ms=bin_ms)

    def population_summary(self, sizes: dict[str, int]) -> pd.DataFrame:
        """:func:`engine.spike_stats.population_summary` of the populations ``sizes`` (from
        ``population_stats`` when the spikes were spilled)."""
        if self.spike_store is None:
            return population_summary(self.spikes, sizes, self.duration_ms)
        stats = self.population_stats  # one row per node, in network order
        if stats is None:  # not computable: spikes and mean rates from the counts, no others
            stats = population_summary(self.spikes, self.sizes, self.duration_ms)
            stats["spikes"] = self.spike_counts().to_numpy()
            seconds = self.duration_ms / 1000.0
            with np.errstate(divide="ignore", invalid="ignore"):
                stats["mean_rate_hz"] = stats["spikes"] / (stats["size"] * seconds)
            stats[["active_fraction", "cv_isi", "fano_factor"]] = np.nan
        rows = pd.Index(stats["population"].astype(str)).get_indexer(list(sizes))
        return stats.iloc[rows].reset_index(drop=True)

    def all_spikes(self) -> pd.DataFrame:
        """Every spike as a DataFrame (read back from the store when spilled)."""
        return self.spike_store.frame() if self.spike_store is not None else self.spikes

    @property
    def sizes(self) -> dict[str, int]:
        """Neurons per population and encoder, in network order."""
        return dict(zip(self.node_info["node"], self.node_info["size"].astype(int),
                        strict=True))

    def spike_counts(self) -> pd.Series:
        """Spikes per node (every node listed, zero when silent)."""
        if self.spike_store is not None:
            counts = pd.Series(self.spike_store.counts, dtype=np.int64, name="count")
        else:
            counts = self.spikes["population"].value_counts()
        return counts.reindex(self.node_info["node"], fill_value=0).astype(int)

    def summary(self) -> pd.DataFrame:
        """Per node: kind, model, size, spikes and mean rate (Hz per neuron)."""
        info = self.node_info.set_index("node")
        spikes = self.spike_counts()
        seconds = max(self.duration_ms, 1e-12) / 1000.0
        frame = info.assign(spikes=spikes, rate_hz=spikes / info["size"] / seconds)
        return frame.reset_index()

    def traces_frame(self) -> pd.DataFrame:
        """All traces in long format: time_ms, population, neuron, variable, value."""
        frames = []
        for rec in self.traces.values():
            for var, values in rec.values.items():
                t, n = values.shape
                frames.append(pd.DataFrame({
                    "time_ms": np.repeat(rec.time_ms, n),
                    "population": rec.population,
                    "neuron": np.tile(rec.neurons, t),
                    "variable": var,
                    "value": values.ravel(),
                }))
        if not frames:
            return pd.DataFrame(columns=["time_ms", "population", "neuron", "variable", "value"])
        return pd.concat(frames, ignore_index=True)

    def to_summary_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (written as summary.json by the CLI)."""
        summary = self.summary()
        return {
            "status": self.status,
            "duration_ms": self.duration_ms,
            "requested_ms": self.requested_ms,
            "dt_ms": self.dt_ms,
            "wall_time_s": round(self.wall_time_s, 4),
            "build_time_s": round(self.build_time_s, 4),
            "total_spikes": int(self.n_spikes),
            "synaptic_events": int(self.projection_counts["syn_events"].sum())
            if len(self.projection_counts) else 0,
            "populations": [
                {"id": row.node, "kind": row.kind, "model": row.model, "size": int(row.size),
                 "spikes": int(row.spikes), "mean_rate_hz": float(row.rate_hz)}
                for row in summary.itertuples()
            ],
            "messages": list(self.messages),
        }

    def to_neo(self, recorded: Iterable[str] | None = None, name: str = "SpikeStudio run"
               ) -> Any:
        """The run as a ``neo.Block`` for Elephant and the Neo ecosystem.

        One ``Segment``, a ``SpikeTrain`` per neuron (ms), a ``Group`` per population and
        input, recorded traces as ``AnalogSignal``s: see :mod:`engine.core.neo_export`,
        which does the conversion (imported here so ``neo`` stays optional).

        Parameters
        ----------
        recorded
            Nodes whose spikes were recorded (``simulation.record_spikes``); ``None``: all.
        name
            Name of the block.
        """
        from engine.core.neo_export import to_neo

        return to_neo(self, recorded=recorded, name=name)

    def write(self, out_dir: str | Path, parquet: bool = False) -> list[Path]:
        """Write spikes (CSV, or Parquet), counts and summary.json into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        if parquet:
            spikes = self.all_spikes().astype({"population": str})
            try:
                import pyarrow  # noqa: F401 - only to give a clear message when missing
            except ImportError:
                raise SpikeStudioError("Parquet output needs pyarrow: pip install "
                                       "'spikestudio[parquet]' (or write CSV)") from None
            path = out / "spikes.parquet"
            spikes.to_parquet(path, index=False)
        else:
            path = out / "spikes.csv"
            if self.spike_store is not None:  # chunk by chunk: never all in memory
                with path.open("w", newline="") as stream:
                    self.spike_store.write_csv(stream)
            else:
                # The categorical column writes its labels as they are: no copy of the table.
                self.spikes.to_csv(path, index=False, columns=["time_ms", "population", "neuron"],
                                   float_format="%.10g")
        written.append(path)
        counts_path = out / "counts.csv"
        self.counts.to_csv(counts_path, index=False)
        written.append(counts_path)
        summary_path = out / "summary.json"
        summary_path.write_text(json.dumps(self.to_summary_dict(), indent=2) + "\n")
        written.append(summary_path)
        return written
