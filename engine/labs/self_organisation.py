"""Unsupervised learning of digits by competitive STDP (after Diehl & Cook 2015), and its score.

The network a project describes: a ``dataset`` encoder (the digits, rate coded) feeds an
excitatory population of adaptive-threshold neurons through a plastic projection (STDP); the
excitatory neurons inhibit each other (lateral inhibition: the first to fire suppresses the
rest) and each one's threshold rises with its own activity (homeostasis: a neuron that wins
too often gets harder to excite). Nothing in it sees a label.

:func:`train_and_score` runs the whole procedure from such a project:

1. **train**: the training digits once, with plasticity on, in blocks of digits; after each
   block each neuron's incoming weights are scaled to a fixed sum (Diehl & Cook's weight
   normalisation, which the engine's STDP rule lacks); the learned weights are kept;
2. **label and test**: one run with those weights fixed (plasticity off) presenting a few
   warm-up digits (the thresholds settle again), labelling digits and the held-out digits;
   every neuron is labelled with the class it responds to most on average over the labelling
   digits (the only use of labels), and each held-out digit is classified as the class whose
   neurons respond most to it on average.

The labels of the held-out digits are used only to count the correct answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.datasets import Dataset, digits_split
from engine.encoders.samples import dataset_windows
from engine.evaluation import dataset_node
from engine.project import Project
from engine.results import SimulationResult
from engine.simulator import simulate

__all__ = ["Score", "assign_labels", "classify", "learned_matrix", "normalise_columns",
           "train_and_score",
           "window_counts"]


@dataclass(frozen=True)
class Score:
    """What the self-organised network achieved.

    Attributes
    ----------
    accuracy
        Share of held-out digits classified correctly.
    n_train, n_label, n_test
        Digits used for training, labelling and testing.
    n_neurons
        Excitatory neurons.
    classes_covered
        Classes that at least one neuron is labelled with.
    silent_test
        Share of held-out digits to which no excitatory neuron responded.
    labels
        The class of each excitatory neuron (-1: never responded while labelling).
    weights
        Learned input -> excitatory weights, ``(n_inputs, n_neurons)``.
    """

    accuracy: float
    n_train: int
    n_label: int
    n_test: int
    n_neurons: int
    classes_covered: int
    silent_test: float
    labels: np.ndarray
    weights: np.ndarray


def window_counts(result: SimulationResult, population: str, starts_ms: np.ndarray,
                  present_ms: float, size: int) -> np.ndarray:
    """``(samples, size)`` spike counts of each neuron during each presentation."""
    spikes = result.spikes
    spikes = spikes[spikes["population"] == population]
    times = spikes["time_ms"].to_numpy()
    neurons = spikes["neuron"].to_numpy().astype(np.int64)
    sample = np.searchsorted(starts_ms, times, side="right") - 1
    inside = (sample >= 0) & (times <= starts_ms[np.maximum(sample, 0)] + present_ms)
    counts = np.zeros((len(starts_ms), size), np.int64)
    np.add.at(counts, (sample[inside], neurons[inside]), 1)
    return counts


def assign_labels(counts: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Each neuron's class: the one with the highest mean response (-1 if it never fired)."""
    mean = np.zeros((n_classes, counts.shape[1]))
    for c in range(n_classes):
        rows = labels == c
        if rows.any():
            mean[c] = counts[rows].mean(axis=0)
    best = mean.argmax(axis=0)
    return np.where(mean.max(axis=0) > 0, best, -1)


def classify(counts: np.ndarray, neuron_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Each sample's class: the one whose neurons respond most on average (-1: no response)."""
    votes = np.full((counts.shape[0], n_classes), -np.inf)
    for c in range(n_classes):
        members = neuron_labels == c
        if members.any():
            votes[:, c] = counts[:, members].mean(axis=1)
    predicted = votes.argmax(axis=1)
    return np.where(counts.sum(axis=1) > 0, predicted, -1)


def learned_matrix(result: SimulationResult, projection: str) -> np.ndarray:
    """The ``(n_pre, n_post)`` weights of a plastic projection at its last snapshot."""
    record = result.weights[projection]
    w = np.zeros((record.n_pre, record.n_post))
    w[record.pre, record.post] = record.snapshots[-1]
    return w


def _with_samples(document: dict, encoder: str, data: Dataset) -> dict:
    doc = dict(document, network=dict(document["network"]))
    nodes = []
    for node in doc["network"]["nodes"]:
        if node["id"] == encoder:
            node = dict(node, params=dict(node["params"], samples=data.x.tolist(),
                                          labels=data.y.tolist()))
        nodes.append(node)
    doc["network"]["nodes"] = nodes
    params = next(n for n in nodes if n["id"] == encoder)["params"]
    period = params.get("present_ms", 50.0) + params.get("pause_ms", 0.0)
    doc["simulation"] = dict(doc["simulation"], duration_ms=len(data.y) * period)
    return doc


def _last_step_snapshot(document: dict) -> dict:
    """Weight snapshots at the first step and after the last one (the learned weights)."""
    sim = document["simulation"]
    return {"every_ms": sim["duration_ms"] - sim["dt_ms"], "synapses": []}


def _block_projection(edge: dict, weights: np.ndarray | None, document: dict) -> dict:
    """The plastic projection of one training block: its learned weights so far (the
    project's own initial weights for the first block), snapshots at both ends."""
    out = dict(edge, record_weights=_last_step_snapshot(document))
    if weights is not None:
        out["connectivity"] = {"rule": "matrix", "weights": np.round(weights, 6).tolist()}
    return out


def normalise_columns(weights: np.ndarray, total: float) -> np.ndarray:
    """Scale each neuron's incoming weights to sum to ``total`` (Diehl & Cook's normalisation).

    Competition then acts on the *shape* of a neuron's receptive field, not its size: a neuron
    cannot win every digit by growing all its weights.
    """
    sums = weights.sum(axis=0, keepdims=True)
    return np.divide(weights * total, sums, out=np.zeros_like(weights), where=sums > 0)


def _concat(*parts: Dataset) -> Dataset:
    return Dataset("digits", np.vstack([p.x for p in parts]), np.concatenate([p.y for p in parts]))


def train_and_score(project: Project, *, population: str, projection: str, n_train: int,
                    n_label: int, n_test: int, n_warmup: int = 20, block: int = 50,
                    weight_sum: float | None = None) -> Score:
    """Train ``project``'s network on digits, label its neurons, score it on held-out digits.

    Parameters
    ----------
    project
        The network (see the module docstring); ``projection`` is its plastic
        input -> ``population`` projection, fed by a ``dataset`` encoder.
    n_train, n_label, n_test
        Training digits (from the 797 of the training split), labelling digits (also from
        the training split) and held-out digits (from the 1,000 of the test split).
    n_warmup
        Training digits shown before labelling, so the thresholds settle with fixed weights.
    block, weight_sum
        Training runs ``block`` digits at a time; after each block every neuron's incoming
        weights are scaled to sum to ``weight_sum`` (:func:`normalise_columns`; None: not
        normalised). The engine's STDP has no normalisation of its own.
    """
    train, test = digits_split()
    encoder = project.network.projection(projection).source
    dataset_node(project, encoder)  # a dataset encoder, else a clear error
    base = project.to_dict()
    base["lab"] = ""  # the lab's steps play no part in these runs
    size = project.network.node(population).size
    weights = None
    for lo in range(0, n_train, block):
        block_doc = _with_samples(base, encoder, train.subset(slice(lo, min(lo + block, n_train))))
        block_doc["network"]["projections"] = [
            _block_projection(p, weights, block_doc) if p["id"] == projection else p
            for p in block_doc["network"]["projections"]]
        learned = learned_matrix(simulate(Project.from_dict(block_doc)), projection)
        weights = learned if weight_sum is None else normalise_columns(learned, weight_sum)

    fixed = dict(base, network=dict(base["network"]))
    fixed["network"]["projections"] = [
        dict(p, plasticity=None, record_weights=None,
             connectivity={"rule": "matrix", "weights": np.round(weights, 6).tolist()})
        if p["id"] == projection else p for p in base["network"]["projections"]]
    shown = _concat(train.subset(slice(0, n_warmup)), train.subset(slice(0, n_label)),
                    test.subset(slice(0, n_test)))
    eval_project = Project.from_dict(_with_samples(fixed, encoder, shown))
    result = simulate(eval_project)
    values = eval_project.network.node(encoder).resolved_params()
    w = dataset_windows(values, eval_project.simulation.dt_ms, None)
    starts = w.start * eval_project.simulation.dt_ms
    counts = window_counts(result, population, starts, values["present_ms"], size)
    label_counts = counts[n_warmup:n_warmup + n_label]
    test_counts = counts[n_warmup + n_label:]
    n_classes = int(max(train.y.max(), test.y.max())) + 1
    neuron_labels = assign_labels(label_counts, shown.y[n_warmup:n_warmup + n_label],
                                  n_classes)
    predicted = classify(test_counts, neuron_labels, n_classes)
    truth = shown.y[n_warmup + n_label:]
    return Score(accuracy=float(np.mean(predicted == truth)), n_train=n_train,
                 n_label=n_label, n_test=len(truth), n_neurons=size,
                 classes_covered=len(set(neuron_labels[neuron_labels >= 0].tolist())),
                 silent_test=float(np.mean(test_counts.sum(axis=1) == 0)),
                 labels=neuron_labels, weights=weights)
