"""Unsupervised learning of digits by competitive STDP (after Diehl & Cook 2015), and its score.

The network a project describes: a ``dataset`` encoder (the digits, rate coded) feeds an
excitatory population of adaptive-threshold neurons through a plastic projection (STDP); the
excitatory neurons inhibit each other (lateral inhibition: the first to fire suppresses the
rest) and each one's threshold rises with its own activity (homeostasis: a neuron that wins
too often gets harder to excite). Nothing in it sees a label.

:func:`train_and_score` runs the whole procedure from such a project:

1. **train**: one run over the training digits with plasticity on; every few digits each
   neuron's incoming weights are scaled to a fixed sum (Diehl & Cook's weight normalisation,
   which the engine's STDP rule lacks); the learned weights and thresholds are kept;
2. **label and test**: one run with those weights fixed (plasticity off), presenting the
   labelling digits and then the held-out digits; the thresholds start at rest and adapt
   again during the labelling digits, as they did in training (weights do not change);
   every neuron is labelled with the class it responds to most on average over the labelling
   digits (the only use of labels), and each held-out digit is classified as the class whose
   neurons respond most to it on average.

The labels of the held-out digits are used only to count the correct answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.results import SimulationResult
from engine.encoders.samples import dataset_windows
from engine.evaluation.classify import dataset_node
from engine.evaluation.datasets import Dataset, digits_split
from engine.project import Project
from engine.simulator import Simulation, simulate

__all__ = ["Score", "assign_labels", "classify", "normalise_columns",
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
    duration = len(data.y) * period
    # Only spikes are read back: one count bin and no monitors keep each result() cheap.
    doc["simulation"] = dict(doc["simulation"], duration_ms=duration,
                             count_bin_ms=min(duration, 1e6))
    doc["network"]["nodes"] = [n for n in nodes if n["kind"] != "monitor"]
    return doc


def normalise_columns(weights: np.ndarray, total: float) -> np.ndarray:
    """Scale each neuron's incoming weights to sum to ``total`` (Diehl & Cook's normalisation).

    Competition then acts on the *shape* of a neuron's receptive field, not its size: a neuron
    cannot win every digit by growing all its weights.
    """
    sums = weights.sum(axis=0, keepdims=True)
    return np.divide(weights * total, sums, out=np.zeros_like(weights), where=sums > 0)


def _concat(*parts: Dataset) -> Dataset:
    return Dataset("digits", np.vstack([p.x for p in parts]), np.concatenate([p.y for p in parts]))


def _train(document: dict, encoder: str, projection: str, data: Dataset, block: int,
           weight_sum: float | None) -> np.ndarray:
    """One training run over ``data``; the learned ``(n_pre, n_post)`` weights at its end.

    The run is continued ``block`` digits at a time and the weights normalised in place in
    between (through the :class:`engine.simulator.Simulation`'s weight array
    ``syn_weight``), so the adaptive thresholds carry on across blocks as in one run.
    """
    training = _with_samples(document, encoder, data)
    training["simulation"]["record_spikes"] = []  # learning needs no record of the spikes
    sim = Simulation(Project.from_dict(training))
    c = sim.net
    b = c.proj_ids.index(projection)
    lo, hi = int(c.proj_syn_off[b]), int(c.proj_syn_off[b + 1])
    src, tgt = int(c.proj_src[b]), int(c.proj_tgt[b])
    n_pre = int(c.node_start[src + 1] - c.node_start[src])
    n_post = int(c.node_start[tgt + 1] - c.node_start[tgt])
    rows = c.rowptr[c.proj_row_off[b]:c.proj_row_off[b] + n_pre + 1]
    pre = np.repeat(np.arange(n_pre), np.diff(rows))
    post = c.syn_post[lo:hi].astype(np.int64)
    params = next(n for n in document["network"]["nodes"] if n["id"] == encoder)["params"]
    period = params.get("present_ms", 50.0) + params.get("pause_ms", 0.0)
    for start in range(0, len(data.y), block):
        sim.run_for(period * min(block, len(data.y) - start))
        if weight_sum is not None:
            w = np.zeros((n_pre, n_post))
            w[pre, post] = sim.syn_weight[lo:hi]
            sim.syn_weight[lo:hi] = normalise_columns(w, weight_sum)[pre, post]
    weights = np.zeros((n_pre, n_post))
    weights[pre, post] = sim.syn_weight[lo:hi]
    return weights


def train_and_score(project: Project, *, population: str, projection: str, n_train: int,
                    n_label: int, n_test: int, block: int = 10,
                    weight_sum: float | None = None, epochs: int = 1) -> Score:
    """Train ``project``'s network on digits, label its neurons, score it on held-out digits.

    Parameters
    ----------
    project
        The network (see the module docstring); ``projection`` is its plastic
        input -> ``population`` projection, fed by a ``dataset`` encoder (``reset`` off, so
        the thresholds carry over from digit to digit).
    n_train, n_label, n_test
        Training digits (from the 797 of the training split), labelling digits (also from
        the training split) and held-out digits (from the 1,000 of the test split).
    epochs
        How many times the training digits are shown (in the same order).
    block, weight_sum
        Every ``block`` training digits each neuron's incoming weights are scaled to sum to
        ``weight_sum`` (:func:`normalise_columns`; None: not normalised). The engine's STDP
        has no normalisation of its own.
    """
    train, test = digits_split()
    encoder = project.network.projection(projection).source
    dataset_node(project, encoder)  # a dataset encoder, else a clear error
    base = project.to_dict()
    base["lab"] = ""  # the lab's steps play no part in these runs
    size = project.network.node(population).size
    training = train.subset(slice(0, n_train))
    weights = _train(base, encoder, projection, _concat(*[training] * max(1, int(epochs))),
                     block, weight_sum)

    fixed = dict(base, network=dict(base["network"]))
    fixed["network"]["projections"] = [
        dict(p, plasticity=None, record_weights=None,
             connectivity={"rule": "matrix", "weights": np.round(weights, 6).tolist()})
        if p["id"] == projection else p for p in base["network"]["projections"]]
    shown = _concat(train.subset(slice(0, n_label)), test.subset(slice(0, n_test)))
    eval_project = Project.from_dict(_with_samples(fixed, encoder, shown))
    result = simulate(eval_project)
    values = eval_project.network.node(encoder).resolved_params()
    w = dataset_windows(values, eval_project.simulation.dt_ms, None)
    starts = w.start * eval_project.simulation.dt_ms
    counts = window_counts(result, population, starts, values["present_ms"], size)
    label_counts, test_counts = counts[:n_label], counts[n_label:]
    n_classes = int(max(train.y.max(), test.y.max())) + 1
    neuron_labels = assign_labels(label_counts, shown.y[:n_label], n_classes)
    predicted = classify(test_counts, neuron_labels, n_classes)
    truth = shown.y[n_label:]
    return Score(accuracy=float(np.mean(predicted == truth)), n_train=n_train,
                 n_label=n_label, n_test=len(truth), n_neurons=size,
                 classes_covered=len(set(neuron_labels[neuron_labels >= 0].tolist())),
                 silent_test=float(np.mean(test_counts.sum(axis=1) == 0)),
                 labels=neuron_labels, weights=weights)
