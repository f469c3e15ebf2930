"""Issue 13 (5): the neuron panel beside the raster, without a browser (in-process probes)."""

from __future__ import annotations

import time

import numpy as np
import panel as pn
import pytest

from engine.analysis.neuron_probe import probe_neuron
from engine.analysis.neuron_stats import rank_neurons
from engine.project import Project
from engine.simulator import simulate
from tests.helpers import connection, document, encoder, monitor
from workbench.results_view import ResultsView


def _doc() -> dict:
    return document(
        [encoder("inp", "poisson", 40, rate_hz=50.0),
         {"id": "pop", "kind": "population", "model": "lif", "size": 12,
          "params": {"v_init_spread": 10.0}},
         monitor("mon", "pop", ["v", "i_exc", "i_inh"], [1])],
        [connection("ff", "inp", "pop", {"dist": "uniform", "low": 0.0, "high": 12.0},
                    "fixed_probability", delay_ms=1.0, connectivity={"p": 0.3})],
        duration_ms=150.0, seed=5)


class Prober:
    """engine.analysis.neuron_probe in this process, counting calls (the workbench uses a
    worker)."""

    def __init__(self):
        self.calls: list[tuple] = []

    def __call__(self, doc, population, neuron, duration_ms, variables=None, cancel=None):
        self.calls.append((population, neuron, variables))
        return probe_neuron(Project.from_dict(doc), population, neuron, variables,
                            duration_ms=duration_ms, cancel=cancel)


def wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def shown():
    doc = _doc()
    result = simulate(Project.from_dict(doc))
    prober = Prober()
    view = ResultsView(probe=prober)
    view.run_started(doc)
    assert view.show(result)
    return view, result, prober, doc


def _state(view) -> str:
    return view.neuron_panel.note.object


def test_a_click_shows_the_neuron_and_its_exact_trace_beside_the_raster(shown):
    view, result, prober, doc = shown
    panel = view.neuron_panel
    assert panel.__panel__() in view._activity_body.objects  # beside the raster
    view.raster.select_at(view.raster.index.row_y("pop", 4))
    assert 'data-neuron="4"' in panel.header.object
    wait(lambda: 'data-state="recorded"' in _state(view))
    assert prober.calls == [("pop", 4, None)]
    expected = probe_neuron(Project.from_dict(doc), "pop", 4).traces
    line = panel.plots.lines["v"].data
    k = np.rint(np.asarray(line["t"]) / result.dt_ms).astype(int)
    np.testing.assert_array_equal(np.asarray(line["v"]), expected.values["v"][k, 0])
    net = panel.plots.lines["net"].data["v"]
    np.testing.assert_array_equal(net, expected.values["i_exc"][k, 0]
                                  + expected.values["i_inh"][k, 0])
    assert len(panel.plots.incoming_source.data["t"]) > 0
    assert 'data-testid="neuron-incoming"' in panel.tables.object
    assert sum(panel.plots.isi_source.data["count"]) == max(
        0, int(((result.spikes["population"] == "pop") & (result.spikes["neuron"] == 4)).sum())
        - 1)
    assert panel.timing["click_to_plot_s"] >= panel.timing["probe_s"] > 0
    # Back to the same neuron later: from the cache, no second re-run.
    view.raster.select_at(view.raster.index.row_y("pop", 5))
    wait(lambda: len(prober.calls) == 2 and 'data-state="recorded"' in _state(view))
    view.raster.select_at(view.raster.index.row_y("pop", 4))
    assert len(prober.calls) == 2 and 'data-state="recorded"' in _state(view)
    np.testing.assert_array_equal(panel.plots.lines["v"].data["v"], line["v"])


def test_a_monitored_neuron_is_not_run_again_for_its_traces(shown):
    view, result, prober, _ = shown
    view.raster.select_at(view.raster.index.row_y("pop", 1))
    # Its monitor's traces at once; only its synapses are looked up.
    np.testing.assert_array_equal(view.neuron_panel.plots.lines["v"].data["v"],
                                  result.traces["mon"].values["v"][:, 0])
    wait(lambda: 'data-state="monitor"' in _state(view))
    assert prober.calls == [("pop", 1, [])]


def test_ranking_entries_jump_to_their_neuron(shown):
    view, result, _, _ = shown
    panel = view.neuron_panel
    assert panel.population.options == ["inp", "pop"]
    panel.population.value = "pop"
    panel.rank_by.value = "rate"
    panel.rank_top.value = 3
    expected = rank_neurons(result, "pop", "rate", top=3)["neuron"].tolist()
    entries = panel.ranking.objects
    assert [e.label.split("[")[1].split("]")[0] for e in entries] == [str(n) for n in expected]
    entries[1].clicks += 1
    assert view.raster.selected == {"population": "pop", "neuron": expected[1]}
    assert f'data-neuron="{expected[1]}"' in panel.header.object
    # Ranked by first spike, the jump also brings that spike into view.
    view.raster.x_range.update(start=100.0, end=120.0)
    panel.rank_by.value = "first_spike"
    first = rank_neurons(result, "pop", "first_spike", top=1)
    panel.ranking.objects[0].clicks += 1
    assert view.raster.selected == {"population": "pop", "neuron": int(first["neuron"][0])}
    assert view.raster.x_range.start <= first["value"][0] <= view.raster.x_range.end
    # A typed index does the same; an index out of range says which are valid.
    panel.index.value = 11
    panel.show_button.clicks += 1
    assert view.raster.selected == {"population": "pop", "neuron": 11}
    panel.index.value = 12
    panel.show_button.clicks += 1
    assert "must be in [0, 11]" in panel.header.object


def test_clearing_the_result_forgets_the_neuron(shown):
    view, _, prober, _ = shown
    view.raster.select_at(view.raster.index.row_y("pop", 4))
    wait(lambda: 'data-state="recorded"' in _state(view))
    view.clear()
    view._clear_views()
    panel = view.neuron_panel
    assert not panel._cache and panel.result is None and panel.ranking.objects == []
    assert "ss-hint" in panel.header.object and len(panel.plots.lines["v"].data["t"]) == 0


def test_a_new_live_run_empties_the_panel_until_its_result(shown):
    view, result, _, doc = shown
    view.raster.select_at(view.raster.index.row_y("pop", 4))
    wait(lambda: 'data-state="recorded"' in _state(view))
    view.run_started(doc)
    view.show_live(result.spikes.iloc[:50], 20.0)
    panel = view.neuron_panel
    assert "The run is going on" in panel.header.object and panel.result is None
    view.raster.select_at(view.raster.index.row_y("pop", 3))  # nothing to show yet
    assert "The run is going on" in panel.header.object
    assert view.show(result)
    assert panel.result is result and len(panel.ranking.objects) > 0


def test_a_new_result_relabels_the_rankings_buttons(shown):
    # New buttons are new views the browser builds (and lays the page out for) at each run.
    view, result, _, doc = shown
    panel = view.neuron_panel
    panel.population.value = "pop"
    before = list(panel.ranking.objects)
    assert len(before) > 1 and all(isinstance(b, pn.widgets.Button) for b in before)
    view.run_started(doc)
    view.show_live(result.spikes.iloc[:50], 20.0)
    assert panel.ranking.objects == before  # kept while the run goes on
    assert view.show(result)
    assert [id(b) for b in panel.ranking.objects] == [id(b) for b in before]
    labels = [b.label for b in before]
    panel.rank_by.value = next(v for v in panel.rank_by.options.values()
                               if v != panel.rank_by.value)
    assert [id(b) for b in panel.ranking.objects][:len(before)] == \
        [id(b) for b in before][:len(panel.ranking.objects)]
    assert [b.label for b in panel.ranking.objects] != labels
    panel.ranking.objects[0].clicks += 1  # the relabelled button picks its new neuron
    pop, neuron, _ = panel._rank_targets[id(panel.ranking.objects[0])]
    assert panel.shown == (pop, neuron)
