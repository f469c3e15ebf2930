"""The Sweep tab (workbench.sweep_tab) without a browser: its fields, a 1-D and a 2-D sweep
filling the plot, Stop keeping the finished rows, bad ranges, the CSV and opening a point.
Its pollers are driven by the test; the sweep runs in a real worker process."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from engine.project import Project
from engine.sweep.summary import metric_columns, over_seeds
from tests.test_sweep import small_network
from workbench import sweep_tab
from workbench.view_protocol import ViewContext


class _Poller:
    def stop(self) -> None:
        pass


@pytest.fixture
def tab(monkeypatch):
    monkeypatch.setattr(sweep_tab.pn.state, "add_periodic_callback",
                        lambda callback, period: _Poller())
    opened = []
    view = sweep_tab.SweepTab(ViewContext(open_project=lambda p, name: opened.append((p, name))))
    view.opened = opened
    view.set_project(small_network(50.0))
    yield view
    view.close()


def _finish(view) -> None:
    view.job._thread.join(timeout=600)
    view.job._poll()


def test_over_seeds_means_and_spreads():
    rows = pd.DataFrame({"point": [0, 0, 1, 1], "seed": [1, 2, 1, 2], "a": [1.0, 1.0, 2.0, 2.0],
                         "status": ["completed"] * 3 + ["time_limit"], "error": "",
                         "m": [1.0, 3.0, 5.0, 9.0], "wall_s": 0.1, "worker": "w"})
    assert metric_columns(rows, ["a"]) == ["m"]
    out = over_seeds(rows, ["a"], "m")
    assert out.to_dict("list") == {"a": [1.0, 2.0], "mean": [2.0, 5.0], "std": [1.0, 0.0],
                                   "n": [2, 1]}


def test_fields_offered_and_chosen(tab):
    assert "exc.tau_m" in tab.field1.options and "inh_exc.weight" in tab.field1.options
    assert "drive.rate_hz" in tab.field1.options
    tab.choose("exc.tau_m")
    assert tab.field1.value == "exc.tau_m"
    assert (tab.start1.value, tab.stop1.value) == (10.0, 30.0)


def test_a_bad_range_is_shown_and_nothing_runs(tab):
    tab.field1.value = "exc.tau_m"
    tab.start1.value, tab.stop1.value = -5.0, 10.0
    assert not tab.start()
    assert 'data-testid="sweep-error"' in tab.state.object
    assert "must be &gt; 0" in tab.state.object
    assert tab.job._thread is None


@pytest.mark.slow
def test_a_one_parameter_sweep_fills_the_plot_and_opens_a_point(tab):
    tab.field1.value = "exc.tau_m"
    tab.start1.value, tab.stop1.value, tab.num1.value, tab.seeds.value = 10.0, 30.0, 3, 2
    assert tab.start()
    _finish(tab)
    assert 'data-state="completed"' in tab.state.object
    assert len(tab.rows) == 6 and tab.metric.value == "exc.rate_hz"
    assert list(tab.plot.source.data["f0"]) == [10.0, 20.0, 30.0]
    assert all(n == 2 for n in tab.plot.source.data["n"])
    assert tab._csv().getvalue().startswith("point,seed,exc.tau_m,status,")
    tab.plot.source.selected.indices = [1]  # a click on the middle point
    project, name = tab.opened[-1]
    assert isinstance(project, Project) and "exc.tau_m=20" in name
    assert project.network.node("exc").params["tau_m"] == 20.0


@pytest.mark.slow
def test_two_parameters_draw_a_heatmap_and_stop_keeps_finished_rows(tab, monkeypatch):
    tab.field1.value, tab.field2.value = "exc.tau_m", "inh.tau_m"
    tab.start1.value, tab.stop1.value, tab.num1.value = 10.0, 30.0, 4
    tab.start2.value, tab.stop2.value, tab.num2.value, tab.seeds.value = 5.0, 15.0, 4, 1
    first = threading.Event()
    report = tab.job.report

    def stop_after_first(latest):
        report(latest)
        first.set()
        tab.job.cancel()

    monkeypatch.setattr(tab.job, "report", stop_after_first)
    assert tab.start()
    assert first.wait(timeout=600)
    _finish(tab)
    assert 'data-state="cancelled"' in tab.state.object
    assert 1 <= len(tab.rows) < 16
    assert "width" in tab.plot.source.data  # the heatmap's cells
