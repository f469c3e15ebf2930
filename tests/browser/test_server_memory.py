"""Issue 18, point 1: a runaway run does not grow the serving process.

``spikestudio serve --max-run-memory-mb 1024 --max-session-memory-mb 256`` serves a class
project of 200,000 LIF neurons that fire every step. Its worker stops at the memory cap with
millions of spikes; they stay in the page's run files on disk (engine.core.spike_store), so the
server's resident memory grows by at most 500 MB while the page runs it and shows the result
(a density raster read from the files), and closing the page removes the files and gives the
memory back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import _LOCAL_WS, VIEWPORT, BrowserGuard, spikestudio_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "tests" / "data" / "runaway_200k.json"
MAX_GROWTH_MB = 500.0


def rss_mb(pid: int) -> float:
    """Resident memory of a process (MB)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory) -> Iterator[tuple[str, int, Path]]:
    """The server, as a class runs it with the caps; (url, server pid, SPIKESTUDIO_HOME)."""
    home = tmp_path_factory.mktemp("home")
    subprocess.run([sys.executable, "-m", "workbench.cli", "publish", str(PROJECT)], cwd=ROOT,
                   env=dict(os.environ, SPIKESTUDIO_HOME=str(home)), check=True,
                   capture_output=True)
    with spikestudio_server(home, "--workers", "1", "--max-run-memory-mb", "1024",
                            "--max-run-seconds", "300",
                            "--max-session-memory-mb", "256") as (url, pid):
        yield url, pid, home


def _run_dirs(home: Path) -> list[Path]:
    return [p for p in home.glob("workspaces/*/runs/*/run-*") if p.is_dir()]


def test_runaway_run_keeps_server_memory_bounded(capped_server, ss_browser):
    url, pid, home = capped_server
    guard = BrowserGuard([])
    context = ss_browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.route("**/*", guard.route)
    context.route_web_socket(_LOCAL_WS, guard.route_ws)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator(".ss-open-select select").select_option(label="Class: Runaway 200k")
    page.locator(".ss-open button").click()
    page.get_by_test_id("project-name").filter(has_text="Runaway").wait_for()
    before = rss_mb(pid)
    page.locator(".ss-run button").click()
    peak = before
    status = page.locator("[data-testid='result-status'][data-status='memory_limit']")
    deadline = time.monotonic() + 400
    while not status.count():
        assert time.monotonic() < deadline, "the runaway run did not end at the memory cap"
        peak = max(peak, rss_mb(pid))
        page.wait_for_timeout(100)  # sampling the server's memory, not waiting on it
    # The result is drawn from the files: a density image of every spike.
    page.get_by_test_id("result-on-disk").wait_for()
    count = page.get_by_test_id("ss-spike-count")
    assert int(count.get_attribute("data-count")) > 1_000_000
    assert page.locator(".ss-raster-status[data-mode='density']").count() == 1
    peak = max(peak, rss_mb(pid))
    assert _run_dirs(home), "the spikes were not kept in the page's run files"
    print(f"\nserver RSS: before {before:.0f} MB, peak {peak:.0f} MB "
          f"(load {os.getloadavg()[0]:.1f})")
    assert peak - before <= MAX_GROWTH_MB, (before, peak)

    context.close()
    # Closing the page removes its run files and hands its results' memory back (Bokeh
    # ends a closed page's session within about a minute).
    deadline = time.monotonic() + 240
    while _run_dirs(home):
        assert time.monotonic() < deadline, "the closed page's run files were not removed"
        time.sleep(0.2)
    after = rss_mb(pid)
    print(f"server RSS after the page closed: {after:.0f} MB")
    assert after - before <= MAX_GROWTH_MB / 2, (before, peak, after)
