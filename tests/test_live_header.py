"""While a run is drawn live, the page says which run each part of it shows.

The raster and rates are redrawn from the running run's spikes; Summary, Traces and the other
tabs keep the previous result until the new one arrives. The header and the Activity status
line must say so (issue 13, a weak point of the live view), and a run that ends without a
result must not leave its partial raster under the previous run's header.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.simulator import simulate
from tests.helpers import connection, document, encoder, lif, project
from workbench.result_stamp import ResultStamp, live_header_html
from workbench.results_view import ResultsView


def _doc(duration_ms: float, rate_hz: float) -> dict:
    return document([encoder("drive", "poisson", size=20, rate_hz=rate_hz), lif("cells", 10)],
                    [connection("in", "drive", "cells", weight=5.0)], duration_ms=duration_ms)


def _run(view: ResultsView, doc: dict):
    view.run_started(doc)
    result = simulate(project(doc["network"]["nodes"], doc["network"]["projections"],
                              duration_ms=doc["simulation"]["duration_ms"]))
    return result


def test_live_header_text_names_both_runs():
    shown = ResultStamp("P", "r1", 1, datetime(2026, 1, 1, 15, 42))
    running = ResultStamp("P", "r2", 2, datetime(2026, 1, 1, 15, 50))
    text = live_header_html(running, 340.0, 1000.0, 1234, shown, 1000.0)
    assert 'data-live="true"' in text and 'data-run="1"' in text
    assert 'data-live-run="2"' in text
    assert "Run 2 of P, at 15:50: running, t = 340.0 of 1000 ms" in text
    assert "its 1,234 spikes so far" in text
    assert "the other tabs still show Run 1 of P, 1000 ms, at 15:42 until it ends" in text
    first = live_header_html(running, 5.0, None, 0, None)
    assert 'data-run=""' in first and "fill in when it ends" in first
    assert "<b>" not in live_header_html(ResultStamp("<b>", "r", 1, datetime.now()), 1.0,
                                         None, 0, None)


@pytest.mark.slow
def test_during_a_live_run_the_header_and_status_say_what_is_shown():
    view = ResultsView()
    first_doc = _doc(200.0, 50.0)
    first = _run(view, first_doc)
    assert view.show(first)
    summary = view.view("summary").summary.summary
    assert 'data-run="1"' in view.header.object and 'data-live' not in view.header.object

    second_doc = _doc(400.0, 200.0)
    second = _run(view, second_doc)
    partial = second.spikes[second.spikes["time_ms"] <= 100.0]
    view.show_live(partial, 100.0)
    # The raster is run 2 so far (streamed: its index, not its spikes parameter); the header
    # and status line say so, and that the other tabs are still run 1 (their data really are).
    assert len(view.raster.index) == len(partial)
    assert len(view.raster.points_source.data["x"]) == len(partial)
    assert 'data-live="true"' in view.header.object
    assert 'data-live-run="2"' in view.header.object and 'data-run="1"' in view.header.object
    assert "still show Run 1 of test, 200 ms" in view.header.object
    assert 'data-status="running"' in view.status.object
    assert f'data-spikes="{len(partial)}"' in view.status.object
    assert view.result is first and view.view("summary").summary.summary is summary
    assert view.raster.export_name == "test-run2-raster-so-far"

    # The run ends with its result: everything is run 2.
    assert view.show(second)
    assert 'data-live' not in view.header.object and 'data-run="2"' in view.header.object
    assert 'data-status="completed"' in view.status.object
    assert view.view("summary").summary.summary is not summary

    # A third run fails after drawing live: the raster goes back to run 2, the tabs' result.
    view.run_started(first_doc)
    view.show_live(first.spikes, first.duration_ms)
    assert len(view.raster.index) == len(first.spikes)
    view.end_live()
    assert view.raster.spikes is second.spikes and view.result is second
    assert 'data-live' not in view.header.object and 'data-run="2"' in view.header.object
    assert view.raster.export_name == "test-run2-raster"
    view.end_live()  # nothing live: nothing changes
    assert view.raster.spikes is second.spikes
