"""Issue 18 (2): paused runs hold no worker.

On a ``spikestudio serve --workers 2`` server, two pages run a long CUBA and pause: each
says "Paused at t = ..." (not "drawn live"). A third page's Run must then complete within
30 s, although both workers were taken by the paused runs before (a paused run is saved to a
checkpoint and its worker freed). Continued, the paused runs end with exactly the spikes of
an uninterrupted run.

The two runs pause at a breakpoint (a rate window), not from the Pause button: on a loaded
machine a page drawing a live raster can take tens of seconds to send a click, and a run can
end before its Pause arrives (tests/browser/test_pause_step.py covers the button).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import spikestudio_server
from tests.browser.test_overlapping_runs import _open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LONG_MS = 10_000.0  # the paused pages' runs
WINDOW_MS = 200.0   # they pause once the first window of this length has been simulated
THIRD_S = 30.0     # issue 18: the third page's Run completes within this


@pytest.fixture(scope="module")
def two_worker_server(tmp_path_factory) -> Iterator[str]:
    """``spikestudio serve --workers 2`` in its own process, on 127.0.0.1."""
    with spikestudio_server(tmp_path_factory.mktemp("home"), "--workers", "2") as (url, _):
        yield url


def _expected_spikes(duration_ms: float) -> int:
    from engine.project import load_project
    from engine.simulator import simulate

    project = load_project(ROOT / "sample_projects" / "cuba_balanced.json")
    return len(simulate(dataclasses.replace(project, simulation=dataclasses.replace(
        project.simulation, duration_ms=duration_ms))).spikes)


def _set_duration(page, ms: float) -> None:
    # The edit travels on the page's websocket before the later Run click, and the server
    # handles a session's messages in order.
    field = page.locator(".ss-runbar .param-duration_ms input").first
    field.fill(f"{ms:g}")
    field.press("Tab")


def _set_breakpoint(page, kind: str, values: tuple = ()) -> None:
    page.locator(".ss-break-kind select").select_option(label=kind)
    for selector, value in zip((".ss-break-target", ".ss-break-a", ".ss-break-b"), values,
                               strict=False):
        field = page.locator(f"{selector} input")
        field.fill(str(value))
        field.press("Tab")


def _state(page, state: str):
    return page.locator(f"[data-testid='run-state'][data-state='{state}']")


def test_two_paused_pages_leave_the_workers_to_a_third(two_worker_server, ss_browser):
    expected = _expected_spikes(LONG_MS)
    pages = []
    try:
        for _ in range(3):
            page, _guard = _open_page(ss_browser, two_worker_server)
            pages.append(page)
        paused, third = pages[:2], pages[2]
        for page in paused:
            _set_duration(page, LONG_MS)
            _set_breakpoint(page, "rate above", ("exc", 1, WINDOW_MS))
            page.locator(".ss-run button").click()
        for page in paused:
            _state(page, "paused").wait_for(timeout=180_000)
            assert page.get_by_test_id("run-state").inner_text().startswith(
                f"Paused at t = {WINDOW_MS - 0.1:g} of {LONG_MS:g} ms")
            status = page.get_by_test_id("result-status")
            assert status.get_attribute("data-status") == "paused"
            assert "drawn live" not in status.inner_text()

        third.locator(".ss-run button").click()
        started = time.monotonic()
        # Before, it waited for "a free worker" until a pause timed out after 300 s.
        third.locator("[data-testid='result-status'][data-status='completed']").wait_for(
            timeout=THIRD_S * 1000)
        print(f"\nthird page's Run completed {time.monotonic() - started:.1f} s after the "
              f"click (load {os.getloadavg()[0]:.1f})")

        for page in paused:  # still paused, then continued on whichever worker is free
            assert _state(page, "paused").count() == 1
            _set_breakpoint(page, "(no breakpoint)")
            page.locator(".ss-continue button").click()
        for page in paused:
            page.locator(f"[data-testid='result-status'][data-status='completed']"
                         f"[data-spikes='{expected}']").wait_for(timeout=300_000)
    finally:
        for page in pages:
            page.context.close()
