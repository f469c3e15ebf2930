"""Spikes kept on disk (engine.spike_store) give exactly what the in-memory path gives."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from engine.spike_store import SpikeStore
from widgets.raster_data import RasterIndex, StoredRasterIndex

SIZES = {"exc": 400, "inh": 100, "tiny": 1}
COLORS = [(200, 30, 30), (30, 30, 200), (20, 160, 20)]


def _spikes(n: int = 50_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = list(SIZES) + ["unrecorded"]
    pop = rng.integers(0, len(names), n)
    neuron = rng.integers(0, 400, n) % np.array([400, 100, 1, 7])[pop]
    return pd.DataFrame({
        "time_ms": np.sort(rng.uniform(0, 1000.0, n)),
        "population": pd.Categorical.from_codes(pop, categories=names),
        "neuron": neuron.astype(np.int32)})


@pytest.fixture
def spikes() -> pd.DataFrame:
    return _spikes()


def test_round_trip_is_exact(tmp_path, spikes):
    store = SpikeStore.write(tmp_path / "run", spikes, chunk_rows=777)
    again = SpikeStore.open(tmp_path / "run")
    assert again == store
    pd.testing.assert_frame_equal(again.frame(), spikes)
    assert again.counts == spikes["population"].value_counts().to_dict()
    assert len(again) == len(spikes)
    # Chunks cover the spikes once, in order.
    parts = list(again.chunks(rows=1000))
    assert sum(len(p[0]) for p in parts) == len(spikes)
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]),
                                  spikes["time_ms"].to_numpy())


def test_windows_equal_the_in_memory_ones(tmp_path, spikes):
    store = SpikeStore.write(tmp_path / "run", spikes)
    t = spikes["time_ms"]
    for lo, hi in [(0, 1000), (100.5, 101.5), (t.iloc[10], t.iloc[10]), (2000, 3000)]:
        expected = spikes[(t >= lo) & (t <= hi)].reset_index(drop=True)
        pd.testing.assert_frame_equal(store.frame(lo, hi), expected)
    mask = (spikes["population"] == "inh") & (spikes["neuron"] == 5)
    np.testing.assert_array_equal(store.neuron_times("inh", 5),
                                  spikes.loc[mask, "time_ms"].to_numpy())


def test_csv_matches_the_in_memory_csv(tmp_path, spikes):
    store = SpikeStore.write(tmp_path / "run", spikes)
    out = io.StringIO()
    store.write_csv(out)
    expected = spikes.to_csv(index=False, float_format="%.10g")
    assert out.getvalue() == expected


def test_unsorted_spikes_are_refused(tmp_path, spikes):
    with pytest.raises(ValueError, match="ascending"):
        SpikeStore.write(tmp_path / "run", spikes.iloc[::-1])


@pytest.mark.parametrize("window", [
    (0, 1000, -0.5, 1e9),          # everything
    (250, 260, -0.5, 1e9),         # a short time window
    (0, 1000, 100, 300),           # some rows
    (400, 700, 450.2, 520.7),      # both, cutting the small bands
])
def test_stored_raster_index_equals_the_in_memory_one(tmp_path, spikes, window):
    memory = RasterIndex(spikes, SIZES)
    stored = StoredRasterIndex(SpikeStore.write(tmp_path / "run", spikes), SIZES)
    assert len(stored) == len(memory)
    assert stored.count(window) == memory.count(window)
    got, want = stored.points(window), memory.points(window)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])
    for shape in [(600, 300), (37, 1000)]:
        a = stored.density(window, COLORS, *shape)
        b = memory.density(window, COLORS, *shape)
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.rgba, b.rgba)
        assert (a.x, a.y, a.dw, a.dh) == (b.x, b.y, b.dw, b.dh)


def test_stored_density_reads_in_chunks(tmp_path, spikes, monkeypatch):
    """The density of the whole run is binned chunk by chunk, never all spikes at once."""
    import engine.spike_store as spike_store

    monkeypatch.setattr(spike_store, "CHUNK_ROWS", 4096)
    store = SpikeStore.write(tmp_path / "run", spikes)
    seen = []
    read = SpikeStore.read

    def spy(self, lo, hi):
        seen.append(hi - lo)
        return read(self, lo, hi)

    monkeypatch.setattr(SpikeStore, "read", spy)
    monkeypatch.setattr(SpikeStore.chunks, "__defaults__", (None, None, 4096))
    StoredRasterIndex(store, SIZES).density((0, 1000, -0.5, 1e9), COLORS)
    assert seen and max(seen) <= 4096 and sum(seen) == len(spikes)
