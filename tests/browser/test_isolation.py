"""A runaway run fails alone: two browser sessions of one server, one of them hits its limit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.browser.conftest import Served

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parents[2] / "sample_projects"
CAP_MB = 1024


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


@pytest.fixture
def capped_runner(monkeypatch):
    """The server's runner started with an administrator's cap of CAP_MB per run."""
    from workbench import runner

    monkeypatch.setenv(runner.ENV_MAX_MEMORY_MB, str(CAP_MB))
    monkeypatch.setenv(runner.ENV_MAX_SECONDS, "120")
    monkeypatch.setenv(runner.ENV_WORKERS, "2")
    previous = runner._pool
    runner._pool = None
    yield runner
    if runner._pool is not None:
        runner._pool.close()
    runner._pool = previous


def _runaway(tmp_path: Path) -> Path:
    doc = json.loads((SAMPLES / "cuba_balanced.json").read_text())
    doc["name"] = "Runaway"
    doc["network"]["nodes"].append({"id": "runaway", "kind": "encoder", "model": "delta",
                                    "size": 2, "params": {"sample_ms": 1e-6}})
    doc["network"]["projections"].append({"id": "runaway_to_exc", "source": "runaway",
                                          "target": "exc", "weight": 1.0})
    doc["simulation"]["memory_budget_mb"] = 1e6  # the page cannot raise the server's cap
    path = tmp_path / "runaway.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_runaway_session_fails_alone(capped_runner, serve_app, browser_page, ss_browser,
                                       wait_until, tmp_path, monkeypatch, save_screenshot):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    served = Served()
    url = serve_app(served)
    page_a = browser_page
    page_a.goto(url)
    page_a.get_by_test_id("project-name").wait_for()
    app_a = served.apps[-1]
    page_a.locator(".ss-upload input[type='file']").set_input_files(str(_runaway(tmp_path)))
    page_a.get_by_test_id("project-name").filter(has_text="Runaway").wait_for()

    context_b = ss_browser.new_context()
    try:
        page_b = context_b.new_page()
        page_b.goto(url)
        page_b.get_by_test_id("project-name").wait_for()
        app_b = served.apps[-1]
        assert app_b is not app_a
        page_b.locator(".ss-open-select select").select_option(
            label="Sample: CUBA balanced network")
        page_b.locator(".ss-open button").click()
        page_b.get_by_test_id("project-name").filter(has_text="CUBA").wait_for()
        wait_until(lambda: capped_runner._pool is not None
                   and capped_runner._pool.wait_ready(timeout=0),
                   timeout=60, message="both workers warmed up")
        server_rss = _rss_mb()

        page_a.locator(".ss-run button").click()
        page_b.locator(".ss-run button").click()
        wait_until(lambda: app_a.run_bar.handle is not None and app_a.run_bar.handle.done
                   and app_b.run_bar.handle is not None and app_b.run_bar.handle.done,
                   timeout=120, message="both runs finished")

        # A: a clear message about the memory cap (the run stopped at it, or an engine that
        # generates the input lazily ran it within the cap and says so), no traceback.
        message = page_a.get_by_test_id("message").filter(
            has_text=re.compile("memory", re.IGNORECASE))
        message.wait_for()
        assert message.get_attribute("data-level") in ("error", "warning")
        assert f"{CAP_MB:,} MB" in message.inner_text()  # the server's cap, not the project's
        assert "Traceback" not in page_a.content()
        save_screenshot("runaway")
        # B: completed with its spikes shown.
        status = page_b.locator("[data-testid='result-status'][data-status='completed']")
        status.wait_for()
        spikes_b = app_b.run_bar.handle.result.spikes
        assert int(status.get_attribute("data-spikes")) == len(spikes_b) > 0
        # The server never held the runaway's memory.
        assert _rss_mb() - server_rss < 150
        # A's session runs again once the project is fixed.
        from workbench import edits

        app_a.edit(edits.delete, "node", "runaway")
        page_a.locator(".ss-run button").click()
        page_a.locator("[data-testid='result-status'][data-status='completed']").wait_for(
            timeout=60_000)
    finally:
        context_b.close()
