"""A check's figure: the f-I and capacity checks return their curves as data, the Lab notes tab
draws them from the registry under the outcome."""

from __future__ import annotations

import numpy as np
import pytest

from engine.labs import FigureData
from engine.labs.catalogue import find_lab
from engine.labs.checks_basic import _lif_params, fi_curve, lif_rate_hz
from engine.labs.lab_file import solution_project
from workbench.lab_figures import LAB_FIGURES, figure_of


def _glyph_data(fig) -> list[dict]:
    return [dict(r.data_source.data) for r in fig.renderers]


def test_fi_check_returns_measured_points_and_the_analytic_curve():
    entry = find_lab("lif")
    steps = [s.id for s in entry.lab.steps]
    project = solution_project(entry.project(), entry.lab, steps.index("fi-curve"))
    obs = fi_curve(project, None, population="neuron", input="input",
                   amplitudes_mv=[5.0, 20.0], tolerance=0.05)
    assert obs.figure is not None and obs.figure.kind == "fi_curve"
    series = obs.figure.series
    assert series["amplitude_mv"] == (5.0, 20.0)
    assert series["rate_hz"] == (obs.measured["rate_hz_at_5mV"], obs.measured["rate_hz_at_20mV"])
    p = _lif_params(project, "neuron")
    for a, r in zip(series["analytic_amplitude_mv"], series["analytic_rate_hz"], strict=True):
        assert r == pytest.approx(lif_rate_hz(a, p["tau_m"], p["v_thresh"], p["v_rest"],
                                              p["t_ref"]))
    assert series["rate_hz"][0] == 0.0 and series["rate_hz"][1] > 0  # 5 mV is below threshold


def test_fi_figure_overlays_measured_dots_on_the_labelled_analytic_line():
    fig = figure_of(FigureData("fi_curve", {
        "amplitude_mv": (5.0, 20.0), "rate_hz": (0.0, 40.0),
        "analytic_amplitude_mv": (0.0, 10.0, 20.0), "analytic_rate_hz": (0.0, 0.0, 41.0)}))
    data = _glyph_data(fig)
    assert {"x": [0.0, 10.0, 20.0], "y": [0.0, 0.0, 41.0]} in data
    assert {"x": [5.0, 20.0], "y": [0.0, 40.0]} in data
    assert fig.xaxis[0].axis_label and fig.yaxis[0].axis_label == "firing rate (Hz)"
    assert [item.label["value"] for item in fig.legend[0].items] == ["analytic", "measured"]


def test_capacity_figure_is_drawn_from_the_checks_series():
    fig = figure_of(FigureData("hopfield_capacity", {
        "n_patterns": (2.0, 25.0), "quality": (1.0, 0.2), "n_neurons": (100.0,)}))
    assert {"p": [2, 25], "q": [1.0, 0.2]} in _glyph_data(fig)


def test_receptive_fields_are_drawn_from_the_learned_weights_with_their_labels():
    from engine.labs.checks_self_organisation import fields_figure

    weights = np.arange(64 * 3, dtype=float).reshape(64, 3)
    data = fields_figure(weights, np.array([7, -1, 2]))
    assert data.series["shape"] == (8.0, 8.0, 3.0)
    fig = figure_of(data)
    texts = [list(d["text"]) for d in _glyph_data(fig) if "text" in d]
    assert texts == [["7", "-", "2"]]
    image = [d["image"][0] for d in _glyph_data(fig) if "image" in d][0]
    assert image.shape == (8, 3 * 9 - 1)  # three 8x8 fields side by side, 1-pixel gaps


def test_no_figure_or_an_unknown_kind_draws_nothing():
    assert figure_of(None) is None
    assert figure_of(FigureData("no-such-figure", {})) is None
    assert set(LAB_FIGURES) >= {"fi_curve", "hopfield_capacity", "receptive_fields"}
