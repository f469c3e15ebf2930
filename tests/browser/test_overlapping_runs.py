"""Overlapping runs in many tabs: every page ends up showing its own complete raster.

Ten browser contexts (one session each) open the CUBA sample on one ``spikestudio serve``
server, each with a seed of its own, and Run is clicked in all of them within a second. Each
page must then hold, in its own BokehJS document, the whole raster of its own run: its status
line reports the engine's spike count for its seed, the raster's data source holds that many
points and the time axis spans the run, with no BokehJS "reference ... isn't known" error
(the symptom of a document patch that refers to a model the page has not received). A second
round of Runs in the same pages must end the same way.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import _LOCAL_WS, VIEWPORT, BrowserGuard, spikestudio_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = 10
TRIALS = 3
RUNS_PER_TRIAL = 2  # a second Run in the same pages must also end complete
SEED0 = 100          # page k runs seed SEED0 + k, so each page has results of its own
DURATION_MS = 1000.0
ROOT = Path(__file__).resolve().parents[2]

# What the browser holds: the raster's points source and x range, found in the page's own
# Bokeh document (the plot with an image_rgba renderer, as in bench/ui.py).
RASTER_STATE_JS = r"""
() => {
  const doc = window.Bokeh && Bokeh.documents[0];
  if (!doc) return null;
  const name = (r) => r.glyph ? r.glyph.constructor.__name__ : '';
  const plot = [...doc.all_models].find(m => m.x_range && m.renderers &&
                                        m.renderers.some(r => name(r) === 'ImageRGBA'));
  if (!plot) return null;
  const points = plot.renderers.find(r => name(r) === 'Scatter').data_source.data;
  const x = points instanceof Map ? points.get('x') : points.x;
  return {points: x.length, start: plot.x_range.start, end: plot.x_range.end,
          last: x.length ? Number(x[x.length - 1]) : null};
}
"""

# Finds the Run button (inside Panel's shadow roots) ahead of time, so that arming the click
# is cheap.
FIND_RUN_JS = r"""
() => {
  const find = (root) => {
    const hit = root.querySelector('.ss-run');
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const h = find(el.shadowRoot); if (h) return h; }
    }
    return null;
  };
  const host = find(document);
  window.__ssRun = host.querySelector('button') || host.shadowRoot.querySelector('button');
}
"""
# Clicks Run at the epoch time ``at`` (ms). Every page shares the machine's clock, so the
# clicks land together however slowly Playwright reaches each page (no wall-clock assert: on
# a loaded machine a renderer may fire its timer late; the runs still overlap).
CLICK_RUN_AT_JS = r"""
(at) => {
  setTimeout(() => window.__ssRun.click(),
             Math.max(0, at - Date.now()));
}
"""


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory) -> Iterator[str]:
    """``spikestudio serve`` in its own process (as a class runs it), on 127.0.0.1.

    The race needs the real server: served in-process by the test harness, sharing its
    interpreter with Playwright's client, the interleaving never showed in our trials.
    """
    with spikestudio_server(tmp_path_factory.mktemp("home")) as (url, _):
        yield url


@pytest.fixture(scope="module")
def expected_spikes() -> dict[int, int]:
    """Seed -> spike count of the CUBA sample, from the engine (each page runs its own seed)."""
    from engine.project import load_project
    from engine.simulator import simulate

    project = load_project(ROOT / "sample_projects" / "cuba_balanced.json")
    out = {}
    for round_ in range(RUNS_PER_TRIAL):
        for k in range(PAGES):
            seed = _seed(round_, k)
            run = dataclasses.replace(project, simulation=dataclasses.replace(
                project.simulation, seed=seed, duration_ms=DURATION_MS))
            out[seed] = len(simulate(run).spikes)
            # A page's next result must be told apart from its last one by its count.
            assert round_ == 0 or out[seed] != out[_seed(round_ - 1, k)]
    return out


def _seed(round_: int, page: int) -> int:
    return SEED0 + round_ * PAGES + page


def _open_page(browser: Any, url: str) -> tuple[Any, BrowserGuard]:
    guard = BrowserGuard([])
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.route("**/*", guard.route)
    context.route_web_socket(_LOCAL_WS, guard.route_ws)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("console", guard.on_console)
    page.on("pageerror", guard.on_page_error)
    page.goto(url)
    page.locator(".ss-open-select select").select_option(label="Sample: CUBA balanced network")
    page.locator(".ss-open button").click()
    page.get_by_test_id("project-name").filter(has_text="CUBA").wait_for()
    return page, guard


def _set_seed(page: Any, seed: int) -> None:
    # The edit travels on the page's websocket before the later Run click, and the server
    # handles a session's messages in order; a wrong seed would show as a wrong count.
    field = page.locator(".ss-runbar .param-seed input").first
    field.fill(str(seed))
    field.press("Tab")


def _check_page(page: Any, guard: BrowserGuard, spikes: int) -> list[str]:
    """Problems of one page: console errors, or a raster that is not its own complete run."""
    problems = []
    status = page.locator(f"[data-testid='result-status'][data-status='completed']"
                          f"[data-spikes='{spikes}']")
    try:
        status.wait_for(timeout=180_000)
        # Bounded wait for the page to hold the complete raster; a lost patch never does.
        page.wait_for_function(
            f"() => {{ const s = ({RASTER_STATE_JS})(); return s && s.points === {spikes} "
            f"&& s.start === 0 && s.end === {DURATION_MS}; }}", timeout=20_000)
    except Exception as exc:  # noqa: BLE001 - reported with the page's state below
        shown = page.get_by_test_id("result-status").get_attribute("data-spikes")
        problems.append(f"raster {page.evaluate(RASTER_STATE_JS)}, status {shown} spikes, "
                        f"expected {spikes} ({type(exc).__name__})")
    problems += [f"console: {m}" for m in guard.console_errors]
    problems += [f"page error: {m}" for m in guard.page_errors]
    return problems


@pytest.mark.parametrize("trial", range(TRIALS))
def test_overlapping_runs_each_page_shows_its_complete_raster(cli_server, ss_browser,
                                                               expected_spikes, trial):
    pages, guards = [], []
    try:
        for _ in range(PAGES):
            page, guard = _open_page(ss_browser, cli_server)
            pages.append(page)
            guards.append(guard)
        for round_ in range(RUNS_PER_TRIAL):
            seeds = [_seed(round_, k) for k in range(PAGES)]
            for page, seed in zip(pages, seeds, strict=True):
                _set_seed(page, seed)
            for page in pages:
                page.evaluate(FIND_RUN_JS)
            # A margin for arming every page, even on a loaded machine.
            at = time.time() * 1000 + 2000 + 500 * PAGES
            for page in pages:
                page.evaluate(CLICK_RUN_AT_JS, at)
            problems = []
            for k, (page, guard, seed) in enumerate(zip(pages, guards, seeds, strict=True)):
                problems += [f"page {k}, run {round_ + 1}: {p}"
                             for p in _check_page(page, guard, expected_spikes[seed])]
            assert not problems, "\n".join(problems)
    finally:
        for page in pages:
            page.context.close()
