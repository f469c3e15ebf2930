"""Spikes of one run kept on disk, read back in bounded chunks.

A run of a few hundred thousand neurons can record tens of millions of spikes: more than a
server shared by a class should hold in memory for one page. A :class:`SpikeStore` is a
directory with one raw little-endian file per column and a small ``meta.json``::

    time_ms.f8   float64 spike times, ascending (the order the simulator records them)
    node.i4      int32 index into ``node_ids`` (the population of each spike)
    neuron.i4    int32 neuron index within its population
    meta.json    {"version", "n_spikes", "node_ids", "counts"}

Raw files (not ``.npy``) so a chunk is one ``numpy.fromfile`` at an offset: reading never maps
or loads more than the chunk asked for. The store object is a small frozen dataclass, cheap
to pickle between processes; it opens its files on each read.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.spike_stats import empty_spikes, population_rates

#: Spikes per chunk read or written (16 bytes each: 4 MB per chunk; binning a chunk for a
#: density image needs a few times that).
CHUNK_ROWS = 1 << 18
#: Bytes one stored spike takes (time, node, neuron).
BYTES_PER_SPIKE = 16
_COLUMNS = (("time_ms", "time_ms.f8", np.dtype("<f8")),
            ("node", "node.i4", np.dtype("<i4")),
            ("neuron", "neuron.i4", np.dtype("<i4")))
_VERSION = 1


@dataclass(frozen=True)
class SpikeStore:
    """The spikes of one run in a directory on disk (see the module docstring).

    Attributes
    ----------
    path
        The store's directory.
    node_ids
        Population ids; a spike's ``node`` indexes this tuple.
    n_spikes
        Number of spikes stored.
    counts
        Spikes per node id (every id of ``node_ids`` listed).
    """

    path: Path
    node_ids: tuple[str, ...]
    n_spikes: int
    counts: dict[str, int]

    # ------------------------------------------------------------------ writing
    @classmethod
    def write(cls, path: str | Path, spikes: pd.DataFrame,
              chunk_rows: int = CHUNK_ROWS) -> SpikeStore:
        """Write a spikes DataFrame of the contract to a new store at ``path``.

        Parameters
        ----------
        path
            Directory to create (it must not hold a store already).
        spikes
            ``time_ms``, ``population`` (categorical or strings), ``neuron``, sorted by time.
        chunk_rows
            Rows converted and written at a time: the extra memory needed is about
            ``16 * chunk_rows`` bytes, whatever the size of ``spikes``.

        Returns
        -------
        SpikeStore

        Raises
        ------
        ValueError
            The times are not in ascending order (windows are found by bisection).
        """
        root = Path(path)
        root.mkdir(parents=True, exist_ok=False)
        column = spikes["population"]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(str).astype("category")
        node_ids = tuple(str(c) for c in column.cat.categories)
        times = spikes["time_ms"].to_numpy()
        codes = column.cat.codes.to_numpy()
        neurons = spikes["neuron"].to_numpy()
        n = len(times)
        last = -np.inf
        with (root / _COLUMNS[0][1]).open("wb") as ft, (root / _COLUMNS[1][1]).open("wb") as fn, \
                (root / _COLUMNS[2][1]).open("wb") as fi:
            for start in range(0, n, max(1, int(chunk_rows))):
                stop = min(n, start + chunk_rows)
                t = times[start:stop].astype(_COLUMNS[0][2], copy=False)
                if len(t) and (t[0] < last or np.any(t[1:] < t[:-1])):
                    raise ValueError("spike times must be in ascending order to be stored")
                last = t[-1] if len(t) else last
                t.tofile(ft)
                codes[start:stop].astype(_COLUMNS[1][2]).tofile(fn)
                neurons[start:stop].astype(_COLUMNS[2][2]).tofile(fi)
        per_node = np.bincount(codes[codes >= 0], minlength=len(node_ids)) if n else \
            np.zeros(len(node_ids), np.int64)
        counts = {node: int(c) for node, c in zip(node_ids, per_node, strict=True)}
        (root / "meta.json").write_text(json.dumps(
            {"version": _VERSION, "n_spikes": int(n), "node_ids": list(node_ids),
             "counts": counts}))
        return cls(root, node_ids, int(n), counts)

    @classmethod
    def open(cls, path: str | Path) -> SpikeStore:
        """Open the store written at ``path``.

        Raises
        ------
        ValueError
            ``path`` holds no store of a version this code reads.
        """
        root = Path(path)
        try:
            meta = json.loads((root / "meta.json").read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"no spike store at {root}: {exc}") from None
        if meta.get("version") != _VERSION:
            raise ValueError(f"spike store {root} has version {meta.get('version')!r}, "
                             f"expected {_VERSION}")
        return cls(root, tuple(meta["node_ids"]), int(meta["n_spikes"]),
                   {str(k): int(v) for k, v in meta["counts"].items()})

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return self.n_spikes

    @property
    def nbytes(self) -> int:
        """Size of the stored spikes in bytes (about their size in memory as arrays)."""
        return self.n_spikes * BYTES_PER_SPIKE

    def row_range(self, start_ms: float | None = None,
                  end_ms: float | None = None) -> tuple[int, int]:
        """Rows ``[lo, hi)`` of the spikes with ``start_ms <= time <= end_ms`` (None: open)."""
        if self.n_spikes == 0:
            return 0, 0
        times = np.memmap(self.path / _COLUMNS[0][1], dtype=_COLUMNS[0][2], mode="r",
                          shape=(self.n_spikes,))
        try:
            # A bisection reads about log2(n) pages of the file, not the file.
            lo = 0 if start_ms is None else int(np.searchsorted(times, start_ms, "left"))
            hi = (self.n_spikes if end_ms is None
                  else int(np.searchsorted(times, end_ms, "right")))
        finally:
            del times
        return lo, max(lo, hi)

    def read(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Columns (time_ms float64, node int32, neuron int32) of rows ``[lo, hi)``."""
        lo, hi = max(0, int(lo)), min(self.n_spikes, int(hi))
        count = max(0, hi - lo)
        return tuple(np.fromfile(self.path / name, dtype=dtype, count=count,
                                 offset=lo * dtype.itemsize)
                     for _, name, dtype in _COLUMNS)

    def chunks(self, start_ms: float | None = None, end_ms: float | None = None,
               rows: int = CHUNK_ROWS) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The spikes with ``start_ms <= time <= end_ms`` as (time, node, neuron) chunks of at
        most ``rows`` spikes, in time order."""
        lo, hi = self.row_range(start_ms, end_ms)
        step = max(1, int(rows))
        for start in range(lo, hi, step):
            yield self.read(start, min(hi, start + step))

    def frame(self, start_ms: float | None = None, end_ms: float | None = None) -> pd.DataFrame:
        """The spikes of a time window as a spikes DataFrame of the contract.

        Loads the whole window: ask only for what fits in memory (``row_range`` tells how
        many spikes a window holds).
        """
        t, node, neuron = self.read(*self.row_range(start_ms, end_ms))
        return pd.DataFrame({
            "time_ms": t,
            "population": pd.Categorical.from_codes(node, categories=list(self.node_ids)),
            "neuron": neuron})

    def frames(self, start_ms: float | None = None, end_ms: float | None = None,
               rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """:meth:`chunks` as spikes DataFrames of the contract."""
        for t, node, neuron in self.chunks(start_ms, end_ms, rows):
            yield pd.DataFrame({"time_ms": t, "population": pd.Categorical.from_codes(
                node, categories=list(self.node_ids)), "neuron": neuron})

    def neuron_times(self, population: str, neuron: int) -> np.ndarray:
        """Spike times of one neuron (a chunked scan of the store)."""
        if population not in self.node_ids:
            return np.empty(0, dtype=np.float64)
        code = self.node_ids.index(population)
        parts = [t[(node == code) & (idx == int(neuron))] for t, node, idx in self.chunks()]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)

    def write_csv(self, out, float_format: str = "%.10g") -> None:
        """Write ``time_ms,population,neuron`` CSV to the text stream ``out``, chunk by chunk."""
        out.write("time_ms,population,neuron\n")
        for frame in self.frames():
            frame.to_csv(out, index=False, header=False, float_format=float_format)

    def population_rates(self, sizes: Mapping[str, int], duration_ms: float,
                         bin_ms: float = 5.0) -> pd.DataFrame:
        """:func:`engine.spike_stats.population_rates` of the stored spikes, chunk by chunk
        (the counts add up; no smoothing)."""
        names = list(sizes)
        total = population_rates(empty_spikes(self.node_ids), sizes, duration_ms, bin_ms)
        for frame in self.frames():
            total[names] += population_rates(frame, sizes, duration_ms, bin_ms)[names]
        return total

    def remove(self) -> None:
        """Delete the store's directory (its files are gone; the object stays readable as
        metadata only)."""
        shutil.rmtree(self.path, ignore_errors=True)
