"""The Evaluation tab's data functions, widgets and view (issue 12, item 2), without a browser."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.energy.model import load_profiles
from engine.errors import SpikeStudioError
from engine.evaluation.datasets import Dataset, load_dataset
from engine.evaluation.presentation_sweep import sweep_presentation
from engine.project import load_project
from engine.simulator import simulate
from widgets.evaluation_plots import AccuracyCurve, ConfusionMatrix, EnergyBars, LayerRates
from workbench import compression_section, evaluation_tab
from workbench.evaluation_data import (
    NO_ENCODER,
    choose_dataset,
    energy_frame,
    eval_setup,
    parse_times,
    percent,
    rates_frame,
)
from workbench.view_protocol import ViewContext

DIGITS = "sample_projects/digits_mlp.json"


@pytest.fixture(scope="module")
def sweep():
    return sweep_presentation(load_project(DIGITS), load_dataset("digits"), [10, 30],
                              n_samples=20, max_workers=1)


# ---------------------------------------------------------------------------- data
def test_setup_of_a_converted_project_and_of_one_without_a_dataset():
    setup = eval_setup(load_project(DIGITS))
    assert setup.encoder == "input" and setup.populations == ["layer1", "output"]
    assert setup.default_output == "output" and setup.digits_fit
    assert setup.own_samples == 200
    with pytest.raises(SpikeStudioError) as info:
        eval_setup(load_project("sample_projects/cuba_balanced.json"))
    assert str(info.value) == NO_ENCODER and "dataset encoder" in NO_ENCODER


@pytest.mark.parametrize("text, times", [("10, 20 50", [10.0, 20.0, 50.0]),
                                         ("100ms;5", [100.0, 5.0]), (" 7 ", [7.0])])
def test_presentation_times_parse(text, times):
    assert parse_times(text) == times


@pytest.mark.parametrize("text, words", [("", "at least one"), ("10, ten", "'ten' is not")])
def test_bad_presentation_times_name_the_field(text, words):
    with pytest.raises(SpikeStudioError, match=f"presentation times: .*{words}"):
        parse_times(text)


def test_dataset_choices():
    project = load_project(DIGITS)
    assert choose_dataset("digits", project, None).x.shape == (1000, 64)
    assert len(choose_dataset("project", project, None).y) == 200
    mine = Dataset("mine", np.zeros((2, 64)), np.array([0, 1]))
    assert choose_dataset("upload", project, mine) is mine
    with pytest.raises(SpikeStudioError, match="upload a .csv or .npz file first"):
        choose_dataset("upload", project, None)


def test_rates_in_network_order_with_silent_populations_at_zero(sweep):
    frame = rates_frame(sweep.point(30.0), ["output", "layer1", "ghost"])
    assert frame["population"].tolist() == ["output", "layer1", "ghost"]
    assert frame["rate_hz"].iloc[2] == 0 and (frame["rate_hz"].iloc[:2] > 0).all()


def test_energy_rows_snn_on_every_profile_ann_on_the_dense_ones(sweep):
    profiles = load_profiles()
    frame = energy_frame(sweep.point(30.0), sweep.ann, profiles)
    snn, ann = frame[frame["side"] == "SNN"], frame[frame["side"] == "ANN"]
    assert set(snn["profile"]) == set(profiles)
    assert set(ann["profile"]) == {p for p, v in profiles.items() if v.kind == "dense"}
    by = frame.set_index(["side", "profile"])
    assert "per 1 ms hardware step" in by.loc[("SNN", "loihi"), "basis"]
    assert "event-driven" in by.loc[("SNN", "speck"), "basis"]
    assert "per simulation step" in by.loc[("SNN", "gpu_system"), "basis"]
    assert "rebuilt from the matrix projections" in by.loc[("ANN", "gpu_system"), "basis"]
    report = sweep.point(30.0).report["energy_per_inference_j"]
    assert by.loc[("SNN", "loihi"), "total_j"] == report["loihi"]["total"]
    assert by.loc[("SNN", "loihi"), "part_j"] == report["loihi"]["event_driven"]
    assert by.loc[("ANN", "gpu_system"), "total_j"] == \
        sweep.ann.energy_per_inference_j["gpu_system"]["total"]
    assert by.loc[("SNN", "loihi"), "total_text"].endswith("J")
    assert percent(0.975) == "97.5%" and percent(None) == "n/a"


# ---------------------------------------------------------------------------- widgets
def test_plots_draw_the_data_and_nothing_without_it(sweep):
    curve = AccuracyCurve()
    assert curve.figure is None
    curve.param.update(curve=sweep.curve(), ann_accuracy=0.9, selected=30.0)
    fig = curve.figure
    lines = [r for r in fig.renderers if r.glyph.__class__.__name__ == "Line"]
    assert any(list(r.data_source.data["y"]) == [90.0, 90.0] for r in lines
               if "y" in r.data_source.data)  # the ANN line, in %
    snn = next(r for r in lines if "accuracy" in r.data_source.data)
    assert list(snn.data_source.data["accuracy"]) == pytest.approx(
        [100 * a for a in sweep.curve()["accuracy"]])
    matrix = ConfusionMatrix(matrix=sweep.point(30.0).report["confusion"])
    source = next(r.data_source for r in matrix.figure.renderers)
    assert sum(source.data["count"]) == 20
    rates = LayerRates(rates=pd.DataFrame({"population": ["a", "b"], "rate_hz": [3.0, 0.0]}))
    assert list(rates.figure.x_range.factors) == ["a", "b"]
    bars = EnergyBars(energy=energy_frame(sweep.point(30.0), sweep.ann, load_profiles()))
    assert len(bars.figure.y_range.factors) == len(load_profiles()) + 4
    assert EnergyBars(energy=None).figure is None


def test_plots_update_in_place_for_data_of_the_same_shape(sweep):
    """Another presentation time: same figure, new data (no new figure for the browser)."""
    at = {t: sweep.point(t) for t in (10.0, 30.0)}
    matrix = ConfusionMatrix(matrix=at[10.0].report["confusion"], title="at 10")
    first = matrix.figure
    matrix.param.update(matrix=at[30.0].report["confusion"], title="at 30")
    assert matrix.figure is first and first.title.text == "at 30"
    cells = next(r.data_source for r in first.renderers)
    assert list(cells.data["count"]) == np.ravel(at[30.0].report["confusion"]).tolist()
    bars = EnergyBars(energy=energy_frame(at[10.0], sweep.ann, load_profiles()))
    first = bars.figure
    bars.energy = energy_frame(at[30.0], sweep.ann, load_profiles())
    totals = next(r.data_source for r in first.renderers).data["total_j"]
    assert bars.figure is first and totals[0] == \
        at[30.0].report["energy_per_inference_j"]["cmos45_fp32"]["total"]
    curve = AccuracyCurve(curve=sweep.curve(), selected=10.0)
    first = curve.figure
    curve.selected = 30.0
    ring = [r.data_source for r in first.renderers if "x" in r.data_source.data][0]
    assert curve.figure is first and list(ring.data["x"]) == [30.0]
    curve.ann_accuracy = 0.5  # a new line: a new figure
    assert curve.figure is not first


# ---------------------------------------------------------------------------- the view
class _Poller:
    def stop(self) -> None:
        pass


def _simulate(project, cancel=None, progress=None):
    return simulate(project, cancel=cancel, progress=progress)


@pytest.fixture
def in_process(monkeypatch):
    """The tab's runs in this process (no worker pool), its pollers driven by the test."""
    for module in (evaluation_tab, compression_section):
        monkeypatch.setattr(module.runner, "simulate", _simulate)
    monkeypatch.setattr(evaluation_tab.pn.state, "add_periodic_callback",
                        lambda callback, period: _Poller())


def _tab(project_file: str):
    project = load_project(project_file)
    with open(project_file) as f:
        document = json.load(f)
    tab = evaluation_tab.EvaluationTab(ViewContext(get_project=lambda: project))
    tab.set_project(document)
    return tab, document


def _evaluate(tab) -> None:
    tab.start()
    tab.job._thread.join(timeout=120)
    tab.job._poll()


def test_the_tab_evaluates_shows_and_marks_stale_results(in_process):
    tab, document = _tab(DIGITS)
    assert tab.output.value == "output" and tab.dataset.value == "digits"
    assert not tab.why_not.visible and not tab.results.visible
    tab.samples.value, tab.times.value = 15, "20, 5"
    _evaluate(tab)
    assert 'data-state="completed"' in tab.status.object
    assert tab.results.visible and tab.shown_time.value == 20.0
    assert 'data-testid="eval-accuracy"' in tab.summary.object
    assert "ANN" in tab.summary.object and "15 samples" in tab.summary.object
    assert all(p.figure is not None for p in (tab.accuracy, tab.confusion, tab.rates,
                                              tab.energy))
    assert tab.confusion.title == "Confusion matrix at 20 ms"
    tab.shown_time.value = 5.0
    assert tab.confusion.title == "Confusion matrix at 5 ms" and tab.accuracy.selected == 5.0
    assert 'data-profile="loihi"' in tab.energy_note.object
    assert "eval-stale" not in tab.summary.object
    edited = {**document, "simulation": {**document["simulation"], "seed": 7}}
    tab.set_project(edited)
    assert "eval-stale" in tab.summary.object
    tab.clear()
    assert not tab.results.visible and tab.sweep is None


def test_the_tab_reports_bad_input_and_explains_a_project_it_cannot_evaluate(in_process):
    tab, _ = _tab(DIGITS)
    tab.times.value = "10, soon"
    tab.start()
    assert 'data-state="error"' in tab.status.object and "soon" in tab.status.object
    assert tab.job._thread is None
    cuba, _ = _tab("sample_projects/cuba_balanced.json")
    assert cuba.why_not.visible and "dataset encoder" in cuba.why_not.object
    assert not cuba.controls.visible and cuba.run_button.disabled


def test_an_uploaded_file_is_escaped_and_used(in_process):
    tab, _ = _tab(DIGITS)
    tab.dataset.value = "upload"
    assert tab.file.visible
    rows = "\n".join(",".join(["0.5"] * 64 + [str(i % 3)]) for i in range(4))
    header = ",".join([f"f{j}" for j in range(64)] + ["label"])
    tab.file.filename = "<b>mine</b>.csv"
    tab.file.value = f"{header}\n{rows}\n".encode()
    assert "4 samples of 64 features" in tab.file_note.object
    assert "<b>mine" not in tab.file_note.object
    tab.samples.value, tab.times.value = 4, "10"
    _evaluate(tab)
    assert 'data-state="completed"' in tab.status.object
    assert "4 samples" in tab.summary.object
