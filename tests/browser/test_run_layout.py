"""Run -> raster (issue 18, items 3 and 4): the results are in view after Run without a page
scroll at 1440x900, and the wheel over a plot scrolls the page until the plot is clicked.

How long Run -> raster drawn takes is measured by ``bench/ui.py --runs-only`` (a benchmark,
not a wall-clock assertion in a test)."""

from __future__ import annotations

CUBA = "Sample: CUBA balanced network"
LAPTOP = {"width": 1440, "height": 900}


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
    wait_until(lambda: app.run_bar.handle is not None and app.run_bar.handle.done, timeout=120,
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


# Counts the layouts that start at the top of a block of the page (a view whose parent is not
# laid out with it) while the page applies each patch from the server.
COUNT_LAYOUTS_JS = r"""
() => {
  const doc = Bokeh.documents[0];
  window.__ssPatchLayouts = [];
  let current = null, nesting = 0;
  const root = Object.values(Bokeh.index)[0];
  const seen = new Set();
  const hook = (view) => {
    for (let p = Object.getPrototypeOf(view); p && p !== Object.prototype;
         p = Object.getPrototypeOf(p)) {
      if (!Object.prototype.hasOwnProperty.call(p, 'after_layout') || seen.has(p)) continue;
      seen.add(p);
      const original = p.after_layout;
      p.after_layout = function (...args) {
        // A layout ends with after_layout on the view it started at, which calls it on every
        // view below: the outermost call is one layout.
        if (current !== null && nesting === 0) current.layouts += 1;
        nesting += 1;
        try { return original.apply(this, args); } finally { nesting -= 1; }
      };
    }
    if (typeof view.children === 'function') for (const c of view.children()) hook(c);
  };
  hook(root);
  const apply = doc.apply_json_patch;
  doc.apply_json_patch = function (...args) {
    current = {layouts: 0, events: (args[0].events || []).length};
    try { return apply.apply(this, args); }
    finally { window.__ssPatchLayouts.push(current); current = null; }
  };
}
"""


def test_a_patch_that_changes_several_widgets_lays_the_page_out_once(
        served, goto_app, browser_page, wait_until):
    # Run changes the Run, Stop and Pause buttons, the progress bar and the status in one
    # patch; BokehJS would lay the whole page out once per changed widget (0.1-0.6 s each on
    # this page), widgets.layout_batching makes it once per patch.
    page = goto_app(served.url)
    app = served.last
    _open_cuba(page)
    _set_duration(page, app, wait_until, 200.0)
    _run(page, app, wait_until)  # the first run builds the result views
    page.evaluate(COUNT_LAYOUTS_JS)
    _run(page, app, wait_until)
    patches = page.evaluate("window.__ssPatchLayouts")
    big = [p for p in patches if p["events"] >= 5]
    assert big, patches
    assert all(p["layouts"] <= 1 for p in patches), patches
