"""Spikes kept on disk (engine.core.spike_store) give exactly what the in-memory path gives."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from engine.core.spike_store import SpikeStore
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
    import engine.core.spike_store as spike_store

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


# ---------------------------------------------------------------------------- results
@pytest.fixture(scope="module")
def cuba():
    """A short CUBA run (its document and result)."""
    import dataclasses

    from engine.project import load_project
    from engine.simulator import simulate

    project = load_project("sample_projects/cuba_balanced.json")
    project = dataclasses.replace(project, simulation=dataclasses.replace(
        project.simulation, duration_ms=200.0))
    return project.to_dict(), simulate(project)


def _copy(result):
    import copy

    return copy.deepcopy(result)


def test_spilled_result_keeps_its_public_api(tmp_path, cuba):
    from engine.spike_stats import population_summary

    _, result = cuba
    spilled = _copy(result)
    store = spilled.spill_spikes(tmp_path / "run")
    assert len(spilled.spikes) == 0 and spilled.spike_store is store
    assert spilled.n_spikes == len(result.spikes) > 0
    pd.testing.assert_series_equal(spilled.spike_counts(), result.spike_counts())
    pd.testing.assert_frame_equal(spilled.summary(), result.summary())
    assert spilled.to_summary_dict() == result.to_summary_dict()
    pd.testing.assert_frame_equal(spilled.all_spikes(), result.spikes)
    first = result.spikes.iloc[0]
    np.testing.assert_array_equal(
        spilled.neuron_spike_times(first["population"], int(first["neuron"])),
        result.neuron_spike_times(first["population"], int(first["neuron"])))
    pd.testing.assert_frame_equal(
        spilled.population_stats,
        population_summary(result.spikes, result.sizes, result.duration_ms))
    for parquet in (False, True):
        a = spilled.write(tmp_path / f"a{parquet}", parquet=parquet)
        b = result.write(tmp_path / f"b{parquet}", parquet=parquet)
        assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    with pytest.raises(ValueError, match="already"):
        spilled.spill_spikes(tmp_path / "again")


def test_summary_without_statistics_falls_back_to_counts(tmp_path, cuba):
    _, result = cuba
    spilled = _copy(result)
    spilled.spill_spikes(tmp_path / "run")
    spilled.population_stats = None  # what a worker at its memory cap could not compute
    sizes = {"exc": result.sizes["exc"], "inh": result.sizes["inh"]}
    got, want = spilled.population_summary(sizes), result.population_summary(sizes)
    pd.testing.assert_frame_equal(got[["population", "size", "spikes", "mean_rate_hz"]],
                                  want[["population", "size", "spikes", "mean_rate_hz"]])
    assert got[["active_fraction", "cv_isi", "fano_factor"]].isna().all().all()


def test_stored_rates_equal_the_in_memory_rates(tmp_path, cuba, monkeypatch):
    import engine.core.spike_store as spike_store
    from engine.spike_stats import population_rates

    _, result = cuba
    monkeypatch.setattr(SpikeStore.chunks, "__defaults__", (None, None, 1000))
    store = SpikeStore.write(tmp_path / "run", result.spikes)
    sizes = {"exc": result.sizes["exc"], "inh": result.sizes["inh"]}
    got = store.population_rates(sizes, result.duration_ms, 2.0)
    want = population_rates(result.spikes, sizes, result.duration_ms, bin_ms=2.0)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    assert spike_store.CHUNK_ROWS > 1000  # the test did read in more, smaller chunks


def test_worker_spills_only_results_above_the_share(tmp_path, cuba):
    from workbench.runner import result_transport
    from workbench.workers import spill_if_large

    _, result = cuba
    n_bytes = len(result.spikes) * 16
    small = spill_if_large(_copy(result), result_transport(tmp_path, 4 * n_bytes / 2**20 * 2),
                           "result")
    assert small.spike_store is None and len(small.spikes) == len(result.spikes)
    limits = result_transport(tmp_path, 4 * n_bytes / 2**20 / 2)
    assert limits["keep_spikes_mb"] * 2**20 < n_bytes
    big = spill_if_large(_copy(result), limits, "result")
    assert big.spike_store is not None and big.spike_store.path == tmp_path / "result"
    pd.testing.assert_frame_equal(big.spike_store.frame(), result.spikes)
    # Without a store directory (headless pools) results are always sent whole.
    kept = spill_if_large(_copy(result), result_transport(None, 1.0), "result")
    assert kept.spike_store is None


def test_results_view_shows_a_stored_result(tmp_path, cuba):
    from workbench.results_view import ResultsView

    document, result = cuba
    spilled = _copy(result)
    spilled.spill_spikes(tmp_path / "run")
    memory, stored = ResultsView(), ResultsView()
    for view, shown in ((memory, result), (stored, spilled)):
        view.run_started(document)
        assert view.show(shown)
    assert 'data-testid="result-on-disk"' in stored.status.object
    assert 'data-testid="result-on-disk"' not in memory.status.object
    assert f'data-spikes="{len(result.spikes)}"' in stored.status.object
    assert isinstance(stored.raster.index, StoredRasterIndex)
    assert len(stored.raster.index) == len(memory.raster.index)
    assert stored.raster.visible_spikes == memory.raster.visible_spikes
    assert stored.raster.mode == memory.raster.mode
    pd.testing.assert_frame_equal(stored.view("summary").summary.summary,
                                  memory.view("summary").summary.summary)
    pd.testing.assert_frame_equal(stored.rates.rates, memory.rates.rates, check_exact=False,
                                  rtol=1e-12)
    assert stored._spikes_csv().getvalue() == memory._spikes_csv().getvalue()
    stored.release()
    assert stored.result is None
