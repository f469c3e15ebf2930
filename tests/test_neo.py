"""Runs as Neo blocks: the layout, the NixIO file of ``run --neo``, and our statistics
against Elephant's on the samples."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")

import sample_projects  # noqa: E402
from engine.errors import SpikeStudioError  # noqa: E402
from engine.project import Project, load_project  # noqa: E402
from engine.simulator import simulate  # noqa: E402
from engine.spike_stats import neuron_statistics, population_summary  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _project(record="all") -> Project:
    return Project.from_dict({
        "format": "spikestudio-project", "version": 1, "name": "neo test",
        "network": {
            "nodes": [
                {"id": "in", "kind": "encoder", "model": "poisson", "size": 5,
                 "params": {"rate_hz": 80.0}},
                {"id": "a", "kind": "population", "model": "lif", "size": 4},
                {"id": "b", "kind": "population", "model": "izhikevich", "size": 2},
                {"id": "mon", "kind": "monitor", "model": "state", "target": "a",
                 "params": {"variables": ["v", "i_exc"], "neurons": [1, 3]}}],
            "projections": [
                {"id": "in_a", "source": "in", "target": "a", "weight": 6.0,
                 "connectivity": {"rule": "all_to_all"}},
                {"id": "a_b", "source": "a", "target": "b", "weight": 8.0,
                 "connectivity": {"rule": "all_to_all"}}]},
        "simulation": {"duration_ms": 300.0, "dt_ms": 0.1, "seed": 5,
                       "record_spikes": record}})


def _trains_of(block) -> dict[tuple[str, int], np.ndarray]:
    return {(st.annotations["population"], int(st.annotations["neuron"])):
            st.rescale(pq.ms).magnitude for st in block.segments[0].spiketrains}


def _spikes_of(spikes: pd.DataFrame) -> dict[tuple[str, int], np.ndarray]:
    return {(str(pop), int(n)): np.sort(group["time_ms"].to_numpy())
            for (pop, n), group in spikes.groupby(["population", "neuron"], observed=True)}


def test_block_layout() -> None:
    result = simulate(_project())
    block = result.to_neo(name="neo test")
    assert isinstance(block, neo.Block) and block.name == "neo test"
    (segment,) = block.segments
    assert len(segment.spiketrains) == 5 + 4 + 2  # one per neuron, silent ones too
    for st in segment.spiketrains:
        assert st.units == pq.ms and st.t_start == 0 * pq.ms
        assert st.t_stop == result.duration_ms * pq.ms
    trains = _trains_of(block)
    expected = _spikes_of(result.spikes)
    assert expected and all(np.array_equal(trains[k], v) for k, v in expected.items())
    assert sum(len(v) for v in trains.values()) == len(result.spikes)
    groups = {g.name: g for g in block.groups}
    assert list(groups) == ["in", "a", "b"]
    assert [st.annotations["neuron"] for st in groups["a"].spiketrains] == [0, 1, 2, 3]
    assert groups["b"].annotations["model"] == "izhikevich"
    signals = {s.annotations["variable"]: s for s in groups["a"].analogsignals}
    assert set(signals) == {"v", "i_exc"} and len(segment.analogsignals) == 2
    trace = result.traces["mon"]
    v = signals["v"]
    assert v.units == pq.mV and v.shape == trace.values["v"].shape
    np.testing.assert_array_equal(v.magnitude, trace.values["v"])
    np.testing.assert_array_equal(v.array_annotations["neuron"], [1, 3])
    np.testing.assert_allclose(v.times.rescale(pq.ms).magnitude, trace.time_ms)


def test_unrecorded_nodes_get_no_trains() -> None:
    result = simulate(_project(record=["b"]))
    block = result.to_neo(recorded=["b"])
    assert {st.annotations["population"] for st in block.segments[0].spiketrains} == {"b"}
    # the monitored population keeps its traces in a group of its own
    assert [g.name for g in block.groups] == ["b", "a"]
    assert len(block.groups[1].spiketrains) == 0 and len(block.groups[1].analogsignals) == 2


def test_missing_neo_is_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "neo", None)  # import neo raises ImportError
    with pytest.raises(SpikeStudioError, match=r"spikestudio\[neo\]"):
        simulate(_project()).to_neo()


def test_cli_run_writes_a_nix_file_neo_reads_back(tmp_path: Path) -> None:
    pytest.importorskip("nixio")
    project = tmp_path / "p.json"
    from engine.project import save_project

    save_project(_project(), project)
    out, nix = tmp_path / "out", tmp_path / "run.nix"
    done = subprocess.run([sys.executable, "-m", "engine.cli", "run", str(project), "--quiet",
                           "--out", str(out), "--neo", str(nix)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"wrote {nix}" in done.stdout
    with neo.NixIO(str(nix), mode="ro") as io:
        block = io.read_block()
    spikes = pd.read_csv(out / "spikes.csv")
    trains = _trains_of(block)
    expected = _spikes_of(spikes)
    assert len(trains) == 11 and sum(len(v) for v in trains.values()) == len(spikes)
    for key, times in expected.items():
        np.testing.assert_allclose(trains[key], times, rtol=0, atol=1e-9)
    assert [g.name for g in block.groups] == ["in", "a", "b"]
    assert block.segments[0].analogsignals[0].units == pq.mV


def test_cli_neo_into_missing_folder_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("nixio")
    project = tmp_path / "p.json"
    from engine.project import save_project

    save_project(_project(), project)
    done = subprocess.run([sys.executable, "-m", "engine.cli", "run", str(project), "--quiet",
                           "--neo", str(tmp_path / "no" / "run.nix")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "--neo: folder" in done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------------- Elephant
#: Simulated time per sample for the comparison (long enough for many ISIs, short to run).
DURATION_MS = {"cuba_balanced": 300.0}
FANO_WINDOW_MS = 50.0


def _samples() -> list[Path]:
    return sorted(sample_projects.directory().glob("*.json"))


@pytest.mark.slow
@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.stem)
def test_cv_and_fano_agree_with_elephant(path: Path) -> None:
    stats = pytest.importorskip("elephant.statistics")
    project = load_project(path)
    project.simulation.duration_ms = DURATION_MS.get(path.stem, 1000.0)
    result = simulate(project)
    block = result.to_neo()
    duration = result.duration_ms
    n_win = int(duration // FANO_WINDOW_MS)
    sizes = result.sizes
    ours = neuron_statistics(result.spikes, sizes, duration)
    keys = zip(ours["population"].astype(str), ours["neuron"], strict=True)
    cv_of = dict(zip(keys, ours["cv_isi"], strict=True))
    summary = population_summary(result.spikes, sizes, duration,
                                 fano_window_ms=FANO_WINDOW_MS).set_index("population")
    compared = 0
    for group in block.groups:
        cvs, fanos = [], []
        for st in group.spiketrains:
            our_cv = cv_of[(group.name, st.annotations["neuron"])]
            if len(st) >= 3:
                cv = float(stats.cv(stats.isi(st)))
                assert cv == pytest.approx(our_cv, rel=1e-9, abs=1e-12)
                cvs.append(cv)
                compared += 1
            else:
                assert np.isnan(our_cv)
            # Windows [k w, (k + 1) w): neo's time_slice closes both ends, so each stops half
            # a step early (spikes lie on the dt grid). Elephant's Fano factor divides the
            # population variance (ddof = 0); ours the sample variance (ddof = 1).
            stop = FANO_WINDOW_MS - result.dt_ms / 2
            windows = [st.time_slice(k * FANO_WINDOW_MS * pq.ms,
                                     (k * FANO_WINDOW_MS + stop) * pq.ms) for k in range(n_win)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # windows shorter than the train
                fano = stats.fanofactor(windows)
            if np.isfinite(fano):
                fanos.append(fano * n_win / (n_win - 1))
        row = summary.loc[group.name]
        if cvs:
            assert np.mean(cvs) == pytest.approx(row["cv_isi"], rel=1e-9)
        if fanos:
            assert np.mean(fanos) == pytest.approx(row["fano_factor"], rel=1e-9)
        else:
            assert np.isnan(row["fano_factor"])
    # lif_single_neuron is the teaching example below rheobase: it never fires.
    assert (compared > 0) == (path.stem != "lif_single_neuron")
