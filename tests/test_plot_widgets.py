"""Raster aggregation correctness and construction of the plot widgets (no browser)."""

from __future__ import annotations

import re
import socket
import time
import urllib.request

import numpy as np
import pandas as pd
import panel as pn
import pytest
from bokeh.events import Tap

from engine import spike_stats as A
from widgets.palette import population_colors
from widgets.raster import RasterPlot
from widgets.raster_data import RasterIndex
from widgets.rates import RatePlot
from widgets.summary import SummaryTable
from widgets.traces import TraceItem, TracePlot, decimate_minmax

SIZES = {"exc": 40, "inh": 10}


@pytest.fixture(scope="module")
def spikes() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 20_000
    pop = rng.integers(0, 2, n)
    neuron = np.where(pop == 0, rng.integers(0, 40, n), rng.integers(0, 10, n))
    return pd.DataFrame({
        "time_ms": np.sort(rng.uniform(0, 1000, n)),
        "population": pd.Categorical.from_codes(pop, list(SIZES)),
        "neuron": neuron.astype(np.int32),
    })


def brute_rows(spikes: pd.DataFrame) -> np.ndarray:
    """Row coordinate by definition: first population on top, neuron 0 at the block's top."""
    offset = np.where(spikes["population"] == "exc", 0, 40)
    return 50 - 1 - (offset + spikes["neuron"].to_numpy())


def brute_count(spikes, window) -> int:
    x0, x1, y0, y1 = window
    t, y = spikes["time_ms"].to_numpy(), brute_rows(spikes)
    return int(((t >= x0) & (t <= x1) & (y >= y0) & (y <= y1)).sum())


WINDOWS = [(0, 1000, -0.5, 49.5), (100.5, 130.25, 3.2, 17.9), (0, 500, 10, 45),
           (999.0, 1000.0, -0.5, 49.5), (250, 250.001, 0, 0)]


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("shape", [(64, 32), (7, 5)])
def test_density_sums_to_the_spikes_in_the_window(spikes, window, shape):
    index = RasterIndex(spikes, SIZES)
    density = index.density(window, [(255, 0, 0), (0, 0, 255)], nx=shape[0], ny=shape[1])
    expected = brute_count(spikes, window)
    assert index.count(window) == expected
    assert density.counts.sum() == expected
    assert density.counts.shape[1] == shape[0] and density.counts.shape[0] <= shape[1]
    assert density.rgba.shape == density.counts.shape
    # Transparent exactly where there are no spikes.
    alpha = density.rgba.view(np.uint8).reshape(*density.rgba.shape, 4)[..., 3]
    assert ((alpha > 0) == (density.counts > 0)).all()


def test_density_pixel_rows_match_neuron_rows_when_few_rows_are_visible(spikes):
    index = RasterIndex(spikes, SIZES)
    window = (0, 1000, 9.5, 12.5)  # rows 10, 11, 12
    density = index.density(window, [(0, 0, 0), (0, 0, 0)], nx=10, ny=100)
    assert density.counts.shape[0] == 3 and density.y == 9.5 and density.dh == 3
    rows = brute_rows(spikes)
    assert density.counts[1].sum() == (rows == 11).sum()


def test_density_colour_is_the_population_colour(spikes):
    index = RasterIndex(spikes, SIZES)
    density = index.density((0, 1000, -0.5, 9.5), [(255, 0, 0), (0, 0, 255)], nx=8, ny=10)
    rgba = density.rgba.view(np.uint8).reshape(*density.rgba.shape, 4)
    filled = rgba[..., 3] > 0
    assert filled.any()
    assert (rgba[filled][:, :3] == [0, 0, 255]).all()  # rows 0..9 are the inh block


def test_raster_points_hold_exactly_the_visible_spikes(spikes):
    raster = RasterPlot(spikes=spikes, sizes=SIZES, max_points=5000)
    assert raster.mode == "density"
    window = (200.0, 300.0, 5.0, 30.0)
    raster.x_range.update(start=window[0], end=window[1])
    raster.y_range.update(start=window[2], end=window[3])
    assert raster.mode == "points"
    data = raster.points_source.data
    t, y = spikes["time_ms"].to_numpy(), brute_rows(spikes)
    inside = (t >= 200) & (t <= 300) & (y >= 5) & (y <= 30)
    np.testing.assert_array_equal(np.asarray(data["x"]), t[inside])
    np.testing.assert_array_equal(np.asarray(data["y"]), y[inside])
    pops = np.asarray(data["pop"])
    assert set(pops[np.asarray(data["y"]) >= 10]) == {0}  # exc block is at the top
    assert raster.visible_spikes == inside.sum()
    assert raster.density is None and len(raster._image.data["image"]) == 0


def test_raster_density_above_threshold(spikes):
    raster = RasterPlot(spikes=spikes, sizes=SIZES, max_points=1000)
    assert raster.mode == "density"
    assert len(raster.points_source.data["x"]) == 0
    assert raster.density.counts.sum() == len(spikes) == raster.visible_spikes
    assert len(raster._image.data["image"]) == 1


@pytest.mark.parametrize(("y", "expected"), [
    (49.0, ("exc", 0)), (49.4, ("exc", 0)), (10.0, ("exc", 39)), (9.6, ("exc", 39)),
    (9.0, ("inh", 0)), (0.0, ("inh", 9)), (-0.4, ("inh", 9)),
])
def test_tap_maps_y_to_population_and_neuron(spikes, y, expected):
    raster = RasterPlot(spikes=spikes, sizes=SIZES)
    raster._on_tap(Tap(raster.figure, x=10.0, y=y))
    assert raster.selected == {"population": expected[0], "neuron": expected[1]}
    assert raster._highlight.visible and raster._highlight.bottom == pytest.approx(
        round(y) - 0.5)


def test_raster_spikes_hover_with_population_neuron_and_time(spikes):
    from bokeh.models import HoverTool, WheelZoomTool

    raster = RasterPlot(spikes=spikes, sizes=SIZES, max_points=100_000)
    data = raster.points_source.data
    rows = brute_rows(spikes)
    # Every drawn spike carries its local neuron index, matching its row.
    expected = np.where(rows >= 10, 49 - rows, 9 - rows)
    order = np.argsort(spikes["time_ms"].to_numpy(), kind="stable")
    np.testing.assert_array_equal(np.asarray(data["neuron"]), expected[order])
    (hover,) = [t for t in raster.figure.tools if isinstance(t, HoverTool)]
    assert hover.renderers[0].data_source is raster.points_source
    assert [name for name, _ in hover.tooltips] == ["population", "neuron", "time"]
    assert hover.formatters["@pop"].args["names"] == ["exc", "inh"]
    assert raster.figure.toolbar.active_drag.dimensions == "both"  # box zoom
    # The wheel scrolls the page until the plot is clicked; then it zooms both axes.
    assert raster.figure.toolbar.active_scroll is None
    (wheel,) = [t for t in raster.figure.tools
                if isinstance(t, WheelZoomTool) and t.dimensions == "both"]
    (tap,) = raster.figure.js_event_callbacks["tap"]
    assert tap.args["tool"] is wheel and tap.code == "tool.active = true"


def test_neuron_ticks_follow_the_zoom(spikes):
    raster = RasterPlot(spikes=spikes, sizes=SIZES)
    raster.y_range.update(start=12.0, end=20.0)  # exc neurons 29 .. 37
    ticks = raster.neuron_axis.major_label_overrides
    assert set(ticks.values()) <= {str(n) for n in range(29, 38)} and len(ticks) >= 4
    assert all(49 - float(k) == int(v) for k, v in ticks.items())
    # The population's name stays in view, at the middle of its visible rows.
    assert raster.population_axis.major_label_overrides == {16.0: "exc"}


def test_reveal_selects_and_scrolls_to_a_hidden_row(spikes):
    raster = RasterPlot(spikes=spikes, sizes=SIZES)
    raster.y_range.update(start=30.0, end=40.0)
    raster.reveal("inh", 2)  # row y = 7
    assert raster.selected == {"population": "inh", "neuron": 2}
    assert raster.y_range.start <= 7.0 <= raster.y_range.end
    assert raster.y_range.end - raster.y_range.start == pytest.approx(10.0)
    raster.reveal("inh", 3)  # visible now: nothing moves
    assert (raster.y_range.start, raster.y_range.end) == (2.0, 12.0)
    raster.x_range.update(start=100.0, end=200.0)
    raster.reveal("inh", 3, time_ms=950.0)  # a time out of view: there, same zoom
    assert raster.x_range.start == pytest.approx(min(900.0, raster.x_range.bounds[1] - 100))
    assert raster.x_range.end - raster.x_range.start == pytest.approx(100.0)


def test_tap_outside_rows_keeps_selection(spikes):
    raster = RasterPlot(spikes=spikes, sizes=SIZES)
    raster.select_at(49.0)
    raster.select_at(80.0)
    assert raster.selected == {"population": "exc", "neuron": 0}


def test_raster_axis_labels_colours_and_count(spikes):
    raster = RasterPlot(spikes=spikes, sizes=SIZES, colors={"inh": "#ff0000"})
    overrides = raster.population_axis.major_label_overrides
    assert sorted(overrides.values()) == ["exc", "inh"]
    assert raster.population_axis.ticker.ticks == [29.5, 4.5]
    # The axis next to the plot: neuron indices within each population.
    ticks = raster.neuron_axis.major_label_overrides
    assert ticks == {float(49 - n): str(n) for n in (0, 10, 20, 30)} | {
        float(9 - n): str(n) for n in (0, 5)}
    assert raster.neuron_axis.ticker.ticks == list(ticks)
    assert raster._mapper.palette == list(population_colors(SIZES, {"inh": "#ff0000"}).values())
    html = raster._count.object
    assert re.search(r'class="ss-spike-count"[^>]*data-count="20000">20000<', html)
    assert raster.x_range.start == 0 and raster.x_range.end == pytest.approx(
        spikes["time_ms"].max())


def test_raster_updates_on_new_data(spikes):
    raster = RasterPlot(spikes=spikes, sizes=SIZES, duration_ms=1000.0)
    raster.param.update(spikes=spikes.iloc[:10], sizes={"exc": 40, "inh": 10, "x": 5})
    assert raster.visible_spikes == 10 and raster.mode == "points"
    assert raster.y_range.end == 54.5
    assert 'data-count="10"' in raster._count.object


@pytest.mark.parametrize("data", ["empty", "none", "full"])
def test_widgets_build_bokeh_models(spikes, data):
    frame = {"empty": A.empty_spikes(list(SIZES)), "none": None, "full": spikes}[data]
    raster = RasterPlot(spikes=frame, sizes=SIZES if data != "none" else {})
    shared = raster.x_range
    frame = frame if frame is not None else A.empty_spikes()
    rates = RatePlot(rates=A.population_rates(frame, SIZES, 1000.0), x_range=shared)
    summary = SummaryTable(summary=A.population_summary(frame, SIZES, 1000.0))
    t = np.linspace(0, 1000, 5001)
    items = [] if data != "full" else [
        TraceItem("exc", 3, "v", t, -65 + np.sin(t), "mV", A.neuron_spike_times(frame, "exc", 3)),
        {"population": "inh", "neuron": 0, "variable": "i_exc", "time_ms": t,
         "values": np.cos(t), "unit": "mV"},
    ]
    traces = TracePlot(traces=items, x_range=shared)
    for widget in (raster, rates, summary, traces, RatePlot(), TracePlot(), SummaryTable()):
        root = pn.panel(widget).get_root()
        assert root is not None
    assert rates.figure.x_range is shared and traces.figure.x_range is shared
    if data == "full":
        assert len(rates.figure.renderers) == 2
        # Voltage and current on separate axes: v + its spike ticks, then i_exc.
        assert [len(f.renderers) for f in traces.figures] == [2, 1]
        assert all(f.x_range is shared for f in traces.figures)
        assert summary.table.value["spikes"].sum() == len(spikes)


def test_decimation_keeps_extremes_and_order():
    t = np.arange(100_000, dtype=float)
    v = np.zeros_like(t)
    v[12_345], v[77_777] = 40.0, -80.0
    td, vd = decimate_minmax(t, v, 1000)
    assert len(td) <= 1002 and vd.max() == 40.0 and vd.min() == -80.0
    assert (np.diff(td) > 0).all()


def test_summary_table_assets_are_served_locally():
    def app():
        return SummaryTable(summary=A.population_summary(A.empty_spikes(), SIZES, 100.0))

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = pn.serve({"app": app}, port=port, address="127.0.0.1", show=False,
                      threaded=True, start=True)
    try:
        for _ in range(50):
            try:
                html = urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        html = html.decode()
    finally:
        server.stop()
        server.join()
    assert "tabulator" in html.lower()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and not [r for r in refs if re.match(r"(https?:)?//", r)]
    assert not re.findall(r"https?://(?!127\.0\.0\.1|localhost)", html)
