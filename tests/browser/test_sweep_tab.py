"""Issue 20, item 3: sweep a parameter from the inspector and see the plot fill as the
sweep's tasks finish (served workbench, Debian's Chromium; the tasks run in worker
processes of their own)."""

from __future__ import annotations

import time

import pytest

from tests.browser.test_forms_and_editor import _ready, _select_node

pytestmark = pytest.mark.browser

#: How many points the browser's plot holds (its ColumnDataSource's ``f0`` column).
_POINTS_JS = """id => { for (const d of Bokeh.documents) { const m = d.get_model_by_id(id);
  if (m) { const data = m.data; const col = data instanceof Map ? data.get('f0') : data.f0;
           return col ? col.length : 0; } } return -1; }"""


def _set(page, css: str, value: str) -> None:
    field = page.locator(f"{css} input").first
    field.fill(value)
    field.press("Tab")


@pytest.mark.slow
def test_sweep_this_parameter_fills_the_plot_as_tasks_finish(served, goto_app, wait_until,
                                                             save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    view = app.views["sweep"]
    # 100 s of model time and 3 seeds: 15 runs long enough (1e6 steps each) that they finish
    # over several of the page's 200 ms updates, also on an idle machine.
    field = page.locator(".ss-runbar .param-duration_ms input").first
    field.fill("100000")
    field.press("Tab")
    wait_until(lambda: app.session.document["simulation"]["duration_ms"] == 100_000,
               message="duration applied")
    _select_node(page, "neuron")
    page.locator(".ss-sweep-this-field select").select_option("neuron.tau_m")
    page.locator(".ss-sweep-this button").click()
    wait_until(lambda: view.field1.value == "neuron.tau_m", message="parameter chosen")
    page.locator(".ss-sweep-run button").wait_for(state="visible")
    assert (view.start1.value, view.stop1.value) == (5.0, 15.0)  # around tau_m = 10 ms
    _set(page, ".ss-sweep-num1", "5")
    wait_until(lambda: view.num1.value == 5, message="points applied")
    _set(page, ".ss-sweep-seeds", "3")
    wait_until(lambda: view.seeds.value == 3, message="seeds applied")
    page.locator(".ss-sweep-run button").click()
    wait_until(lambda: view.job.busy or "completed" in view.state.object, message="started")

    seen: list[int] = []  # points in the browser's plot each time the number changed
    deadline = time.monotonic() + 600
    while True:
        done = 'data-state="completed"' in view.state.object
        source = view.plot.source.id if view.plot.figure is not None else None
        count = page.evaluate(_POINTS_JS, source) if source else 0
        if count > 0 and (not seen or count != seen[-1]):
            seen.append(count)
        if done and count == 5:
            break
        assert 'sweep-error' not in view.state.object, view.state.object
        assert time.monotonic() < deadline, f"the plot did not fill: {seen}"
        page.wait_for_timeout(50)
    assert seen == sorted(seen) and seen[-1] == 5
    assert len(seen) >= 2, f"the plot did not fill progressively: {seen}"
    page.get_by_test_id("sweep-state").filter(has_text="Done: 15 simulations").wait_for()
    assert page.locator(".ss-sweep-csv").is_visible()
    save_screenshot("sweep-filled")
