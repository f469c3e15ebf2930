"""Federated learning of STDP networks: clients share weight changes, never spikes or data.

A *federated project* is a project with a dataset encoder (the input, ``input``), a
population that learns (``output``) and one plastic projection between them (``learn``,
STDP). Its weights are the model. Each round, every client starts from the server's weights,
learns with STDP on its own samples (its class mix), and sends back only the change of its
weights; the server adds the sample-weighted mean of the changes (FedAvg on synaptic
changes) and sends the result back. Clients run as tasks of an executor
(:mod:`engine.executor`: the local process pool, or Dask where configured).

The model is scored the way unsupervised STDP networks are (Diehl & Cook 2015): with
learning off, each output neuron is labelled with the class it fires most for on a labelling
set, and a held-out sample is classified by the labels' summed spike counts. Central training
(all data in one place) and isolated clients (no sharing) are scored the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.encoders.samples import dataset_windows
from engine.executor.base import Executor
from engine.project import Project

__all__ = ["Client", "FederatedSetup", "Scores", "client_document", "client_split",
           "compare_training", "train_central",
           "fedavg", "score", "train_round", "train_task"]


@dataclass(frozen=True)
class FederatedSetup:
    """Which parts of the project are the input, the learning population and the model.

    Attributes
    ----------
    document
        The project document (dict) every client runs, with its own samples put in.
    input, output, learn
        Dataset encoder node, learning population, plastic projection (input -> output).
    column_total
        Synaptic scaling (Diehl & Cook 2015 normalise each neuron's input weights the same
        way): after every round each output neuron's incoming weights are scaled to sum to
        this (mV), in every scheme alike; None leaves them as learned.
    teacher
        Optional ``dataset_current`` node with one channel per class: while a client learns,
        it drives the output neuron of each sample's label and holds the others silent
        (supervised learning by spike coincidence); it is left out when the model is scored.
    """

    document: dict
    input: str
    output: str
    learn: str
    column_total: float | None = None
    teacher: str | None = None

    def projection(self) -> dict:
        return next(p for p in self.document["network"]["projections"] if p["id"] == self.learn)

    def node(self, node_id: str) -> dict:
        return next(n for n in self.document["network"]["nodes"] if n["id"] == node_id)

    def bounds(self) -> tuple[float, float]:
        """The plastic projection's weight bounds (w_min, w_max)."""
        rule = self.projection()["plasticity"] or {}
        return float(rule.get("w_min", 0.0)), float(rule.get("w_max", 1.0))

    def initial_weights(self, seed: int) -> np.ndarray:
        """The starting model: the plastic projection's own weight (a constant or a uniform
        or normal draw), dense, inside the bounds and never 0 (a matrix connection has a
        synapse only where its weight is not 0)."""
        n_pre = self.node(self.input)["size"]
        n_post = self.node(self.output)["size"]
        value = self.projection().get("weight", 1.0)
        rng = np.random.default_rng(seed)
        if not isinstance(value, dict):
            w = np.full((n_pre, n_post), float(value))
        elif value["dist"] == "uniform":
            w = rng.uniform(value["low"], value["high"], (n_pre, n_post))
        else:
            w = rng.normal(value["mean"], value["std"], (n_pre, n_post))
        return self.clip(w)

    def clip(self, weights: np.ndarray) -> np.ndarray:
        """Weights kept inside the bounds and above 0 (see :meth:`initial_weights`), then
        scaled per output neuron to ``column_total`` when it is set."""
        lo, hi = self.bounds()
        floor = max(lo, 1e-3 * hi)
        weights = np.clip(weights, floor, hi)
        if self.column_total is None:
            return weights
        scaled = weights * (self.column_total / weights.sum(axis=0, keepdims=True))
        return np.clip(scaled, floor, hi)


@dataclass(frozen=True)
class Client:
    """One client's private data: samples (rows in [0, 1]) and their labels."""

    samples: np.ndarray
    labels: np.ndarray


def client_document(setup: FederatedSetup, weights: np.ndarray, samples: np.ndarray,
                    labels: np.ndarray, *, plastic: bool, seed: int) -> dict:
    """The project document that presents ``samples`` to the network with ``weights``
    (learning when ``plastic``), long enough to show every sample once."""
    doc = copy.deepcopy(setup.document)
    doc.pop("lab", None)
    node = next(n for n in doc["network"]["nodes"] if n["id"] == setup.input)
    node["params"]["samples"] = np.round(samples, 6).tolist()
    node["params"]["labels"] = [int(v) for v in labels]
    proj = next(p for p in doc["network"]["projections"] if p["id"] == setup.learn)
    proj["connectivity"] = {"rule": "matrix", "weights": np.asarray(weights).tolist()}
    proj["weight"] = 1.0
    if setup.teacher is not None:
        teacher = next(n for n in doc["network"]["nodes"] if n["id"] == setup.teacher)
        if plastic:
            # +1 on the label's channel, -1 on the others: the projection's weight drives
            # the right output neuron and holds the others below threshold
            one_hot = np.eye(teacher["size"])[np.asarray(labels, dtype=np.int64)]
            teacher["params"].update(samples=(2 * one_hot - 1).tolist(),
                                     labels=[int(v) for v in labels],
                                     present_ms=values_of(node, "present_ms", 50.0),
                                     pause_ms=values_of(node, "pause_ms", 0.0))
        else:  # scored without the teacher
            net = doc["network"]
            net["nodes"] = [n for n in net["nodes"] if n["id"] != setup.teacher]
            net["projections"] = [p for p in net["projections"]
                                  if setup.teacher not in (p["source"], p["target"])]
    if not plastic:
        proj["plasticity"] = None
    period = values_of(node, "present_ms", 50.0) + values_of(node, "pause_ms", 0.0)
    doc["simulation"]["duration_ms"] = period * len(samples)
    doc["simulation"]["seed"] = int(seed)
    return doc


def values_of(node: dict, name: str, default: float) -> float:
    """A node's parameter as a float (its default when the document leaves it out)."""
    return float(node.get("params", {}).get(name, default))


def final_weights(result, projection: str) -> np.ndarray:
    """The dense weight matrix of a plastic projection at the end of a run."""
    record = result.weights[projection]
    return record.matrix(len(record.times_ms) - 1).astype(np.float64)


def train_task(task: dict) -> dict:
    """Run one client's round in a worker: returns only its weight change (and its size).

    ``task``: ``document`` (from :func:`client_document`), ``learn`` (projection id),
    ``weights`` (the server's weights, nested lists).
    """
    from engine.simulator import simulate

    project = Project.from_dict(task["document"])
    result = simulate(project)
    if result.status != "completed":
        return {"error": f"client run {result.status}: {' '.join(result.messages)}"}
    start = np.asarray(task["weights"], dtype=np.float64)
    end = np.nan_to_num(final_weights(result, task["learn"]), nan=0.0)
    n_samples = len(project.network.node(task["input"]).params["samples"])
    return {"delta": (end - start).tolist(), "n_samples": n_samples}


def fedavg(weights: np.ndarray, deltas: Sequence[np.ndarray],
           n_samples: Sequence[int]) -> np.ndarray:
    """The server's step (FedAvg on synaptic changes): ``weights`` plus the mean of the
    clients' weight changes, each weighted by its number of samples."""
    share = np.asarray(n_samples, dtype=np.float64)
    return weights + np.tensordot(share / share.sum(), np.stack(deltas), axes=1)


def _responses(setup: FederatedSetup, weights: np.ndarray, data: Client,
               seed: int) -> np.ndarray:
    """Spike counts (samples, output neurons) of the network with ``weights``, learning off."""
    from engine.simulator import simulate

    doc = client_document(setup, weights, data.samples, data.labels, plastic=False, seed=seed)
    project = Project.from_dict(doc)
    result = simulate(project)
    node = project.network.node(setup.input)
    w = dataset_windows(node.resolved_params(), project.simulation.dt_ms,
                        int(round(result.duration_ms / result.dt_ms)))
    spikes = result.spikes[result.spikes["population"].astype(str) == setup.output]
    k = np.rint(spikes["time_ms"].to_numpy() / result.dt_ms).astype(np.int64)
    # a spike at step k ends the step k - 1 -> k: it belongs to the window holding k - 1
    sample = np.searchsorted(w.start, k - 1, side="right") - 1
    inside = (sample >= 0) & (k - 1 < w.start[np.clip(sample, 0, None)] + w.present)
    counts = np.zeros((len(data.samples), project.network.node(setup.output).size))
    np.add.at(counts, (sample[inside], spikes["neuron"].to_numpy()[inside]), 1)
    return counts


def score(setup: FederatedSetup, weights: np.ndarray, labelling: Client, test: Client,
          n_classes: int, *, seed: int = 0) -> float:
    """Held-out accuracy of the network with ``weights`` (learning off).

    Each output neuron is labelled with the class it responds to most on ``labelling`` (per
    sample, on average) and its counts are divided by its mean count there, so a neuron
    that fires a lot for everything does not outvote the others. A test sample gets the class
    whose labelled neurons respond most; a silent network scores 0.
    """
    counts = _responses(setup, weights, labelling, seed)
    per_class = np.stack([counts[labelling.labels == c].mean(axis=0)
                          if np.any(labelling.labels == c) else np.zeros(counts.shape[1])
                          for c in range(n_classes)])
    neuron_class = per_class.argmax(axis=0)
    gain = counts.mean(axis=0)
    active = gain > 0
    test_counts = _responses(setup, weights, test, seed + 1)
    relative = test_counts[:, active] / gain[active]
    votes = np.zeros((len(test.samples), n_classes))
    for c in range(n_classes):
        mine = neuron_class[active] == c
        if mine.any():
            votes[:, c] = relative[:, mine].mean(axis=1)
    predicted = np.where(votes.max(axis=1) > 0, votes.argmax(axis=1), -1)
    return float(np.mean(predicted == test.labels))


@dataclass(frozen=True)
class Scores:
    """Held-out scores of the three ways of training, after the same number of rounds."""

    central: float
    federated: float
    isolated: tuple[float, ...]


def compare_training(setup: FederatedSetup, clients: Sequence[Client], labelling: Client,
                     test: Client, n_classes: int, *, rounds: int,
                     executor: Executor | None = None, seed: int = 0) -> Scores:
    """Train centrally (all clients' samples pooled, one network), federated (FedAvg of the
    clients' weight changes each round) and isolated (each client alone), from the same
    starting weights for the same number of rounds, and score each on ``test``.

    Each round of each scheme is one pass over the samples concerned; the isolated clients
    run as tasks of ``executor`` too (one per client per round).
    """
    start = setup.initial_weights(seed)
    pooled = Client(np.concatenate([c.samples for c in clients]),
                    np.concatenate([c.labels for c in clients]))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pooled.labels))
    pooled = Client(pooled.samples[order], pooled.labels[order])
    central, federated = start.copy(), start.copy()
    isolated = [start.copy() for _ in clients]
    sizes = [len(c.labels) for c in clients]
    for r in range(rounds):  # all three schemes' runs of a round in one batch
        batch = [*clients, pooled, *clients]  # federated clients, central, isolated clients
        weights = [federated] * len(clients) + [central] + isolated
        deltas = train_round(setup, weights, batch, executor, seed=seed + 1000 * (r + 1))
        k = len(clients)
        federated = setup.clip(fedavg(federated, deltas[:k], sizes))
        central = setup.clip(central + deltas[k])
        isolated = [setup.clip(w + d) for w, d in zip(isolated, deltas[k + 1:], strict=True)]
    return Scores(score(setup, central, labelling, test, n_classes, seed=seed),
                  score(setup, federated, labelling, test, n_classes, seed=seed),
                  tuple(score(setup, w, labelling, test, n_classes, seed=seed)
                        for w in isolated))


def train_round(setup: FederatedSetup, weights: Sequence[np.ndarray],
                data: Sequence[Client], executor: Executor | None,
                *, seed: int) -> list[np.ndarray]:
    """One learning pass of each (weights, data) pair, all as tasks of one batch on
    ``executor`` (None: here, one after the other); returns their weight changes in order.

    Raises
    ------
    RuntimeError
        When a task's run did not complete.
    """
    tasks = [{"document": client_document(setup, w, d.samples, d.labels, plastic=True,
                                          seed=seed + i),
              "learn": setup.learn, "input": setup.input, "weights": np.asarray(w).tolist()}
             for i, (w, d) in enumerate(zip(weights, data, strict=True))]
    if executor is None:
        outputs = dict(enumerate(map(train_task, tasks)))
    else:
        outputs = dict(executor.map_unordered(train_task, tasks))
    errors = [o["error"] for o in outputs.values() if "error" in o]
    if errors or len(outputs) != len(tasks):
        raise RuntimeError(errors[0] if errors else "a client's task did not finish")
    return [np.asarray(outputs[i]["delta"]) for i in range(len(tasks))]


def train_central(setup: FederatedSetup, data: Client, *, rounds: int,
                  executor: Executor | None = None, seed: int = 0) -> np.ndarray:
    """The weights after ``rounds`` passes over all the data in one place (the baseline)."""
    order = np.random.default_rng(seed).permutation(len(data.labels))
    data = Client(data.samples[order], data.labels[order])
    weights = setup.initial_weights(seed)
    for r in range(rounds):
        delta, = train_round(setup, [weights], [data], executor, seed=seed + 1000 * (r + 1))
        weights = setup.clip(weights + delta)
    return weights


def client_split(samples: np.ndarray, labels: np.ndarray, mixes: Sequence[Sequence[int]],
                 per_class: int, n_labelling: int, n_test: int,
                 seed: int = 0) -> tuple[list[Client], Client, Client]:
    """Private client datasets with the class ``mixes`` (``per_class`` samples of each of
    their classes, no sample in two clients), the server's labelling set and the held-out
    test set, all disjoint, drawn reproducibly from ``samples``/``labels``.

    Raises
    ------
    ValueError
        When the data run out for a client's class.
    """
    order = np.random.default_rng(seed).permutation(len(labels))
    test, labelling, rest = (order[:n_test], order[n_test:n_test + n_labelling],
                             order[n_test + n_labelling:])
    used: dict[int, int] = {}
    clients = []
    for k, mix in enumerate(mixes):
        chosen = []
        for c in mix:
            pool = rest[labels[rest] == c]
            start = used.get(c, 0)
            if start + per_class > len(pool):
                raise ValueError(f"clients[{k}]: only {len(pool) - start} samples of class "
                                 f"{c} are left, {per_class} are needed")
            chosen.append(pool[start:start + per_class])
            used[c] = start + per_class
        mine = np.random.default_rng([seed, k]).permutation(np.concatenate(chosen))
        clients.append(Client(samples[mine], labels[mine]))
    return (clients, Client(samples[labelling], labels[labelling]),
            Client(samples[test], labels[test]))
