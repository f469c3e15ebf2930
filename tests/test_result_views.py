"""Pure rules behind the result views (issue 9): ownership stamps, axes, labels, names."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest

from engine.evaluation.scenario_fit import default_scenarios, why_not_ratable
from engine.project import load_project
from widgets.plot_format import (
    file_stem,
    group_traces,
    recorded_populations,
    spike_count_text,
    time_axis,
    trace_group,
    value_axis_end,
)
from widgets.summary import NOT_RECORDED, summary_display
from workbench.result_stamp import ResultStamp, document_revision, header_html

SAMPLES = "sample_projects"


def _doc(**sim) -> dict:
    return {"name": "CUBA", "network": {"nodes": [{"id": "a"}], "projections": []},
            "simulation": {"duration_ms": 1000.0, **sim}, "layout": {"positions": {}},
            "lab": "notes"}


# ---------------------------------------------------------------------------- ownership
def test_revision_changes_with_the_model_not_with_layout_or_notes():
    doc = _doc()
    moved = {**doc, "layout": {"positions": {"a": [1, 2]}}, "lab": "other notes"}
    longer = _doc(duration_ms=2000.0)
    assert document_revision(doc) == document_revision(moved)
    assert document_revision(doc) != document_revision(longer)
    assert document_revision(None) == ""


def test_stamp_header_and_stale_badge():
    doc = _doc()
    stamp = ResultStamp("CUBA", document_revision(doc), 3, datetime(2026, 12, 1, 15, 42))
    assert stamp.header(1000.0) == "Run 3 of CUBA, 1000 ms, at 15:42"
    assert "stopped early" in stamp.header(400.0, "cancelled")
    fresh = header_html(stamp, doc, 1000.0)
    assert 'data-stale="false"' in fresh and "earlier version" not in fresh
    stale = header_html(stamp, _doc(duration_ms=5.0), 1000.0)
    assert 'data-stale="true"' in stale and "earlier version" in stale
    assert 'data-run=""' in header_html(None, doc)


def test_header_escapes_the_project_name():
    stamp = ResultStamp("<b>x</b>", "r", 1, datetime(2026, 1, 1))
    assert "<b>x</b>" not in header_html(stamp, None)


# ---------------------------------------------------------------------------- axes, labels
@pytest.mark.parametrize(("duration", "unit"), [(None, "ms"), (200.0, "ms"), (10_000.0, "ms"),
                                                (50_000.0, "s"), (math.inf, "ms")])
def test_long_runs_are_labelled_in_seconds(duration, unit):
    assert time_axis(duration).unit == unit
    assert time_axis(duration).label == f"time ({unit})"


def test_time_labels_never_use_scientific_notation():
    assert time_axis(50_000.0).format(50_000.0) == "50"
    assert time_axis(50_000.0).format(12_500.0) == "12.5"
    assert time_axis(1000.0).format(250.0) == "250"
    assert "e" not in time_axis(1000.0).format(1e7)


def test_value_axis_of_a_silent_network_is_zero_to_one():
    assert value_axis_end([]) == 1.0
    assert value_axis_end([0.0, 0.0, float("nan")]) == 1.0
    assert value_axis_end([10.0, 50.0]) == pytest.approx(54.0)


def test_recorded_populations_and_count_text():
    nodes = ["clock", "afferents", "distractors", "out"]
    assert recorded_populations("all", nodes) == set(nodes)
    assert recorded_populations(("clock", "out"), nodes) == {"clock", "out"}
    assert spike_count_text(1234, True) == "1,234"
    assert spike_count_text(0, False) == "not recorded"


def test_voltage_and_currents_get_separate_axes():
    assert trace_group("v") != trace_group("i_exc") == trace_group("i_inh")
    assert group_traces(["v", "i_exc", "i_inh", "v", "u"]) == {
        "membrane potential": [0, 3], "synaptic / input currents": [1, 2], "u": [4]}


def test_file_names_follow_project_and_run():
    assert file_stem("CUBA balanced network", 3, "spikes") == "CUBA_balanced_network-run3-spikes"
    assert file_stem("../../etc/passwd", 1, "raster") == "etc_passwd-run1-raster"
    assert file_stem("", None, "x") == "project-x"


def test_summary_says_not_recorded_instead_of_zero():
    frame = pd.DataFrame({"population": ["a", "b"], "size": [10, 5], "spikes": [40, 0],
                          "mean_rate_hz": [4.0, 0.0], "active_fraction": [1.0, 0.0],
                          "cv_isi": [0.5, float("nan")], "fano_factor": [1.0, float("nan")],
                          "recorded": [True, False]})
    shown = summary_display(frame)
    assert shown.loc[1, "spikes"] == NOT_RECORDED and shown.loc[1, "mean_rate_hz"] is None
    assert shown.loc[0, "spikes"] == 40 and "recorded" not in shown.columns
    assert shown.loc[0, "cv_isi"] == 0.5
    # An undefined statistic of a recorded population is blank, not "NaN".
    frame.loc[1, "recorded"] = True
    assert summary_display(frame).loc[1, "cv_isi"] is None


# ---------------------------------------------------------------------------- scenarios
@pytest.mark.parametrize("name", ["cuba_balanced", "lif_single_neuron"])
def test_networks_without_spike_inputs_are_explained_up_front(name):
    reason = why_not_ratable(load_project(f"{SAMPLES}/{name}.json"))
    assert reason is not None and "spike" in reason and "Add a spike encoder" in reason


@pytest.mark.parametrize("name", ["energy_sparse_vs_dense", "stdp_pattern"])
def test_networks_with_spike_inputs_are_ratable(name):
    assert why_not_ratable(load_project(f"{SAMPLES}/{name}.json"), default_scenarios()) is None


def test_no_scenarios_is_explained():
    assert "no scenarios" in why_not_ratable(load_project(f"{SAMPLES}/stdp_pattern.json"), [])


# ---------------------------------------------------------------------------- the view
@pytest.fixture(scope="module")
def lif_result():
    from engine.simulator import simulate

    project = load_project(f"{SAMPLES}/lif_single_neuron.json")
    return project.to_dict(), simulate(project)


def test_results_view_owns_its_result_and_clears_every_tab(lif_result):
    from workbench.analysis_tabs import EnergyTab, WeightsTab
    from workbench.builtin_views import ActivityTab, SummaryTab, TracesTab
    from workbench.results_view import ResultsView

    document, result = lif_result
    view = ResultsView(views=[ActivityTab, TracesTab, SummaryTab])
    weights, energy = WeightsTab(), EnergyTab()
    view.add_view(weights)
    view.add_view(energy)
    view.document = document
    assert not view.show(result), "a result without a started run is not shown"
    view.run_started(document)
    assert view.show(result) and view.result is result
    assert view.download_spikes.filename == "Single_LIF_neuron-run1-spikes.csv"
    assert 'data-run="1"' in view.header.object and 'data-stale="false"' in view.header.object
    view.document = {**document, "simulation": {**document["simulation"], "seed": 99}}
    assert 'data-stale="true"' in view.header.object
    view.tabs.active = 4  # Energy: computed when opened
    assert energy.result is result
    view.run_started(document)  # a run of the old project is still going...
    view.clear()                # ...when another project is opened
    assert view.result is None and energy.result is None and weights.result is None
    assert view.view("summary").summary.summary is None and view.raster.spikes is None
    assert view.download_spikes.disabled and 'data-run=""' in view.header.object
    assert not view.show(result), "the old project's run must not show up after Open"
    assert view.run_started(document).run == 1, "runs are counted per project"
