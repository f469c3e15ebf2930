"""Run -> raster (issue 18, items 3 and 4): the results are in view after Run without a page
scroll at 1440x900, the wheel over a plot scrolls the page until the plot is clicked, and a
CUBA run (N = 4000, 1 s) reaches the page, raster drawn, within 1.5 s (median of 3)."""

from __future__ import annotations

import os
import statistics

import pytest

CUBA = "Sample: CUBA balanced network"
LAPTOP = {"width": 1440, "height": 900}

# Click Run from page script and wait (every animation frame) until the run state has left
# 'completed' and come back, the status names the run's spikes and the raster's data source
# in the page holds them all: the raster is drawn. Returns the seconds from the click.
RUN_AND_WAIT_JS = r"""
async () => {
  const deep = (sel, root) => {
    root = root || document;
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const h = deep(sel, el.shadowRoot); if (h) return h; }
    }
    return null;
  };
  const points = () => {
    const doc = window.Bokeh && Bokeh.documents && Bokeh.documents[0];
    const plot = doc && [...doc.all_models].find(m => m.renderers && m.renderers.some(
      r => r.glyph && r.glyph.constructor.__name__ === 'ImageRGBA'));
    const r = plot && plot.renderers.find(r => r.glyph.constructor.__name__ === 'Scatter');
    const x = r && (r.data_source.data instanceof Map ? r.data_source.data.get('x')
                                                      : r.data_source.data.x);
    return x ? x.length : -1;
  };
  let left = false;
  const drawn = () => {
    const rs = deep("[data-testid='run-state']"), st = deep("[data-testid='result-status']");
    if (rs && rs.dataset.state !== 'completed') left = true;
    return left && rs.dataset.state === 'completed' && st && st.dataset.status === 'completed'
      && Number(st.dataset.spikes) > 0 && points() === Number(st.dataset.spikes);
  };
  const host = deep('.ss-run');
  const button = host.querySelector('button') || deep('button', host.shadowRoot);
  const t0 = performance.now();
  button.click();
  await new Promise((resolve, reject) => {
    const tick = () => {
      if (drawn()) resolve();
      else if (performance.now() - t0 > 120000) reject(new Error('no raster in 120 s'));
      else requestAnimationFrame(tick);
    };
    tick();
  });
  return (performance.now() - t0) / 1000;
}
"""


def _open_cuba(page) -> None:
    page.get_by_test_id("project-name").wait_for()
    page.locator(".ss-open-select select").select_option(label=CUBA)
    page.locator(".ss-open button").click()
    page.get_by_test_id("project-name").filter(has_text="CUBA").wait_for()


def _set_duration(page, app, wait_until, ms: float) -> None:
    field = page.locator(".ss-runbar .param-duration_ms input").first
    field.fill(f"{ms:g}")
    field.press("Tab")
    wait_until(lambda: app.session.document["simulation"]["duration_ms"] == ms,
               message="the duration reached the server")


def _scroll_top(page) -> float:
    return page.evaluate("() => document.scrollingElement.scrollTop")


def _run(page, app, wait_until) -> None:
    page.locator(".ss-run button").click()
    wait_until(lambda: app.handle is not None and app.handle.done, timeout=120,
               message="the run finished")
    page.locator("[data-testid='run-state'][data-state='completed']").wait_for(timeout=60000)
    page.locator(".ss-raster-status[data-mode='points']").wait_for(timeout=60000)


def test_results_are_in_view_after_run_without_a_scroll(served, goto_app, browser_page,
                                                        wait_until, save_screenshot):
    browser_page.set_viewport_size(LAPTOP)
    page = goto_app(served.url)
    app = served.last
    _open_cuba(page)
    _set_duration(page, app, wait_until, 200.0)
    assert _scroll_top(page) == 0
    _run(page, app, wait_until)
    page.wait_for_timeout(1200)  # the results anchor would have scrolled by now (1 s)
    save_screenshot("results-beside-the-graph")
    assert _scroll_top(page) == 0
    raster = page.locator(".ss-raster-plot").bounding_box()
    graph = page.locator("[data-node-id='exc']").bounding_box()
    # The raster is mostly in the window, and the graph is still in view beside it.
    visible = min(raster["y"] + raster["height"], LAPTOP["height"]) - max(raster["y"], 0)
    assert raster["y"] >= 0 and visible >= 0.6 * raster["height"], raster
    assert 0 <= graph["y"] < LAPTOP["height"] and graph["x"] + graph["width"] <= raster["x"]


def test_the_wheel_over_a_plot_scrolls_the_page_until_the_plot_is_clicked(
        served, goto_app, browser_page, wait_until):
    browser_page.set_viewport_size(LAPTOP)
    page = goto_app(served.url)
    app = served.last
    _open_cuba(page)
    _set_duration(page, app, wait_until, 200.0)
    _run(page, app, wait_until)
    x_range = app.results.raster.x_range
    before = (x_range.start, x_range.end)
    box = page.locator(".ss-raster-plot").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.wheel(0, 200)
    page.wait_for_function("() => document.scrollingElement.scrollTop > 0")
    page.wait_for_timeout(500)  # a zoom would have reached the server by now
    assert (x_range.start, x_range.end) == before  # the page scrolled, the plot did not zoom
    page.evaluate("() => { document.scrollingElement.scrollTop = 0; }")
    box = page.locator(".ss-raster-plot").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)  # makes the plot active (and selects the neuron clicked)
    page.mouse.wheel(0, -200)
    wait_until(lambda: (x_range.end - x_range.start) < before[1] - before[0],
               message="the wheel zoomed the clicked plot")


@pytest.mark.slow
def test_cuba_run_to_raster_drawn_median_under_1_5_s(served, goto_app, browser_page,
                                                     wait_until):
    """Issue 18, item 3: the page's live raster must not slow a run down (CUBA, N = 4000,
    1 s of model time, three runs on a warm page).

    A wall-clock figure means nothing on an oversubscribed machine (load above the cores):
    there the test is skipped, saying so, rather than failing on someone else's load.
    """
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > cores:
        pytest.skip(f"1-minute load {load:.1f} > {cores} cores: timing not measurable")
    page = goto_app(served.url)
    app = served.last
    _open_cuba(page)
    _set_duration(page, app, wait_until, 1000.0)
    _run(page, app, wait_until)  # warm: the first run of a page compiles and lays out
    times = [page.evaluate(RUN_AND_WAIT_JS) for _ in range(3)]
    assert statistics.median(times) < 1.5, times
