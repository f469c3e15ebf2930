"""How a run's result is pushed to the result views: only what is on screen, in place."""

from __future__ import annotations

import copy

import pytest

from engine.project import load_project
from engine.simulator import simulate
from engine.spike_stats import population_rates
from widgets.rates import RatePlot
from workbench.results_view import ResultsView
from workbench.storage import SAMPLES_DIR


@pytest.fixture(scope="module")
def result():
    return simulate(load_project(SAMPLES_DIR / "cuba_balanced.json"))


def test_traces_are_plotted_when_their_tab_opens(result):
    view = ResultsView()
    document = load_project(SAMPLES_DIR / "cuba_balanced.json").to_dict()
    view.run_started(document)  # a result is shown only for the run started last
    assert view.show(result)
    assert view.view("traces").traces.traces == []  # the Traces tab is not open: nothing built yet
    view.tabs.active = 1
    traces = view.view("traces").traces.traces
    assert traces and {t.population for t in traces} == {"exc"}
    shown = view.view("traces").traces.traces
    view.run_started(document)
    assert view.show(copy.copy(result))  # while the Traces tab is open, a new one is plotted
    assert view.view("traces").traces.traces is not shown


def test_rate_plot_updates_its_data_in_place_for_the_same_populations(result):
    sizes = result.sizes
    first = population_rates(result.spikes, sizes, result.duration_ms, bin_ms=10.0)
    plot = RatePlot(rates=first)
    figure, source = plot.figure, plot.figure.renderers[0].data_source
    second = population_rates(result.spikes, sizes, result.duration_ms, bin_ms=5.0)
    plot.rates = second
    assert plot.figure is figure and figure.renderers[0].data_source is source
    assert list(source.data["time_ms"]) == list(second["time_ms"])
    assert list(source.data["c0"]) == list(second[second.columns[1]])
    plot.rates = second[["time_ms", second.columns[1]]]  # other populations: a new figure
    assert plot.figure is not figure and len(plot.figure.renderers) == 1
