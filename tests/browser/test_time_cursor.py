"""Issue 13 (4): one time cursor moves through the run; the plots show its line and the graph
editor shows the activity at it (nodes tinted by rate, projections pulsing).

Serves the real workbench and drives Debian's Chromium.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.browser.test_result_views import (
    _open_sample,
    _ready,
    _run_and_wait,
    _set_duration,
    _tab,
)
from widgets.time_cursor import cursor_line

pytestmark = pytest.mark.browser

SET_SLIDER = """([t]) => {
  const find = (root) => {
    const hit = root.querySelector("[data-testid='cursor-slider']");
    if (hit) return hit;
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) { const h = find(el.shadowRoot); if (h) return h; }
    }
    return null;
  };
  const slider = find(document);
  slider.value = String(t);
  slider.dispatchEvent(new Event("input", {bubbles: true}));
  slider.dispatchEvent(new Event("change", {bubbles: true}));
}"""

# The time of each plot's cursor line (an HTML element over the plot, see time_cursor.js),
# null while the plot has none, and whether it sits where the plot's x axis puts that time.
LINE_AT = """([ids]) => ids.map((id) => {
  let model = null;
  for (const d of Bokeh.documents) model = model || d.get_model_by_id(id);
  const view = model && Bokeh.index.find_one(model);
  const canvas = view && view.plot_view.canvas_view.el;
  const el = canvas && (canvas.shadowRoot || canvas).querySelector(".ss-time-cursor-line");
  const box = el && el.getBoundingClientRect();
  if (!el || !box.width || !box.height) return null;  // not drawn
  const t = Number(el.dataset.timeMs);
  const x = Number(/translate\\(([-0-9.e]+)px/.exec(el.style.transform)[1]) + 1;
  const want = view.plot_view.frame.x_scale.compute(t);
  return Math.abs(x - want) < 0.5 ? t : -1;
})"""


def _lines_at(page, ids: list[str], t: float) -> None:
    """Wait until the cursor lines of the plots with these Span ids are drawn at ``t``."""
    page.wait_for_function(f"([ids, t]) => ({LINE_AT})([ids]).every(x => x === t)",
                           arg=[ids, t])


def _node(page, node_id: str) -> dict:
    return page.locator(f"[data-node-id='{node_id}']").evaluate(
        "g => ({rate: g.dataset.rateHz === undefined ? null : Number(g.dataset.rateHz),"
        " fill: getComputedStyle(g.querySelector('.body')).fill,"
        " label: g.querySelector('.ss-rate').textContent,"
        " tip: g.querySelector('title').textContent})")


def _cursor_time(page) -> float:
    return float(page.get_by_test_id("time-cursor").get_attribute("data-time-ms"))


def test_cursor_moves_lines_and_graph_activity(served, goto_app, wait_until, save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "Energy: sparse events vs dense frames")
    assert not page.get_by_test_id("time-cursor").is_visible(), "no cursor before a run"
    _run_and_wait(page, app, wait_until)
    page.get_by_test_id("time-cursor").wait_for()
    act = app.results.network_activity
    assert act is not None and act.window_ms == 10.0
    rates = act.rates_hz["hidden"]
    k_low, k_high = int(np.argmin(rates)), int(np.argmax(rates))
    assert rates[k_high] > rates[k_low] + 20, "the sample's hidden layer changes its rate"
    t_low, t_high = float(act.times_ms[k_low]), float(act.times_ms[k_high])

    # Two cursor times where the hidden layer's rate differs: its tint and rate follow.
    page.evaluate(SET_SLIDER, [t_low])
    wait_until(lambda: app.results.cursor.value == pytest.approx(t_low),
               message="the server heard the cursor time")
    low = _node(page, "hidden")
    assert low["rate"] == pytest.approx(rates[k_low], abs=1e-3)
    page.evaluate(SET_SLIDER, [t_high])
    high = _node(page, "hidden")
    assert high["rate"] == pytest.approx(rates[k_high], abs=1e-3)
    assert high["fill"] != low["fill"], "the node's tint changes with its rate"
    assert "Hz per neuron at t =" in high["tip"] and high["label"].endswith("Hz")
    legend = page.get_by_test_id("activity-legend")
    assert legend.is_visible() and "Activity at t =" in legend.inner_text()
    # The projection into the hidden layer pulses with what it carried in that window.
    edge = page.locator("[data-edge-id='in_hidden']")
    assert int(edge.get_attribute("data-events")) == act.events["in_hidden"][k_high]
    assert int(edge.get_attribute("data-spikes")) == act.spikes["in_hidden"][k_high]
    save_screenshot("cursor-at-busy-frame", full_page=True)

    # The cursor line of the raster and the rate plot sits at the cursor time.
    lines = [cursor_line(app.results.raster.figure).id, cursor_line(app.results.rates.figure).id]
    _lines_at(page, lines, t_high)

    # Play: the cursor runs through the run in the browser and the graph's tint moves with it.
    page.evaluate(SET_SLIDER, [0.0])
    page.get_by_test_id("cursor-speed").select_option("0.2")
    wait_until(lambda: app.results.cursor.speed == 0.2, message="speed applied")
    page.evaluate("""() => { window.__fills = new Set(); window.__times = [];
      const find = (root) => { const hit = root.querySelector("[data-node-id='hidden'] .body");
        if (hit) return hit; for (const el of root.querySelectorAll("*")) {
          if (el.shadowRoot) { const h = find(el.shadowRoot); if (h) return h; } }
        return null; };
      const body = find(document);
      const tick = () => { window.__fills.add(getComputedStyle(body).fill);
        if (window.__times.length < 2000) { window.__times.push(performance.now());
          requestAnimationFrame(tick); } };
      requestAnimationFrame(tick); }""")
    page.get_by_test_id("cursor-play").click()
    page.wait_for_timeout(300)
    mid = _cursor_time(page)
    assert 0 < mid < 500, "playing: the cursor advances"
    assert page.get_by_test_id("time-cursor").get_attribute("data-playing") == "1"
    # The end of the run stops playback (500 ms at 0.2x: 2.5 s).
    page.locator("[data-testid='time-cursor'][data-playing='0']").wait_for(timeout=10_000)
    assert _cursor_time(page) == pytest.approx(500.0)
    assert page.evaluate("window.__fills.size") >= 3, "the tint changed while playing"
    wait_until(lambda: app.results.cursor.value == pytest.approx(500.0) and
               not app.results.cursor.playing, message="the server heard the end")
    _lines_at(page, lines, 500.0)

    # A tab drawn after the cursor moved gets its line at the cursor time too.
    _tab(page, "Energy")
    wait_until(lambda: app.views["energy"].heatmap.figures.get("heatmap_a") is not None,
               timeout=30, message="energy drawn")
    energy_line = cursor_line(app.views["energy"].heatmap.figures["heatmap_a"]).id
    _lines_at(page, [energy_line], 500.0)


def test_the_activity_belongs_to_the_shown_run(served, goto_app, wait_until):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "Energy: sparse events vs dense frames")
    _run_and_wait(page, app, wait_until)
    page.locator("[data-node-id='hidden'][data-rate-hz]").wait_for()
    # A new run is shown at its end (the state the run ended in).
    assert app.results.cursor.value == 500.0
    page.locator(".ss-time-cursor-line:visible").first.wait_for()
    # Another project: no cursor, no tint, no legend.
    _open_sample(page, app, wait_until, "Single LIF neuron")
    page.get_by_test_id("time-cursor").wait_for(state="hidden")
    assert app.results.network_activity is None and app.model.editor.activity == {}
    page.locator("[data-node-id='neuron']").wait_for()
    assert page.locator("[data-rate-hz]").count() == 0
    assert page.locator(".ss-time-cursor-line:visible").count() == 0, "no line without a run"
    assert not page.get_by_test_id("activity-legend").is_visible()
    # Its run: the constant-current input carries no spikes and gets no rate; the neuron does.
    _run_and_wait(page, app, wait_until)
    page.locator("[data-node-id='neuron'][data-rate-hz]").wait_for()
    assert page.locator("[data-node-id='input'][data-rate-hz]").count() == 0


def test_weights_and_scrolling_follow_the_cursor(served, goto_app, wait_until,
                                                 save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "STDP: hidden pattern")
    _set_duration(page, app, wait_until, 2000.0)
    _run_and_wait(page, app, wait_until)
    # The weight view has no player of its own: the page's cursor chooses the snapshot.
    _tab(page, "Weights")
    wait_until(lambda: app.views["weights"].view is not None
               and app.views["weights"].view.record is not None, message="weights shown")
    view = app.views["weights"].view
    assert page.locator(".ss-weight-player").count() == 0 or \
        not page.locator(".ss-weight-player").first.is_visible()
    times = [float(t) for t in view.record.times_ms]
    assert len(times) == 3
    page.evaluate(SET_SLIDER, [times[1] + 1.0])
    page.get_by_text(f"snapshot 2 of {len(times)}").wait_for()
    wait_until(lambda: view.snapshot == 1, message="the server showed snapshot 2")
    page.evaluate(SET_SLIDER, [0.0])
    page.get_by_text(f"snapshot 1 of {len(times)}").wait_for()
    # Scrolled down to the plots, the cursor stays in view (sticky at the top).
    page.locator(".ss-weights-header").scroll_into_view_if_needed()
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(300)
    box = page.get_by_test_id("time-cursor").bounding_box()
    assert box is not None and 0 <= box["y"] <= 5, box
    save_screenshot("weights-at-cursor")
