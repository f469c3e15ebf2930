"""engine.labs.self_organisation: labelling, voting, normalisation and the training procedure."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from engine.labs.self_organisation import (
    assign_labels,
    classify,
    normalise_columns,
    train_and_score,
    window_counts,
)
from engine.project import Project


def test_window_counts_bin_each_neurons_spikes_by_presentation():
    spikes = pd.DataFrame({"time_ms": [1.0, 5.0, 12.0, 15.0, 31.0, 27.0],
                           "population": ["exc", "exc", "exc", "inp", "exc", "exc"],
                           "neuron": [0, 0, 1, 0, 2, 1]})
    counts = window_counts(SimpleNamespace(spikes=spikes), "exc", np.array([0.0, 10.0, 20.0]),
                           present_ms=6.0, size=3)
    # 12 ms falls in the second presentation; 27 ms is in the pause after the third
    assert counts.tolist() == [[2, 0, 0], [0, 1, 0], [0, 0, 0]]


def test_neurons_are_labelled_by_their_mean_response_and_samples_by_class_votes():
    counts = np.array([[5, 0, 0], [4, 1, 0], [0, 3, 0], [1, 4, 0]])
    labels = np.array([0, 0, 1, 1])
    neuron_labels = assign_labels(counts, labels, n_classes=2)
    assert neuron_labels.tolist() == [0, 1, -1]  # neuron 2 never fired
    test = np.array([[3, 0, 0], [0, 2, 0], [0, 0, 0]])
    assert classify(test, neuron_labels, 2).tolist() == [0, 1, -1]


def test_normalise_columns_fixes_each_neurons_total_input_weight():
    w = np.array([[1.0, 0.0], [3.0, 0.0]])
    out = normalise_columns(w, 8.0)
    assert out[:, 0].tolist() == [2.0, 6.0] and out[:, 1].tolist() == [0.0, 0.0]


def _network(a_plus: float) -> Project:
    x = np.linspace(0.0, 1.0, 64)
    return Project.from_dict({
        "format": "spikestudio-project", "version": 1, "name": "tiny",
        "network": {
            "nodes": [
                {"id": "digits", "kind": "encoder", "model": "dataset", "size": 64,
                 "params": {"samples": [x.tolist()], "labels": [0], "present_ms": 50.0,
                            "pause_ms": 20.0, "reset": False, "max_rate_hz": 200.0}},
                {"id": "exc", "kind": "population", "model": "adaptive_lif", "size": 10,
                 "params": {"tau_m": 20.0, "v_rest": -65.0, "v_reset": -65.0,
                            "v_thresh": -55.0, "delta_thresh": 0.5, "tau_adapt": 5000.0,
                            "v_init": -65.0}}],
            "projections": [
                {"id": "ff", "source": "digits", "target": "exc",
                 "weight": {"dist": "uniform", "low": 0.0, "high": 1.5}, "receptor": "exc",
                 "plasticity": {"rule": "stdp", "a_plus": a_plus, "a_minus": 0.0,
                                "w_max": 20.0}},
                {"id": "lateral", "source": "exc", "target": "exc", "weight": -30.0,
                 "connectivity": {"rule": "all_to_all", "allow_autapses": False},
                 "receptor": "inh"}]},
        "simulation": {"duration_ms": 70.0, "dt_ms": 0.5, "seed": 3},
    })


@pytest.mark.slow
def test_train_and_score_learns_normalised_fields_and_scores_held_out_digits():
    kwargs = {"population": "exc", "projection": "ff", "n_train": 20, "n_label": 20,
              "n_test": 30, "block": 10, "weight_sum": 48.0}
    learned = train_and_score(_network(a_plus=0.1), **kwargs)
    frozen = train_and_score(_network(a_plus=0.0), **kwargs)
    assert learned.weights.shape == (64, 10) and learned.n_test == 30
    assert np.allclose(learned.weights.sum(axis=0), 48.0)
    assert 0.0 <= learned.accuracy <= 1.0 and learned.labels.shape == (10,)
    # STDP moved the weights towards the digits' ink: the dark border gets less of the total
    border = np.zeros((8, 8), bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    share = lambda s: s.weights[border.ravel()].sum() / s.weights.sum()  # noqa: E731
    assert share(learned) < share(frozen)
