"""Resource limits a project cannot raise (issue 8): memory estimate, stops, cancel, CLI."""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.cli import main
from engine.core.build import build, estimate_memory
from engine.core.limits import RunLimits, RunStopped, StopCheck, machine_memory_mb, memory_budget
from engine.core.warmup import warm_up
from engine.encoders import _delta_events, time_index
from engine.errors import MemoryBudgetError
from engine.project import Project
from engine.simulator import simulate
from tests.helpers import connection, document, encoder, lif

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_projects"
MB = 2**20


def _cuba_doc() -> dict:
    return json.loads((SAMPLES / "cuba_balanced.json").read_text())


def _with_encoder(node: dict, weight: float = 1.0, rule: str = "all_to_all", **conn) -> Project:
    doc = _cuba_doc()
    doc["network"]["nodes"].append(node)
    doc["network"]["projections"].append(
        {"id": "drive", "source": node["id"], "target": "exc",
         "connectivity": {"rule": rule, **conn}, "weight": weight, "delay_ms": 0.0})
    return Project.from_dict(doc)


def _saturated_doc(duration_ms: float) -> dict:
    """10k LIF neurons firing every step, plus an all-to-all 1000 x 1000 projection."""
    return document([lif("a", 10_000, i_offset=1000.0, t_ref=0.0), lif("b", 1000),
                     lif("c", 1000)],
                    [connection("bc", "b", "c"),
                     connection("ab", "a", "b", rule="fixed_probability",
                                connectivity={"p": 0.001})],
                    duration_ms=duration_ms)


# ---------------------------------------------------------------------- budget and cap
def test_project_budget_only_lowers_the_cap():
    budget, source = memory_budget(1e6, RunLimits(max_memory_mb=1000.0))
    assert budget == 1000.0 and "administrator's cap of 1,000 MB" in source
    assert memory_budget(500.0, RunLimits(max_memory_mb=1000.0))[0] == 500.0
    # Without an administrator, a budget beyond this machine's memory means the machine's.
    assert memory_budget(1e12, None)[0] == pytest.approx(machine_memory_mb())


def test_huge_project_budget_runs_under_the_cap_and_says_so():
    doc = _cuba_doc()
    doc["simulation"].update(memory_budget_mb=1e6, duration_ms=100.0)
    project = Project.from_dict(doc)
    limits = RunLimits(max_memory_mb=300.0)
    assert estimate_memory(project, limits).budget_mb == 300.0
    result = simulate(project, limits=limits)
    assert result.status == "completed"
    assert any("administrator's cap of 300 MB" in m for m in result.messages)


def test_refusal_names_the_limit_that_applied():
    doc = _cuba_doc()
    doc["network"]["nodes"][0]["size"] = 20_000
    doc["network"]["projections"][0]["connectivity"] = {"rule": "all_to_all"}
    doc["simulation"]["memory_budget_mb"] = 1e6
    project = Project.from_dict(doc)
    start = time.perf_counter()
    with pytest.raises(MemoryBudgetError, match=r"administrator's cap of 2,000 MB.*"
                                                 r"synapses of exc_to_exc"):
        simulate(project, limits=RunLimits(max_memory_mb=2000.0))
    assert time.perf_counter() - start < 1.0  # refused before allocating


# ---------------------------------------------------------------------- the cases
def test_exc_20000_all_to_all_estimate_covers_the_build_peak():
    """Issue: estimate 3,058 MB, real peak 9.4 GB. The estimate now counts the build."""
    doc = _cuba_doc()
    doc["network"]["nodes"][0]["size"] = 20_000
    doc["network"]["projections"][0]["connectivity"] = {"rule": "all_to_all"}
    project = Project.from_dict(doc)
    assert estimate_memory(project).total > 9.0 * 1024 * MB
    with pytest.raises(MemoryBudgetError, match="memory_budget_mb"):
        simulate(project)


def test_delta_encoder_with_tiny_sample_period_is_cheap():
    """Issue: sample_ms 1e-6 took the server past 6 GB. Events now grow with the table."""
    project = _with_encoder({"id": "dl", "kind": "encoder", "model": "delta", "size": 2,
                             "params": {"sample_ms": 1e-6}})
    project.simulation.duration_ms = 200.0
    assert estimate_memory(project).total < 100 * MB
    start = time.perf_counter()
    result = simulate(project)
    assert time.perf_counter() - start < 10.0
    assert result.status == "completed"


def _delta_events_brute_force(values: dict, dt_ms: float, k_end: int):
    """The former implementation: every sample of the signal visited (the reference)."""
    table = np.asarray(values["signal"], dtype=np.float64)
    thr = values["threshold"]
    t = np.arange(0.0, k_end * dt_ms + values["sample_ms"] / 2, values["sample_ms"])
    row = np.searchsorted(table[:, 0], t, side="right") - 1
    signal = np.where(row >= 0, table[np.maximum(row, 0), 1], table[0, 1])
    ks, ns = [], []
    ref = signal[0]
    for ti, value in zip(t[1:], signal[1:], strict=True):
        steps = math.floor(abs(value - ref) / thr)
        if steps >= 1:
            ks.append(ti)
            ns.append(0 if value > ref else 1)
            ref += math.copysign(steps * thr, value - ref)
    return time_index(np.asarray(ks), dt_ms), np.asarray(ns, dtype=np.int32)


def test_delta_events_equal_the_sample_by_sample_definition():
    rng = np.random.default_rng(4)
    n_events = 0
    for _ in range(200):
        times = np.sort(rng.uniform(-5, 60, rng.integers(1, 12)))
        levels = np.where(rng.random(times.size) < 0.5, rng.uniform(-3, 3, times.size),
                          np.round(rng.uniform(-3, 3, times.size), 1))
        values = {"signal": np.column_stack([times, levels]).tolist(),
                  "threshold": float(rng.choice([0.1, 0.25, 0.3, 1.0])),
                  "sample_ms": float(rng.choice([0.1, 0.25, 0.3, 0.7, 1.0]))}
        dt, k_end = float(rng.choice([0.05, 0.1, 0.5])), int(rng.integers(1, 1200))
        k, n = _delta_events(values, dt, k_end)
        k_ref, n_ref = _delta_events_brute_force(values, dt, k_end)
        np.testing.assert_array_equal(k, k_ref)
        np.testing.assert_array_equal(n, n_ref)
        n_events += k.size
    assert n_events > 100  # the comparison saw real events


def test_latency_with_tiny_period_is_refused_before_allocating():
    project = _with_encoder({"id": "lt", "kind": "encoder", "model": "latency", "size": 3,
                             "params": {"period_ms": 1e-6}})
    start = time.perf_counter()
    with pytest.raises(MemoryBudgetError, match="input events of lt"):
        simulate(project)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("model", ["poisson", "regular"])
def test_two_million_sources_at_10_khz_are_refused(model):
    project = _with_encoder({"id": "src", "kind": "encoder", "model": model,
                             "size": 2_000_000, "params": {"rate_hz": 10_000.0}},
                            rule="fixed_indegree", k=1)
    start = time.perf_counter()
    with pytest.raises(MemoryBudgetError, match="input events of src"):
        simulate(project)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("duration_ms", [1000.0, 4000.0])
def test_saturated_network_stops_with_memory_limit(duration_ms):
    """Issue: 4.3 GB for 1 s, 13.4 GB for 4 s. The record is capped: stop, keep the part."""
    project = Project.from_dict(_saturated_doc(duration_ms))
    est = estimate_memory(project)
    start = time.perf_counter()
    result = simulate(project)
    assert time.perf_counter() - start < 10.0
    assert result.status == "memory_limit"
    assert 0 < result.duration_ms < duration_ms
    assert est.record_capacity <= len(result.spikes) <= est.record_capacity + 12_000
    assert est.total < 500 * MB
    assert any("simulation.record_spikes" in m for m in result.messages)
    # The partial result is the start of the run: `a` fired all along (every other step).
    steps = round(result.duration_ms / 0.1)
    assert result.spike_counts()["a"] >= 10_000 * (steps // 2)
    assert result.spikes["time_ms"].max() <= result.duration_ms


def _poisson_drive(duration_ms: float = 300.0, **simulation) -> Project:
    return Project.from_dict(document(
        [encoder("in", "poisson", 5000, rate_hz=500.0), lif("a", 100)],
        [connection("c", "in", "a", 0.5, rule="fixed_indegree", connectivity={"k": 50})],
        duration_ms=duration_ms, **simulation))


def test_nothing_recorded_never_fills_the_record():
    result = simulate(_poisson_drive(record_spikes=[]))
    assert result.status == "completed" and len(result.spikes) == 0
    assert result.counts.groupby("node", observed=True)["spikes"].sum()["in"] > 500_000


def test_chunks_shortened_for_input_events_give_the_same_spikes(monkeypatch):
    import engine.core.stepping as stepping

    full = simulate(_poisson_drive(duration_ms=60.0)).spikes
    monkeypatch.setattr(stepping, "MAX_CHUNK_EVENTS", 600)  # 2-3 steps per kernel call
    short = simulate(_poisson_drive(duration_ms=60.0)).spikes
    assert len(full) > 100_000
    pd.testing.assert_frame_equal(full, short)


def test_long_runs_are_not_refused_the_record_takes_what_is_left():
    doc = _cuba_doc()
    doc["simulation"]["duration_ms"] = 100_000.0
    est = estimate_memory(Project.from_dict(doc), RunLimits(max_memory_mb=1000.0))
    assert est.total <= 1000 * MB
    assert est.record_capacity > 5_000_000  # CUBA fires ~25 k spikes per second


def test_years_of_model_time_are_refused_with_the_item_to_change():
    doc = _cuba_doc()
    doc["simulation"]["duration_ms"] = 1e7
    with pytest.raises(MemoryBudgetError, match="operation counts|traces of exc_v"):
        simulate(Project.from_dict(doc))


# ---------------------------------------------------------------------- time and cancel
def test_wall_time_limit_stops_with_partial_result():
    warm_up()  # the limit counts the build: keep loading compiled code out of it
    doc = _cuba_doc()
    doc["simulation"]["duration_ms"] = 100_000.0
    start = time.perf_counter()
    result = simulate(Project.from_dict(doc), limits=RunLimits(max_memory_mb=1000.0,
                                                               max_wall_s=2.0))
    assert time.perf_counter() - start < 10.0  # 2 s, plus a loaded machine's slack
    assert result.status == "time_limit"
    assert 0 < result.duration_ms < 100_000.0
    assert len(result.spikes) > 0
    assert any("2 s wall time" in m for m in result.messages)


def test_resident_memory_over_the_budget_stops_the_run(monkeypatch):
    """The reality check: if the process grows past the budget anyway, stop cleanly."""
    import engine.core.stepping as stepping

    readings = iter([0] + [10**12] * 1000)  # at the start, then far over any budget
    monkeypatch.setattr(stepping, "rss_bytes", lambda: next(readings))
    doc = _cuba_doc()
    doc["simulation"]["duration_ms"] = 200.0
    result = simulate(Project.from_dict(doc))
    assert result.status == "memory_limit"
    assert result.duration_ms < 200.0
    assert any("more than the memory budget of 4,096 MB" in m for m in result.messages)


def test_time_limit_during_build_returns_an_empty_result():
    project = Project.from_dict(_cuba_doc())
    with pytest.raises(RunStopped, match="longer than the limit") as info:
        build(project, stop=StopCheck(max_wall_s=0.0))
    assert info.value.status == "time_limit"
    result = simulate(project, limits=RunLimits(max_wall_s=0.0))
    assert result.status == "time_limit" and result.duration_ms == 0.0
    assert "while building" in result.messages[0] and "0 s wall time" in result.messages[0]
    assert list(result.spike_counts().index) == ["exc", "inh"]
    assert result.summary()["spikes"].sum() == 0
    assert list(result.network_info["projection"]) == [
        p.id for p in project.network.projections]


def test_cancel_during_a_big_all_to_all_build_returns_within_a_second():
    doc = _cuba_doc()
    doc["network"]["nodes"][0]["size"] = 8000
    doc["network"]["projections"][0]["connectivity"] = {"rule": "all_to_all"}
    project = Project.from_dict(doc)
    cancel = threading.Event()
    outcome: dict = {}

    def run() -> None:
        outcome["result"] = simulate(project, cancel=cancel)
        outcome["t"] = time.perf_counter()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)  # 64 M synapses take well over a second to build
    cancel.set()
    cancelled_at = time.perf_counter()
    thread.join(timeout=10)
    result = outcome["result"]
    assert result.status == "cancelled" and result.duration_ms == 0.0
    assert result.messages[0].startswith("Cancelled while")  # building, not simulating
    assert outcome["t"] - cancelled_at < 1.0


def test_cancel_during_result_assembly_leaves_out_the_rest():
    cancel = threading.Event()
    doc = _cuba_doc()
    doc["simulation"]["duration_ms"] = 50.0

    def progress(p) -> None:
        if p.t_ms >= p.duration_ms:  # the last report: the kernel is done
            cancel.set()

    result = simulate(Project.from_dict(doc), progress=progress, cancel=cancel)
    assert result.status == "cancelled"
    assert result.traces == {} and len(result.spikes) == 0
    assert any("collecting the results" in m for m in result.messages)


# ---------------------------------------------------------------------- CLI
def test_cli_time_limit_writes_partial_output(tmp_path, capsys):
    doc = _cuba_doc()
    doc["simulation"]["duration_ms"] = 100_000.0
    path = tmp_path / "long.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    warm_up()
    code = main(["run", str(path), "--max-seconds", "2", "--max-memory-mb", "1000",
                 "--out", str(out), "--quiet"])
    assert code == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "time_limit"
    assert summary["total_spikes"] == len(pd.read_csv(out / "spikes.csv")) > 0
    assert "wall time" in capsys.readouterr().out


def test_cli_validate_uses_the_same_limits(capsys):
    assert main(["validate", str(SAMPLES / "cuba_balanced.json"),
                 "--max-memory-mb", "2000"]) == 0
    assert "MB of the administrator's cap of 2,000 MB" in capsys.readouterr().out
    # Valid, but `run` would refuse it under this cap: validate says so (and still exits 0:
    # the file itself is fine).
    assert main(["validate", str(SAMPLES / "cuba_balanced.json"), "--max-memory-mb", "5"]) == 0
    captured = capsys.readouterr()
    assert "valid" in captured.out
    assert captured.err.startswith("warning: `run` would refuse this network")
    assert "administrator's cap of 5 MB" in captured.err
    assert main(["run", str(SAMPLES / "cuba_balanced.json"), "--max-memory-mb", "-1"]) == 2
    assert "--max-memory-mb" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_ctrl_c_writes_partial_output_and_exits_130(tmp_path):
    doc = _cuba_doc()
    doc["simulation"]["duration_ms"] = 100_000.0
    path = tmp_path / "long.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "run", str(path),
                             "--max-memory-mb", "1000", "--out", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Progress lines on stderr show the kernel is running; then press Ctrl-C.
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "ms" in line and "%" in line:
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "cancelled"
    assert any("Interrupted (Ctrl-C)" in m for m in summary["messages"])
    assert summary["total_spikes"] == len(pd.read_csv(out / "spikes.csv")) > 0


# ---------------------------------------------------------------------- the memory check
_MEASURE = """
import gc, json, sys
from engine.core.build import build, estimate_memory
from engine.project import Project
from engine.simulator import simulate
from engine.core.warmup import warm_up


def rss_and_peak():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return (int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024)


project = Project.from_dict(json.loads(sys.stdin.read()))
warm_up()
estimate = estimate_memory(project).total
gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
base, _ = rss_and_peak()
result = simulate(project)
_, peak = rss_and_peak()
print(json.dumps({"estimate": estimate, "measured": peak - base, "status": result.status}))
"""


def _memory_networks() -> dict[str, dict]:
    plastic = json.loads((SAMPLES / "stdp_song_abbott.json").read_text())
    plastic["simulation"]["duration_ms"] = 20_000.0
    return {
        "static": _cuba_doc(),
        "plastic": plastic,
        "encoder_heavy": document(
            [encoder("in", "poisson", 100_000, rate_hz=100.0), lif("out", 1000)],
            [connection("p", "in", "out", 0.5, rule="fixed_indegree",
                        connectivity={"k": 20})], duration_ms=1000.0),
        "saturated": _saturated_doc(1000.0),
    }


#: Slack for small networks: fixed reserves that do not scale with what the run does (8 MB
#: working memory, a spike record for at least 100 000 spikes, a record sized for a mean of
#: 100 Hz where CUBA fires about 6 Hz) dominate a run whose arrays take a few MB.
SLACK_MB = 32


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("name", ["static", "plastic", "encoder_heavy", "saturated"])
def test_estimate_bounds_the_measured_peak(name):
    doc = _memory_networks()[name]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _MEASURE], input=json.dumps(doc), env=env,
                         capture_output=True, text=True, timeout=600, check=True)
    r = json.loads(out.stdout)
    measured, estimate = r["measured"], r["estimate"]
    assert estimate >= measured, (name, estimate / MB, measured / MB)
    assert estimate <= 2 * measured + SLACK_MB * MB, (name, estimate / MB, measured / MB)
    assert r["status"] == ("memory_limit" if name == "saturated" else "completed")


def test_memory_networks_are_distinct_kinds():
    """The memory check covers the kinds the issue names (guards against a silent edit)."""
    nets = {k: Project.from_dict(copy.deepcopy(v)) for k, v in _memory_networks().items()}
    assert any(p.plasticity for p in nets["plastic"].network.projections)
    assert estimate_memory(nets["encoder_heavy"]).items["input events of in"] > 50 * MB
    assert not any(p.plasticity for p in nets["static"].network.projections)
