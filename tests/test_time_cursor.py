"""The time cursor's server side: cursor lines on the plots, the run it spans, the graph's
activity data, and the result views that follow it (the browser side is tested in
tests/browser/test_time_cursor.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bokeh.models import Span
from bokeh.plotting import figure

from engine.analysis.activity import network_activity
from engine.project import load_project
from engine.simulator import simulate
from tests.test_weight_widgets import make_record
from widgets.graph_editor import GraphEditor, activity_data
from widgets.raster import RasterPlot
from widgets.rates import RatePlot
from widgets.time_cursor import CURSOR_LINE, TimeCursor, cursor_line
from widgets.traces import TracePlot
from widgets.weights import WeightEvolution
from workbench.results_view import ResultsView


def _lines(fig) -> list[Span]:
    return [r for r in fig.center if isinstance(r, Span) and r.name == CURSOR_LINE]


def test_cursor_line_is_added_once_and_not_drawn_by_the_server():
    fig = figure()
    line = cursor_line(fig)
    assert cursor_line(fig) is line and _lines(fig) == [line]
    assert line.location is None and line.dimension == "height" and line.level == "overlay"


def test_every_time_plot_has_a_cursor_line():
    rates = pd.DataFrame({"time_ms": [0.5, 1.5], "a": [1.0, 2.0]})
    trace = {"population": "a", "neuron": 0, "variable": "v", "time_ms": np.arange(3.0),
             "values": np.zeros(3)}
    weights = WeightEvolution(record=make_record())
    figures = [RasterPlot().figure, RatePlot(rates=rates).figure,
               TracePlot(traces=[trace]).figure,
               *[f for f in weights.figures if f.x_range is weights.x_range]]
    assert len(figures) == 7
    for fig in figures:
        assert len(_lines(fig)) == 1, fig.title.text


def test_a_run_is_shown_at_its_end():
    cursor = TimeCursor()
    assert cursor.channel and cursor.channel != TimeCursor().channel
    cursor.show_run(1000.0, 2.5)
    assert (cursor.duration_ms, cursor.step_ms, cursor.value) == (1000.0, 2.5, 1000.0)
    cursor.value = 700.0
    cursor.show_run(500.0)
    assert cursor.value == 500.0 and cursor.step_ms == 5.0  # no step given: 1 % of the run
    cursor.playing = True
    cursor.clear()
    assert (cursor.duration_ms, cursor.value, cursor.playing) == (0.0, 0.0, False)


def _activity():
    counts = pd.DataFrame({"bin_start_ms": np.repeat([0.0, 1.0, 2.0, 3.0], 2),
                           "node": pd.Categorical(["a", "b"] * 4),
                           "spikes": [1, 0, 0, 0, 2, 0, 1, 0]})
    proj = pd.DataFrame({"bin_start_ms": [0.0, 1.0, 2.0, 3.0], "projection": ["ab"] * 4,
                         "source": ["a"] * 4, "syn_events": [4, 0, 8, 4]})
    return network_activity(counts, proj, {"a": 3, "b": 1}, 4.0, 1.0,
                            {"ab": "a", "ba": "b"}, window_ms=2.0)


def test_activity_data_is_plain_lists_of_the_chosen_nodes():
    act = _activity()
    data = activity_data(act)
    assert data["times_ms"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert data["step_ms"] == 1.0 and data["window_ms"] == 2.0
    assert data["nodes"]["a"][2] == pytest.approx(2 / 3 / 0.002, abs=1e-3)
    assert data["max_rate_hz"] == pytest.approx(max(data["nodes"]["a"]))
    assert data["edges"]["ab"] == {"events": [4, 4, 8, 12, 4], "spikes": [1, 1, 2, 3, 1]}
    only_a = activity_data(act, ["a", "unknown"])
    assert list(only_a["nodes"]) == ["a"] and list(only_a["edges"]) == ["ab"]  # ba: from b
    GraphEditor(activity=data)  # a valid parameter value


def test_weights_follow_the_cursor_to_the_last_snapshot_before_it():
    view = WeightEvolution(record=make_record(), show_player=False)  # times 0..400 ms
    assert not view._player.visible
    view.show_time(250.0)
    assert view.snapshot == 2 and view.time_ms == 200.0
    assert "the last at or before the time cursor" in view._time_label.object
    view.show_time(300.0)
    assert view.snapshot == 3
    view.show_time(-5.0)
    assert view.snapshot == 0
    view.show_time(9999.0)
    assert view.snapshot == 4


@pytest.mark.slow
def test_results_view_hands_the_run_to_the_cursor_and_the_graph():
    project = load_project("sample_projects/lif_single_neuron.json")
    result = simulate(project)
    view, editor = ResultsView(), GraphEditor()
    view.link_graph(editor)
    assert editor.cursor_channel == view.cursor.channel
    assert not view.cursor.visible and editor.activity == {}
    document = project.to_dict()
    view.show_document(document)
    view.run_started(document)
    assert view.show(result)
    assert view.cursor.visible and view.cursor.duration_ms == result.duration_ms
    assert view.cursor.step_ms == view.network_activity.step_ms
    # The current input carries no spikes: only the neuron is tinted.
    assert list(editor.activity["nodes"]) == ["neuron"] and editor.activity["edges"] == {}
    # A new run starts: the old run's playback goes (the cursor bar stays in place, cleared,
    # so that the page is not laid out again); the project is replaced: nothing left.
    view.run_started(document)
    assert view.cursor.visible and view.cursor.duration_ms == 0.0 and editor.activity == {}
    assert view.network_activity is None
    assert view.show(result)
    view.clear()
    assert view.network_activity is None and editor.activity == {}
    assert view.cursor.duration_ms == 0.0 and not view.cursor.visible
