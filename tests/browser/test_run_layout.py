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
