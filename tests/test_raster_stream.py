"""A live run's raster is streamed: only new spikes are sent; the final draw sends them whole once.

Issue 18, item 3: re-sending the whole raster at every live update (and again at the end)
cost seconds per run in the browser. These tests watch the Bokeh document's change events,
which are what a served page would receive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bokeh.document import Document
from bokeh.document.events import (
    ColumnDataChangedEvent,
    ColumnsStreamedEvent,
    ModelChangedEvent,
)

from widgets.raster import RasterPlot
from widgets.raster_data import RasterIndex

SIZES = {"exc": 30, "inh": 10}


def spikes(n: int, t0: float, t1: float, seed: int) -> pd.DataFrame:
    """``n`` random spikes in ``[t0, t1)``, sorted by time."""
    rng = np.random.default_rng(seed)
    pop = rng.integers(0, 2, n)
    neuron = np.where(pop == 0, rng.integers(0, 30, n), rng.integers(0, 10, n))
    return pd.DataFrame({"time_ms": np.sort(rng.uniform(t0, t1, n)),
                         "population": pd.Categorical.from_codes(pop, list(SIZES)),
                         "neuron": neuron.astype(np.int32)})


def chunks(k: int = 4, n: int = 50) -> list[pd.DataFrame]:
    return [spikes(n, 25.0 * i, 25.0 * (i + 1), seed=i) for i in range(k)]


class Events:
    """Changes of ``source`` (streams, and whole-data replacements) in ``doc``."""

    def __init__(self, doc: Document, source) -> None:
        self.streamed: list[int] = []
        self.replaced = 0
        self.source = source
        doc.on_change(self._on_change)

    def _on_change(self, event) -> None:
        if isinstance(event, ColumnsStreamedEvent) and event.model is self.source:
            self.streamed.append(len(event.data["x"]))
        elif isinstance(event, ColumnDataChangedEvent) and event.model is self.source:
            self.replaced += 1
        elif (isinstance(event, ModelChangedEvent) and event.model is self.source
              and event.attr == "data"):
            self.replaced += 1


def served(plot: RasterPlot) -> Events:
    doc = Document()
    doc.add_root(plot.figure)
    return Events(doc, plot.points_source)


def rows(data) -> set[tuple]:
    return set(zip(*(np.asarray(data[c]).tolist() for c in ("x", "y", "pop", "neuron")),
                   strict=True))


def test_extended_index_equals_the_index_of_all_spikes():
    parts = chunks()
    index = RasterIndex(parts[0], SIZES)
    for part in parts[1:]:
        index = index.extended(RasterIndex(part, SIZES))
    whole = RasterIndex(pd.concat(parts, ignore_index=True), SIZES)
    for col in ("x", "y", "pop", "neuron"):
        assert np.array_equal(getattr(index, col), getattr(whole, col))


def test_extended_index_sorts_a_part_that_starts_earlier():
    late, early = spikes(40, 50.0, 100.0, 1), spikes(40, 0.0, 60.0, 2)
    index = RasterIndex(late, SIZES).extended(RasterIndex(early, SIZES))
    assert np.all(np.diff(index.x) >= 0) and len(index) == 80
    assert len(RasterIndex(late, SIZES)) == 40  # the original is left as it was


def test_extended_refuses_other_populations():
    with pytest.raises(ValueError, match="same populations"):
        RasterIndex(None, SIZES).extended(RasterIndex(None, {"exc": 30}))


def test_a_stream_sends_only_the_new_spikes_and_the_final_draw_sends_them_whole_once():
    plot = RasterPlot()
    events = served(plot)
    plot.start_stream(SIZES, 100.0)
    x_range = (plot.x_range.start, plot.x_range.end)
    parts = chunks()
    for part in parts:
        plot.stream(part)
    assert events.streamed == [len(p) for p in parts]
    # The time axis spans the whole run from the start: no re-layout while it grows.
    assert (plot.x_range.start, plot.x_range.end) == x_range == (0.0, 100.0)
    whole = pd.concat(parts, ignore_index=True)
    assert rows(plot.points_source.data) == rows(RasterIndex(whole, SIZES).points(
        plot.window()))
    assert plot.mode == "points" and plot.visible_spikes == len(whole)

    replaced = events.replaced
    plot.param.update(spikes=whole, sizes=SIZES, duration_ms=100.0)  # the run's result
    # The result replaces the streamed rows once: what the page ends with does not depend
    # on how the stream's patches reached it.
    assert events.replaced == replaced + 1
    assert len(plot.points_source.data["x"]) == len(whole)
    plot.refresh()  # a redraw of the same window sends nothing again
    assert events.replaced == replaced + 1


def test_a_final_result_with_other_spikes_is_sent():
    plot = RasterPlot()
    events = served(plot)
    plot.start_stream(SIZES, 100.0)
    plot.stream(spikes(50, 0.0, 50.0, 1))
    replaced = events.replaced
    final = spikes(60, 0.0, 100.0, 7)
    plot.param.update(spikes=final, sizes=SIZES, duration_ms=100.0)
    assert events.replaced == replaced + 1
    assert rows(plot.points_source.data) == rows(RasterIndex(final, SIZES).points(
        plot.window()))


def test_a_stream_past_max_points_turns_into_a_density_image():
    plot = RasterPlot(max_points=120)
    served(plot)
    plot.start_stream(SIZES, 100.0)
    plot.stream(spikes(100, 0.0, 50.0, 1))
    assert plot.mode == "points"
    plot.stream(spikes(100, 50.0, 100.0, 2))
    assert plot.mode == "density" and plot.density.counts.sum() == 200
    assert len(plot.points_source.data["x"]) == 0
    plot.stream(spikes(10, 99.0, 100.0, 3))  # stays a density image, now of 210 spikes
    assert plot.mode == "density" and plot.density.counts.sum() == 210


def test_a_stream_into_a_zoomed_window_sends_what_is_in_view():
    plot = RasterPlot()
    events = served(plot)
    plot.start_stream(SIZES, 100.0)
    plot.x_range.update(start=0.0, end=50.0)
    plot.refresh()  # what the debounced range change does
    early, late = spikes(30, 0.0, 50.0, 1), spikes(30, 50.5, 100.0, 2)
    plot.stream(early)
    plot.stream(late)
    assert events.streamed == [30]  # the late spikes are out of view
    assert len(plot.index) == 60 and plot.visible_spikes == 30


class BrowserCopy:
    """The points a browser holds, from ``doc``'s change events serialised as a served
    document sends them: when they are emitted (at the end of a hold, for held ones)."""

    def __init__(self, doc: Document, source) -> None:
        self.points = 0
        self.source = source
        doc.on_change(self._on_change)

    def _on_change(self, event) -> None:
        if isinstance(event, ColumnsStreamedEvent) and event.model is self.source:
            self.points += len(event.data["x"])
        elif isinstance(event, ColumnDataChangedEvent) and event.model is self.source:
            data = event.data if event.data is not None else event.model.data
            self.points = len(data["x"])


def test_a_new_run_streamed_in_the_same_hold_as_its_start_reaches_the_browser_once():
    # The page applies a poll's changes under one document hold: a second run's first live
    # update lays the raster out anew (replacing the last run's points) and streams its first
    # spikes. The replacement is serialised when the hold ends; the stream must not add the
    # same rows to it a second time.
    plot = RasterPlot()
    doc = Document()
    doc.add_root(plot.figure)
    browser = BrowserCopy(doc, plot.points_source)
    last_run, parts = spikes(80, 0.0, 100.0, seed=9), chunks()
    plot.param.update(sizes=SIZES, duration_ms=100.0, spikes=last_run)
    assert browser.points == 80
    doc.hold("combine")
    plot.start_stream(SIZES, 100.0)
    plot.stream(parts[0])
    doc.unhold()
    assert browser.points == len(parts[0])
    for part in parts[1:]:
        doc.hold("combine")
        plot.stream(part)
        doc.unhold()
    assert browser.points == sum(len(p) for p in parts)
    assert len(plot.points_source.data["x"]) == browser.points
