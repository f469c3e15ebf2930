"""Checks of the self-organisation lab (Diehl & Cook 2015 on the 8x8 digits).

``self_organisation_competition`` looks at the run on show: lateral inhibition makes the
neurons compete, so only a few of them answer each digit. ``self_organisation_score`` runs
the whole procedure from the student's project (:mod:`engine.labs.self_organisation`): train
with STDP, label the neurons, classify held-out digits.
"""

from __future__ import annotations

import math

import numpy as np

from engine.core.results import SimulationResult
from engine.encoders.samples import dataset_windows
from engine.errors import SpikeStudioError
from engine.evaluation.classify import dataset_node
from engine.labs.observation import FigureData, Observation, observation
from engine.labs.self_organisation import train_and_score, window_counts
from engine.project import Project


@observation("self_organisation_competition")
def competition(project: Project, result: SimulationResult | None, *, population: str,
                encoder: str, max_active: float) -> Observation:
    """On average at most ``max_active`` neurons of ``population`` fire per digit shown."""
    if result is None:
        return Observation(False, "There is no run to check yet: run the project first.")
    try:
        node = dataset_node(project, encoder)
    except SpikeStudioError as exc:
        return Observation(False, str(exc), {}, "The check needs the lab's dataset encoder.")
    values = node.resolved_params()
    w = dataset_windows(values, project.simulation.dt_ms,
                        int(round(result.duration_ms / project.simulation.dt_ms)))
    size = project.network.node(population).size
    counts = window_counts(result, population, w.start * project.simulation.dt_ms,
                           values["present_ms"], size)
    if not len(counts):
        return Observation(False, "The run showed no digit.", {}, "Run the project.")
    active = (counts > 0).sum(axis=1)
    answered = active > 0
    mean_active = float(active[answered].mean()) if answered.any() else 0.0
    measured = {"digits": float(len(counts)), "answered": float(answered.mean()),
                "mean_active_neurons": mean_active,
                "distinct_winners": float(len(set(counts[answered].argmax(axis=1))))}
    text = (f"{int(answered.sum())} of {len(counts)} digits got an answer from {population!r}; "
            f"on average {mean_active:.1f} of its {size} neurons fired per digit")
    if answered.all() and mean_active <= max_active:
        return Observation(True, text + ": the neurons compete.", measured)
    missing = "every digit should make some neuron fire" if not answered.all() else \
        f"at most {max_active:g} neurons should fire per digit"
    return Observation(False, f"{text}; {missing}.", measured,
                       "Which projection lets the first neuron to fire silence the others? "
                       "Look at its weight.")


def fields_figure(weights: np.ndarray, labels: np.ndarray) -> FigureData:
    """The learned ``(n_inputs, n_neurons)`` weights as receptive fields (square images when
    the inputs are a square number, as the 8x8 digits are, else one row), with the labels."""
    n_inputs, n_neurons = weights.shape
    side = math.isqrt(n_inputs)
    shape = (side, side) if side * side == n_inputs else (1, n_inputs)
    return FigureData("receptive_fields", {
        "weights": tuple(float(w) for w in np.asarray(weights, np.float64).ravel()),
        "shape": (float(shape[0]), float(shape[1]), float(n_neurons)),
        "labels": tuple(float(label) for label in labels)})


@observation("self_organisation_score")
def score(project: Project, result: SimulationResult | None, *, population: str,
          projection: str, n_train: int, n_label: int, n_test: int, min_accuracy: float,
          max_neurons: int, block: int = 10, weight_sum: float | None = None,
          epochs: int = 1) -> Observation:
    """Trained with STDP, labelled and tested on held-out digits, the network classifies at
    least ``min_accuracy`` of them with at most ``max_neurons`` neurons."""
    try:
        s = train_and_score(project, population=population, projection=projection,
                            n_train=n_train, n_label=n_label, n_test=n_test, block=block,
                            weight_sum=weight_sum, epochs=epochs)
    except SpikeStudioError as exc:
        return Observation(False, str(exc), {}, "The check needs the lab's network: a dataset "
                           "encoder feeding the plastic projection.")
    measured = {"accuracy": s.accuracy, "neurons": float(s.n_neurons),
                "classes_covered": float(s.classes_covered), "silent_test": s.silent_test,
                "chance": 0.1}
    text = (f"Trained on {s.n_train} digits ({epochs} pass(es)), {s.n_neurons} neurons "
            f"labelled on {s.n_label} ({s.classes_covered} of 10 classes have neurons); "
            f"{s.accuracy:.1%} of {s.n_test} held-out digits classified correctly "
            f"({s.silent_test:.1%} got no answer)")
    missing = []
    if s.accuracy < min_accuracy:
        missing.append(f"the target is {min_accuracy:.0%}")
    if s.n_neurons > max_neurons:
        missing.append(f"with at most {max_neurons} neurons")
    figure = fields_figure(s.weights, s.labels)
    if not missing:
        return Observation(True, text + ".", measured, figure=figure)
    return Observation(False, text + "; " + ", ".join(missing) + ".", measured,
                       "Without learning, random weights already give a score well above "
                       "chance: compare your STDP amplitudes and the thresholds' adaptation "
                       "with the lab's notes.", figure=figure)


__all__ = ["competition", "fields_figure", "score"]
