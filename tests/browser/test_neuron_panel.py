"""Issue 13 (5): the neuron in front of you.

On the CUBA sample (4000 LIF neurons, 1 s): box-zoom onto a spike with the mouse, hover it and
read its population, index and time; click it, and the panel beside the raster shows that
neuron with a membrane trace whose values (read from the browser's data source) are the
engine's on-demand recording; the ranking jumps to the neuron that fired first. The run and
the recording go through the worker pool, as in the real server.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from engine.analysis.neuron_probe import probe_traces
from engine.analysis.neuron_stats import rank_neurons
from engine.project import Project
from tests.browser.test_result_views import _open_sample, _ready, _run_and_wait, _set_duration

pytestmark = pytest.mark.browser

# The on-screen position of a data point of a figure, in page pixels.
_SCREEN_XY = """([fig, x, y]) => {
  for (const d of Bokeh.documents) {
    const m = d.get_model_by_id(fig);
    if (m == null) continue;
    const view = Bokeh.index.find_one(m);
    const box = view.el.getBoundingClientRect();
    return [box.left + view.frame.x_scale.compute(x), box.top + view.frame.y_scale.compute(y)];
  }
  return null;
}"""
# The texts of the tooltips on show (Bokeh draws them in shadow roots).
_TOOLTIPS = """() => { const out = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) walk(el.shadowRoot);
    const name = `${el.tagName} ${el.className}`;
    const box = el.getBoundingClientRect();
    if (/tooltip/i.test(name) && box.width > 0 && box.height > 0) {
      out.push((el.shadowRoot ? el.shadowRoot.textContent : '') + ' ' + el.textContent); } } };
  walk(document); return out; }"""
_SOURCE = """([id, names]) => { for (const d of Bokeh.documents) {
  const m = d.get_model_by_id(id); if (m) return names.map(n => Array.from(m.data[n])); }
  return null; }"""


def _screen(page, fig, x: float, y: float) -> tuple[float, float]:
    xy = page.evaluate(_SCREEN_XY, [fig.id, x, y])
    assert xy is not None, "the raster is drawn"
    return xy[0], xy[1]


def _ranges(page, raster) -> list:
    return page.evaluate(
        "([a, b]) => { for (const d of Bokeh.documents) { const x = d.get_model_by_id(a);"
        " const y = d.get_model_by_id(b); if (x && y) return [x.start, x.end, y.start, y.end];"
        " } return null; }", [raster.x_range.id, raster.y_range.id])


def test_hover_a_spike_click_it_and_see_its_neuron(served, goto_app, wait_until, browser_page,
                                                  save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "CUBA balanced network")
    _set_duration(page, app, wait_until, 1000.0)
    _run_and_wait(page, app, wait_until)
    raster, result = app.results.raster, app.results.result
    fig = raster.figure
    wait_until(lambda: raster.mode == "points", message="spikes drawn as glyphs")
    # A spike of an excitatory neuron in the middle of the run.
    spikes = result.spikes
    exc = spikes[(spikes["population"] == "exc") & (spikes["time_ms"].between(400, 600))]
    target = exc.iloc[len(exc) // 2]
    pop, neuron, t = "exc", int(target["neuron"]), float(target["time_ms"])
    y = raster.index.row_y(pop, neuron)
    page.get_by_test_id("ss-spike-count").first.scroll_into_view_if_needed()

    # Box zoom (the default drag) around it, a few times: both axes zoom.
    for _ in range(5):
        if raster.y_range.end - raster.y_range.start < 40:
            break
        span = (raster.x_range.end - raster.x_range.start,
                raster.y_range.end - raster.y_range.start)
        sx, sy = _screen(page, fig, t, y)
        page.mouse.move(sx - 120, sy - 30)
        page.mouse.down()
        page.mouse.move(sx, sy, steps=4)
        page.mouse.move(sx + 120, sy + 30, steps=4)
        page.mouse.up()
        wait_until(lambda span=span: raster.y_range.end - raster.y_range.start < span[1] / 2
                   and raster.x_range.end - raster.x_range.start < span[0] / 2,
                   timeout=30, message="box zoom narrowed both axes")
    wait_until(lambda: raster.y_range.end - raster.y_range.start < 40, message="zoomed in")
    xs, x_end, ys, y_end = _ranges(page, raster)
    assert xs <= t <= x_end and ys <= y <= y_end
    # The y axis names neuron indices of the zoomed rows, the outer one the population.
    wait_until(lambda: str(neuron) in raster.neuron_axis.major_label_overrides.values()
               or len(raster.neuron_axis.major_label_overrides) >= 3,
               message="neuron ticks for the zoomed rows")
    labels = raster.neuron_axis.major_label_overrides
    assert all(raster.index.locate(float(k)) == (pop, int(v)) for k, v in labels.items())

    # Hover the spike: its population, index and time.
    wait_until(lambda: len(raster.points_source.data["x"]) > 0, timeout=30,
               message="points redrawn")
    page.wait_for_timeout(400)  # the browser draws the new points
    sx, sy = _screen(page, fig, t, y)
    page.mouse.move(sx - 3, sy)
    page.mouse.move(sx, sy, steps=2)
    page.wait_for_function(f"() => ({_TOOLTIPS})().some(t => t.includes('neuron'))")
    text = next(t for t in page.evaluate(_TOOLTIPS) if "neuron" in t)
    assert re.search(rf"population\W*{pop}\b", text), text
    assert re.search(rf"neuron\W*{neuron}\b", text), text
    assert re.search(rf"time\W*{t:,.1f}\d* ms", text), text
    save_screenshot("hover")

    # Click it: the panel beside the raster shows this neuron and records its trace.
    clicked = time.perf_counter()
    page.mouse.click(sx, sy)
    wait_until(lambda: raster.selected == {"population": pop, "neuron": neuron},
               message="clicked neuron selected")
    selected = time.perf_counter() - clicked
    page.locator(f"[data-testid='neuron-detail'][data-population='{pop}']"
                 f"[data-neuron='{neuron}']").wait_for()
    header = time.perf_counter() - clicked
    wait_until(lambda: 'data-state="recorded"' in app.results.neuron_panel.note.object,
               timeout=60, message="recorded on the server")
    recorded = time.perf_counter() - clicked
    page.locator("[data-testid='neuron-trace-status'][data-state='recorded']").wait_for(
        timeout=60_000)
    source = app.results.neuron_panel.plots.lines["v"]
    page.wait_for_function(f"() => {{ const r = ({_SOURCE})([{source.id!r}, ['t']]);"
                           f" return r && r[0].length > 1000; }}")
    click_to_plot = time.perf_counter() - clicked
    timing = app.results.neuron_panel.timing
    print(f"CUBA 4000 neurons, 1 s, click -> membrane plot in the browser: "
          f"{click_to_plot:.2f} s (selected on the server after {selected:.2f} s, header "
          f"shown {header:.2f} s, recorded {recorded:.2f} s; server: probe in the worker "
          f"{timing['probe_s']:.2f} s, selection -> plot data {timing['click_to_plot_s']:.2f} s)")
    t_drawn, v_drawn = page.evaluate(_SOURCE, [source.id, ["t", "v"]])
    expected = probe_traces(Project.from_dict(app.results.run_document), pop, neuron,
                            duration_ms=result.duration_ms)
    k = np.rint(np.asarray(t_drawn) / result.dt_ms).astype(int)
    picks = np.linspace(0, len(k) - 1, 25).astype(int)
    assert np.asarray(v_drawn)[picks].tolist() == expected.values["v"][k[picks], 0].tolist()
    # Its incoming spikes and synapses are listed by source projection.
    incoming = page.get_by_test_id("neuron-incoming")
    assert "exc_to_exc" in incoming.inner_text() and "inh_to_exc" in incoming.inner_text()
    save_screenshot("neuron-panel")

    # Rank by first spike and jump to the first neuron.
    page.locator(".ss-pick-population select").select_option("inh")
    page.locator(".ss-rank-by select").select_option(label="first spike")
    wait_until(lambda: app.results.neuron_panel.rank_by.value == "first_spike"
               and app.results.neuron_panel.population.value == "inh", message="ranking set")
    ranked = rank_neurons(result, "inh", "first_spike", top=1)
    first, first_ms = int(ranked["neuron"].iloc[0]), float(ranked["value"].iloc[0])
    entry = page.locator(".ss-rank-entry button").first
    entry.filter(has_text=f"[{first}]").wait_for()
    entry.click()
    wait_until(lambda: raster.selected == {"population": "inh", "neuron": first},
               message="the ranking selected the first neuron to fire")
    page.locator(f"[data-testid='neuron-detail'][data-population='inh']"
                 f"[data-neuron='{first}']").wait_for()
    row = raster.index.row_y("inh", first)
    wait_until(lambda: raster.y_range.start <= row <= raster.y_range.end
               and raster.x_range.start <= first_ms <= raster.x_range.end,
               message="the raster moved to its row and first spike")
    page.wait_for_function(
        "([id, t]) => { for (const d of Bokeh.documents) { const m = d.get_model_by_id(id);"
        " if (m) return m.start <= t && t <= m.end; } return false; }",
        arg=[raster.x_range.id, first_ms])
