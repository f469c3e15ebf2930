"""The workbench's runner: simulations in worker processes under the server's limits.

A run that exhausts memory, crashes or is killed fails alone: the other worker's run completes,
the failed worker is replaced, and the server process never holds a run's network.
"""

from __future__ import annotations

import copy
import json
import os
import queue
import re
import signal
import time
from pathlib import Path

import pytest

from engine.core.limits import RunLimits
from workbench import runner
from workbench.runner import RunHandle, WorkerPool

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"
CAP_MB = 1024.0


def cuba(duration_ms: float = 200.0, scale: int = 1) -> dict:
    doc = json.loads((SAMPLES / "cuba_balanced.json").read_text())
    doc["simulation"]["duration_ms"] = duration_ms
    for node in doc["network"]["nodes"]:
        if node["kind"] == "population":
            node["size"] *= scale
    return doc


def long_cuba() -> dict:
    """Ten minutes of model time (runs until stopped) that fits the cap: no traces, 10 ms bins."""
    doc = cuba(600_000.0)
    doc["network"]["nodes"] = [n for n in doc["network"]["nodes"] if n["kind"] != "monitor"]
    doc["simulation"]["count_bin_ms"] = 10.0
    return doc


def runaway() -> dict:
    """CUBA plus a delta encoder sampled every 1e-6 ms into exc: billions of samples."""
    doc = cuba(1000.0)
    doc["network"]["nodes"].append({"id": "runaway", "kind": "encoder", "model": "delta",
                                    "size": 2, "params": {"sample_ms": 1e-6}})
    doc["network"]["projections"].append({"id": "runaway_to_exc", "source": "runaway",
                                          "target": "exc", "weight": 1.0})
    # The page cannot raise the server's cap: a project budget above it is lowered to it.
    doc["simulation"]["memory_budget_mb"] = 1e6
    return doc


def wait(predicate, timeout: float = 60.0, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s: {message}")
        time.sleep(0.02)


def finish(handle: RunHandle, timeout: float = 60.0) -> RunHandle:
    wait(lambda: handle.done, timeout, "run finished")
    return handle


def hit_memory_limit(handle: RunHandle) -> bool:
    """Stopped for memory: by the engine's own check (status or message) or by the OS limit."""
    if handle.result is not None and handle.result.status != "completed":
        return handle.result.status == "memory_limit"
    return handle.result is None and "memory" in (handle.error or "").lower()


def rss_mb(pid: int | str = "self") -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(workers=2, limits=RunLimits(max_memory_mb=CAP_MB, max_wall_s=120.0))
    # A cold numba cache (a fresh checkout) compiles for up to a minute: not part of any test.
    assert p.wait_ready(timeout=600)
    yield p
    p.close()


def test_a_run_in_the_pool_gives_the_same_spikes_as_in_process(pool):
    from engine.project import Project
    from engine.simulator import simulate

    handle = finish(pool.submit(cuba()))
    assert handle.error is None and handle.result.status == "completed"
    assert handle.worker_pid in pool.worker_pids() and handle.worker_pid != os.getpid()
    expected = simulate(Project.from_dict(cuba()))
    assert len(expected.spikes) > 1000
    got = handle.result.spikes
    assert got["time_ms"].tolist() == expected.spikes["time_ms"].tolist()
    assert got["neuron"].tolist() == expected.spikes["neuron"].tolist()
    assert got["population"].astype(str).tolist() == \
        expected.spikes["population"].astype(str).tolist()
    assert handle.progress is None or handle.progress.t_ms <= 200.0


def test_a_neuron_probe_runs_in_a_worker_and_equals_the_monitor(pool):
    """Issue 13 (5): a neuron's traces are recorded again in a worker, not in the server."""
    from engine.errors import SpikeStudioError

    run = finish(pool.submit(cuba()))
    probe = runner.probe(cuba(), "exc", 2, run.result.duration_ms, pool_=pool)
    recorded = run.result.traces["exc_v"]
    for var, values in recorded.values.items():
        assert probe.traces.values[var][:, 0].tolist() == values[:, 2].tolist(), var
    assert len(probe.incoming) > 0 and set(probe.incoming["source"]) == {"exc", "inh"}
    with pytest.raises(SpikeStudioError, match="^neuron: 'exc' has neurons 0 to 3199"):
        runner.probe(cuba(), "exc", 3200, 200.0, pool_=pool)


def test_stop_while_queued_and_while_simulating(pool):
    long_runs = [pool.submit(long_cuba()) for _ in range(2)]
    wait(lambda: all(h.state == "running" and h.progress is not None for h in long_runs),
         message="both workers simulating")
    queued = pool.submit(cuba())
    time.sleep(0.3)
    assert queued.state == "queued"
    queued.stop()
    assert queued.done and queued.result is None
    assert "cancelled before it started" in queued.error
    pids = pool.worker_pids()
    for h in long_runs:
        h.stop()
    for h in long_runs:
        finish(h, timeout=30)
        assert h.error is None
        assert h.result.status == "cancelled"
        assert 0 < h.result.duration_ms < 600_000.0  # keeps what was simulated
    # Both workers stopped by themselves (none was replaced) and run the next project.
    assert finish(pool.submit(cuba(50.0))).result.status == "completed"
    assert pool.worker_pids() == pids


@pytest.mark.slow
def test_stop_during_build(pool):
    big = pool.submit(cuba(1000.0, scale=8))  # 20M synapses: seconds of building
    wait(lambda: big.state == "running", message="run started")
    assert big.progress is None  # still building
    t0 = time.monotonic()
    big.stop()
    finish(big, timeout=runner.CANCEL_GRACE_S + 10)
    assert time.monotonic() - t0 < runner.CANCEL_GRACE_S + 5
    stopped_with_results = big.result is not None and big.result.status == "cancelled"
    assert stopped_with_results or "Run stopped" in big.error
    assert finish(pool.submit(cuba(50.0))).result.status == "completed"


@pytest.mark.slow
def test_a_runaway_run_fails_alone(pool):
    import engine.core.results  # noqa: F401 - loaded in a server anyway (unpickling results)

    finish(pool.submit(cuba(10.0)))
    server_rss = rss_mb()
    bad = pool.submit(runaway())
    good = pool.submit(cuba(1000.0))
    finish(bad, timeout=120)
    finish(good, timeout=120)
    # An engine that generates the input lazily completes it under the cap (saying so); one
    # that allocates billions of samples hits the worker's OS limit. Never a crash.
    handled = bad.error is None and bad.result.status == "completed"
    assert handled or hit_memory_limit(bad), (bad.error, bad.result)
    assert f"{CAP_MB:,.0f} MB" in " ".join([bad.error or "", *getattr(bad.result, "messages",
                                                                       [])])
    assert good.error is None and good.result.status == "completed"
    assert len(good.result.spikes) > 10_000
    assert rss_mb() - server_rss < 100  # the runaway's memory never touched the server
    # The worker that hit its limit keeps serving.
    again = [pool.submit(cuba(50.0)) for _ in range(2)]
    assert all(finish(h).result.status == "completed" for h in again)


@pytest.mark.slow
def test_a_killed_worker_reports_it_and_is_replaced(pool):
    victim = pool.submit(long_cuba())
    other = pool.submit(cuba(2000.0))
    wait(lambda: victim.state == "running" and victim.progress is not None,
         message="victim simulating")
    os.kill(victim.worker_pid, signal.SIGKILL)
    finish(victim, timeout=10)
    assert victim.result is None  # not a live run: nothing streamed to keep
    assert "killed by signal 9, SIGKILL" in victim.error
    assert "not by the memory cap" in victim.error and "most likely" not in victim.error
    assert finish(other).result.status == "completed"
    after = finish(pool.submit(cuba(50.0)))
    assert after.error is None and after.result.status == "completed"
    wait(lambda: None not in pool.worker_pids() and victim.worker_pid not in pool.worker_pids(),
         message="worker replaced")


def test_a_worker_that_died_while_idle_is_replaced_before_the_next_run():
    single = WorkerPool(workers=1, limits=RunLimits(max_memory_mb=CAP_MB, max_wall_s=60.0))
    try:
        first = finish(single.submit(cuba(20.0)))
        assert first.error is None
        os.kill(first.worker_pid, signal.SIGKILL)
        time.sleep(0.5)
        second = finish(single.submit(cuba(20.0)))
        assert second.error is None and second.result.status == "completed"
        assert second.worker_pid != first.worker_pid
    finally:
        single.close()


def test_a_crashing_worker_reports_a_crash(pool):
    victim = pool.submit(long_cuba())
    wait(lambda: victim.state == "running", message="victim started")
    os.kill(victim.worker_pid, signal.SIGSEGV)
    finish(victim, timeout=10)
    assert "crashed" in victim.error and "signal 11, SIGSEGV" in victim.error
    assert finish(pool.submit(cuba(50.0))).result.status == "completed"


@pytest.mark.slow
def test_a_killed_live_run_keeps_the_spikes_it_streamed(pool):
    victim = pool.submit(long_cuba(), debug={"breakpoints": [], "live": True})
    wait(lambda: len(victim.live) >= 3 and victim.progress is not None,
         message="live spikes streamed")
    os.kill(victim.worker_pid, signal.SIGKILL)
    finish(victim, timeout=10)
    assert "signal 9, SIGKILL" in victim.error
    partial = victim.result
    assert partial is not None and partial.status == "cancelled"
    assert partial.messages[-1] == victim.error
    streamed, _ = victim.live_spikes()
    assert len(partial.spikes) == len(streamed) > 0
    assert list(partial.spikes["population"].cat.categories) == list(partial.node_info["node"])
    assert 0 < partial.duration_ms < partial.requested_ms
    assert partial.spikes["time_ms"].max() < partial.duration_ms


@pytest.mark.slow
def test_a_paused_run_outlives_its_worker_and_keeps_its_pause_when_the_next_one_dies():
    # A pool of its own: with one worker, the continued run needs the killed one replaced.
    own = WorkerPool(workers=1, limits=RunLimits(max_memory_mb=CAP_MB, max_wall_s=120.0))
    assert own.wait_ready(timeout=600)
    try:
        _outlive_and_die(own)
    finally:
        own.close()


def _outlive_and_die(pool: WorkerPool) -> None:
    victim = pool.submit(long_cuba(), debug={"breakpoints": []})
    wait(lambda: victim.state == "running" and victim.progress is not None,
         message="victim simulating")
    victim.pause()
    wait(lambda: victim.paused, message="paused")
    paused_ms = victim.result.duration_ms
    # The paused run is on disk: the death of the worker it ran on does not touch it.
    os.kill(victim.worker_pid, signal.SIGTERM)
    victim.resume()
    wait(lambda: victim.state == "running" and victim.progress is not None
         and victim.progress.t_ms > paused_ms,
         message="continued on a new worker")
    # A worker that dies while it continues the run: the run keeps what it had.
    os.kill(victim.worker_pid, signal.SIGTERM)
    finish(victim, timeout=30)
    assert "killed by signal 15, SIGTERM" in victim.error
    assert victim.result.duration_ms >= paused_ms and victim.result.status == "cancelled"
    assert victim.result.breakpoint is None


def _watch(peak_mb: float, limit_mb: float | None, oom_before: int | None = None):
    return runner._DeathWatch(oom_kills=oom_before, peak_bytes=int(peak_mb * 2**20),
                              limit_bytes=None if limit_mb is None else int(limit_mb * 2**20))


def test_the_death_message_names_the_signal_and_blames_memory_only_on_evidence(monkeypatch):
    monkeypatch.setattr(runner, "_oom_kills", lambda: 7)
    far = runner.death_message(-signal.SIGKILL, 1024.0, _watch(2500, 4000, oom_before=7))
    assert "killed by signal 9, SIGKILL after using 2,500 MB" in far
    assert "not by the memory cap" in far and "memory ran out" not in far
    near = runner.death_message(-signal.SIGABRT, 1024.0, _watch(3800, 4000, oom_before=7))
    assert near.startswith("The run was stopped at the memory cap") and "SIGABRT" in near
    assert "1,024 MB per run" in near
    oom = runner.death_message(-signal.SIGKILL, 1024.0, _watch(2500, 4000, oom_before=6))
    assert "out-of-memory killer" in oom and "signal 9, SIGKILL" in oom
    assert "signal 42" in runner.death_message(-42, None, None)
    assert "exit code 3" in runner.death_message(3, 1024.0, _watch(100, None))


def test_the_address_space_of_a_process_is_read_with_its_cap():
    peak, limit = runner._address_space(os.getpid())
    assert peak > 10 * 2**20
    import resource
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    assert limit == (None if soft == resource.RLIM_INFINITY else soft)
    assert runner._address_space(2**22 + 12345) is None  # no such process


@pytest.mark.slow
def test_the_server_does_not_hold_the_network(pool):
    """A run needing hundreds of MB in its worker costs the server only its small result."""
    doc = cuba(20.0, scale=8)
    doc["network"]["nodes"] = [n for n in doc["network"]["nodes"] if n["kind"] != "monitor"]
    finish(pool.submit(cuba(10.0)))  # the server has loaded what unpickling results needs
    server_before = rss_mb()
    handle = pool.submit(doc)
    wait(lambda: handle.state == "running", message="started")
    peak_worker = 0.0
    while not handle.done:
        try:
            peak_worker = max(peak_worker, rss_mb(handle.worker_pid))
        except (FileNotFoundError, AttributeError):
            pass
        time.sleep(0.02)
    assert handle.error is None, handle.error
    assert peak_worker > 200  # the synapses lived in the worker...
    assert rss_mb() - server_before < 40  # ...not in the server


@pytest.mark.slow
def test_wall_time_limit_stops_a_run():
    limited = WorkerPool(workers=1, limits=RunLimits(max_memory_mb=CAP_MB, max_wall_s=1.0))
    try:
        old, runner.WALL_GRACE_S = runner.WALL_GRACE_S, 2.0
        handle = finish(limited.submit(long_cuba()), timeout=60)
        if handle.result is not None:  # the engine enforced it: partial results
            assert handle.result.status == "time_limit"
        else:  # the runner's backstop killed the worker
            assert "took longer than 1 s" in handle.error
        assert finish(limited.submit(cuba(50.0))).result.status == "completed"
    finally:
        runner.WALL_GRACE_S = old
        limited.close()


def test_server_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(runner.ENV_WORKERS, "3")
    monkeypatch.setenv(runner.ENV_MAX_MEMORY_MB, "512")
    monkeypatch.setenv(runner.ENV_MAX_SECONDS, "30")
    monkeypatch.setenv(runner.ENV_MAX_THREADS, "2")
    assert runner.server_config() == (3, RunLimits(max_memory_mb=512.0, max_wall_s=30.0,
                                                   max_threads=2))
    monkeypatch.setenv(runner.ENV_MAX_MEMORY_MB, "lots")
    monkeypatch.setenv(runner.ENV_MAX_SECONDS, "-1")
    monkeypatch.setenv(runner.ENV_MAX_THREADS, "0")
    workers, limits = runner.server_config()
    assert limits == RunLimits.for_server(3)


def test_serve_passes_its_caps_to_the_server(monkeypatch):
    from workbench import cli

    calls = []
    # serve becomes the server with os.execve (patching execv would start a real server).
    monkeypatch.setattr(os, "execve", lambda exe, argv, env: calls.append(argv))
    for name in (runner.ENV_WORKERS, runner.ENV_MAX_MEMORY_MB, runner.ENV_MAX_SECONDS,
                 runner.ENV_MAX_THREADS):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["serve", "--workers", "2", "--max-run-memory-mb", "700",
                     "--max-run-seconds", "45"]) == 0
    assert calls and os.environ[runner.ENV_MAX_MEMORY_MB] == "700"
    # One thread per run unless the server allows more (the workers share the cores).
    assert runner.server_config() == (2, RunLimits(max_memory_mb=700.0, max_wall_s=45.0,
                                                   max_threads=1))
    assert cli.main(["serve", "--max-run-memory-mb", "0"]) == 2
    assert len(calls) == 1
    assert cli.main(["serve", "--workers", "1", "--max-run-threads", "2"]) == 0
    assert runner.server_config()[1].max_threads == 2
    assert cli.main(["serve", "--max-run-threads", "0"]) == 2
    for name in (runner.ENV_MAX_THREADS, runner.ENV_WORKERS):  # set by serve itself
        monkeypatch.setenv(name, "1")


def test_serve_caps_the_memory_of_a_page(monkeypatch):
    from workbench import cli

    calls = []
    monkeypatch.setattr(os, "execve", lambda exe, argv, env: calls.append(argv))
    monkeypatch.delenv(runner.ENV_MAX_SESSION_MEMORY_MB, raising=False)
    assert runner.session_memory_mb() == runner.default_session_memory_mb() >= 128
    assert cli.main(["serve", "--max-session-memory-mb", "300"]) == 0
    assert runner.session_memory_mb() == 300.0
    # A quarter of it for a result's spikes, less for live spikes (held several times).
    transport = runner.result_transport(Path("/runs/1"), runner.session_memory_mb())
    assert transport["keep_spikes_mb"] == 75.0
    assert transport["live_max_spikes"] == 75 * 2**20 // runner.LIVE_BYTES_PER_SPIKE
    assert runner.result_transport(None, 300.0)["store_dir"] is None
    assert cli.main(["serve", "--max-session-memory-mb", "-5"]) == 2
    assert len(calls) == 1


def test_handle_of_a_document_copy_is_independent(pool):
    doc = cuba(50.0)
    handle = pool.submit(doc)
    before = copy.deepcopy(doc)
    doc["simulation"]["duration_ms"] = 1.0  # editing after Run does not change the run
    assert finish(handle).result.requested_ms == pytest.approx(50.0)
    assert before["simulation"]["duration_ms"] == 50.0


def test_scenarios_run_in_the_pool_like_in_process(pool):
    import threading
    from dataclasses import replace
    from functools import partial

    from engine.evaluation.scenario_fit import run_scenarios
    from tests.test_scenarios import DENSE, SPARSE, tiny_project

    in_pool = run_scenarios(tiny_project(), [SPARSE, DENSE],
                            simulate=partial(runner.simulate, pool_=pool))
    local = run_scenarios(tiny_project(), [SPARSE, DENSE])
    for sid in ("sparse", "dense"):
        assert in_pool.runs[sid].status == "completed"
        assert in_pool.runs[sid].result.spikes.equals(local.runs[sid].result.spikes)
    assert in_pool.measurements().equals(local.measurements())
    # Stop reaches scenarios simulating and those waiting in the pool's queue.
    cancel = threading.Event()
    long = [replace(SPARSE, id=f"long{i}", duration_ms=3e6) for i in range(3)]
    seen = []

    def progress(p) -> None:
        seen.append(p)
        if sum(q.status == "running" and q.fraction > 0 for q in seen) >= 2:
            cancel.set()

    stopped = run_scenarios(tiny_project(), long, cancel=cancel, max_workers=3,
                            progress=progress, simulate=partial(runner.simulate, pool_=pool))
    assert [r.status for r in stopped.runs.values()] == ["cancelled"] * 3, [
        r.error for r in stopped.runs.values()]
    assert sum(r.result is not None for r in stopped.runs.values()) >= 1  # partial results


def test_the_os_memory_limit_is_relative_to_the_workers_size():
    """What the engine cannot foresee still stops at the cap: RLIMIT_AS above the baseline."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from workbench.workers import set_memory_limit, restore_memory_limit\n"
        "old = set_memory_limit(100)\n"
        "small = np.ones(50 * 2**20 // 8)\n"  # fits under the cap
        "try:\n"
        "    np.ones(500 * 2**20 // 8)\n"
        "    print('allocated')\n"
        "except MemoryError:\n"
        "    print('memory error')\n"
        "restore_memory_limit(old)\n"
        "big = np.ones(500 * 2**20 // 8)\n"
        "print('restored')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.split() == ["memory", "error", "restored"], out.stderr


def test_pause_step_continue_in_a_worker_equal_one_run(pool):
    """A paused run is saved to its checkpoint and continued from it: pause, step, continue
    give the one run; a breakpoint pauses it, Stop on a paused run ends it with what it has
    and deletes its checkpoint."""
    import pandas as pd

    from engine.project import Project
    from engine.simulator import simulate

    expected = simulate(Project.from_dict(cuba(300.0)))
    exc = expected.spikes[expected.spikes["population"] == "exc"]
    first_spike = exc.groupby("neuron")["time_ms"].min()
    neuron = int((first_spike - 100.0).abs().idxmin())  # first fires about 100 ms in
    handle = pool.submit(cuba(300.0), debug={"breakpoints": [
        {"kind": "spike", "population": "exc", "neuron": neuron}]})
    wait(lambda: handle.paused, message="paused at the breakpoint")
    first = handle.result
    assert first.status == "paused" and first.breakpoint["kind"] == "spike"
    assert (first.breakpoint["population"], first.breakpoint["neuron"]) == ("exc", neuron)
    assert first.duration_ms == pytest.approx(first_spike[neuron])
    handle.resume(0.1, breakpoints=[])  # one dt
    wait(lambda: handle.pauses == 2 or handle.done, message="stepped")
    assert handle.paused and handle.result.duration_ms == pytest.approx(
        first.duration_ms + 0.1)
    handle.resume(None)
    finish(handle)
    assert handle.error is None and handle.result.status == "completed"
    pd.testing.assert_frame_equal(handle.result.spikes, expected.spikes)
    pd.testing.assert_frame_equal(handle.result.counts, expected.counts)

    stopped = pool.submit(long_cuba(), debug={})
    wait(lambda: stopped.state == "running" and stopped.progress is not None,
         message="running")
    stopped.pause()
    wait(lambda: stopped.paused, message="paused on request")
    assert stopped.result.status == "paused" and stopped.result.breakpoint is None
    at = stopped.result.duration_ms
    assert stopped.checkpoint.is_file()
    stopped.stop()
    finish(stopped, timeout=30)
    assert stopped.result.status == "cancelled" and stopped.result.duration_ms == at
    assert not stopped.checkpoint.exists()


def test_a_paused_run_frees_its_worker_and_continues_exactly_elsewhere(tmp_path):
    """With one worker, a paused run lets another run complete; continued from its checkpoint
    (a worker holding nothing of it), it gives the spikes of an uninterrupted run."""
    import pandas as pd

    from engine.project import Project
    from engine.simulator import simulate

    expected = simulate(Project.from_dict(cuba(300.0)))
    single = WorkerPool(workers=1, limits=RunLimits(max_memory_mb=CAP_MB, max_wall_s=120.0))
    try:
        assert single.wait_ready(timeout=600)
        paused = single.submit(cuba(300.0), owner="a", debug={
            "checkpoint_dir": str(tmp_path), "live": True, "breakpoints": [
                {"kind": "rate_above", "population": "exc", "rate_hz": 0.0,
                 "window_ms": 50.0}]})
        wait(lambda: paused.paused, message="paused at the breakpoint")
        assert paused.checkpoint.parent == tmp_path and paused.checkpoint.is_file()
        other = finish(single.submit(cuba(50.0), owner="b"))  # the only worker is free
        assert other.error is None and other.result.status == "completed"
        at = paused.result.duration_ms
        assert paused.result.breakpoint["kind"] == "rate_above" and 0 < at < 300.0
        paused.resume(20.0)  # a step, then the rest
        wait(lambda: paused.pauses == 2 or paused.done, message="stepped")
        assert paused.paused and paused.result.duration_ms == pytest.approx(at + 20.0)
        paused.resume(None)
        finish(paused)
        assert paused.error is None and paused.result.status == "completed"
        pd.testing.assert_frame_equal(paused.result.spikes, expected.spikes)
        pd.testing.assert_frame_equal(paused.result.counts, expected.counts)
        assert list(tmp_path.iterdir()) == []  # the checkpoint went with the run
        # The live spikes streamed over the three turns are the run's, each once and in order
        # (a prefix: what ran after the last progress message arrives with the result only).
        live, _ = paused.live_spikes()
        pd.testing.assert_frame_equal(live, expected.spikes.iloc[:len(live)],
                                      check_categorical=False)
    finally:
        single.close()


def test_fair_queue_serves_owners_in_turn():
    from workbench.runner import FairQueue

    jobs = FairQueue()
    for i in range(4):
        jobs.put(f"a{i}", "alice")
    jobs.put("b0", "bob")
    jobs.put("b1", "bob")
    jobs.put("c0", "carol")
    order = [jobs.get() for _ in range(7)]
    assert order == ["a0", "b0", "c0", "a1", "b1", "a2", "a3"]
    with pytest.raises(queue.Empty):
        jobs.get_nowait()


def test_one_users_queued_runs_do_not_starve_anothers():
    """One worker busy; alice queues four runs, then bob one: bob's runs second, not last."""
    single = WorkerPool(workers=1, limits=RunLimits(max_memory_mb=CAP_MB, max_wall_s=120.0))
    try:
        assert single.wait_ready(timeout=600)
        blocker = single.submit(long_cuba(), owner="carol")
        wait(lambda: blocker.state == "running", message="the worker is busy")
        alice = [single.submit(cuba(20.0), owner="alice") for _ in range(4)]
        bob = single.submit(cuba(20.0), owner="bob")
        blocker.stop()
        finished: list[str] = []
        named = {id(h): f"alice{i}" for i, h in enumerate(alice)} | {id(bob): "bob"}
        while len(finished) < 5:
            for handle in [*alice, bob]:
                if handle.done and named[id(handle)] not in finished:
                    finished.append(named[id(handle)])
            time.sleep(0.002)
        assert finished.index("bob") <= 1, finished
        assert all(h.error is None for h in [*alice, bob])
    finally:
        single.close()
