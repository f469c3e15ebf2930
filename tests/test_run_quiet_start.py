"""A short run goes straight to its result; a longer one shows its progress and live raster
(workbench.run_bar.QUIET_START_S)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.progress import Progress


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    from workbench.app import Workbench

    return Workbench(session_id="quiet-start-test")


def _running_handle(monkeypatch):
    from workbench import runner

    handle = runner.RunHandle(duration_ms=1000.0)
    monkeypatch.setattr(runner, "submit", lambda *args, **kwargs: handle)
    return handle


def test_no_progress_nor_live_raster_in_a_runs_first_moments(app, monkeypatch):
    from workbench import run_bar

    handle = _running_handle(monkeypatch)
    live_draws: list[float] = []
    monkeypatch.setattr(app.run_bar.results, "show_live",
                        lambda spikes, t_ms: live_draws.append(t_ms))
    monkeypatch.setattr(run_bar, "QUIET_START_S", 60.0)  # the whole test is "soon after Run"
    app.run_bar.run()
    assert app.run_bar.handle is handle
    waiting = app.run_bar.progress_text.object
    assert "Starting" in waiting  # Run was taken: said at once

    handle.state = "running"
    handle.progress = Progress(t_ms=300.0, duration_ms=1000.0, elapsed_s=0.1, spikes=12)
    handle.live_nodes = ["neuron"]
    handle.live.append((np.array([1.0]), np.array([0]), np.array([0])))
    app.run_bar._poll()
    assert app.run_bar.progress_text.object == waiting and live_draws == []

    app.run_bar._quiet_until = 0.0  # the run is still going after the quiet start
    app.run_bar._poll()
    assert "t = 300.0 / 1,000 ms" in app.run_bar.progress_text.object
    assert live_draws == [300.0]


def test_continue_is_quiet_at_its_start_too(app, monkeypatch):
    from workbench import run_bar

    handle = _running_handle(monkeypatch)
    app.run_bar.run()
    handle.state = "paused"
    monkeypatch.setattr(handle, "resume", lambda ms, breakpoints: None)
    app.run_bar._quiet_until = 0.0
    monkeypatch.setattr(run_bar, "QUIET_START_S", 60.0)
    app.run_bar.resume(None)
    continuing = app.run_bar.progress_text.object
    assert "Continuing" in continuing
    handle.state = "running"
    handle.progress = Progress(t_ms=600.0, duration_ms=1000.0, elapsed_s=0.1, spikes=40)
    app.run_bar._poll()
    assert app.run_bar.progress_text.object == continuing


def test_a_run_that_finds_no_free_worker_says_so_after_the_quiet_start(app, monkeypatch):
    from workbench import run_bar

    handle = _running_handle(monkeypatch)  # queued: every worker is busy
    monkeypatch.setattr(run_bar, "QUIET_START_S", 60.0)
    app.run_bar.run()
    app.run_bar._poll()
    assert "Starting" in app.run_bar.progress_text.object  # not "waiting" while quiet
    app.run_bar._quiet_until = 0.0
    app.run_bar._poll()
    assert "Waiting for a free worker" in app.run_bar.progress_text.object
    handle.state = "running"
    handle.progress = Progress(t_ms=100.0, duration_ms=1000.0, elapsed_s=0.1, spikes=3)
    app.run_bar._poll()
    assert "t = 100.0 / 1,000 ms" in app.run_bar.progress_text.object
