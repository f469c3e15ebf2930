"""Magnitude pruning of synapses, and removing neurons (with their synapses) from a document."""

from __future__ import annotations

import math

import numpy as np

from engine.compression.layers import IMPLICIT_RULES, dense_weights, rule_of
from engine.core.per_neuron import resolve_neuron_params
from engine.errors import SpikeStudioError
from engine.hetero.values import is_per_neuron
from engine.project import Project


def pruned_count(fraction: float, synapses: int) -> int:
    """Synapses magnitude pruning removes: ``fraction * synapses`` rounded half up."""
    return min(synapses, math.floor(fraction * synapses + 0.5))


def prune_smallest(weights: np.ndarray, fraction: float) -> tuple[np.ndarray, int]:
    """``weights`` (a dense matrix, 0 = no synapse) without its ``pruned_count`` smallest
    synapses by ``|w|``; equal magnitudes go in row-major (source, target) order."""
    present = np.flatnonzero(weights)
    k = pruned_count(fraction, present.size)
    order = np.argsort(np.abs(weights.flat[present]), kind="stable")[:k]
    out = weights.copy()
    out.flat[present[order]] = 0.0
    return out, k


def _keep_per_neuron_values(raw: dict, project: Project, pid: str,
                            kept: np.ndarray) -> list[str]:
    """Each per-neuron parameter of population ``pid`` (a list, a distribution or a companion
    array) becomes the list of the kept neurons' values in ``raw`` (its document): a
    distribution drawn for the smaller size would give the kept neurons other values."""
    node = project.network.node(pid)
    names = [k for k, v in node.params.items() if is_per_neuron(v)]
    if not names:
        return []
    values = resolve_neuron_params(project, node)
    params = raw.setdefault("params", {})
    for name in names:
        params[name] = np.asarray(values[name], np.float64)[kept].tolist()
    return [f"{pid}: the kept neurons keep their own values of {', '.join(names)} "
            f"(written as lists)"]


def remove_neurons(doc: dict, project: Project, keep: dict[str, np.ndarray],
                   blocks: dict[str, dict]) -> list[str]:
    """Keep only the neurons ``keep[pop]`` (sorted indices) of each population in ``keep``.

    Edits ``doc`` (the document of ``project``) in place: sizes, the rows and columns of
    every projection from or to those populations (other rules than ``matrix`` become a
    matrix, except a scalar weight on all-to-all / one-to-one between kept neurons, which
    stays a rule), the neurons of state monitors and the recorded synapses. ``blocks`` are
    ``synapse_blocks(project)``. Returns messages about what else changed.
    """
    messages: list[str] = []
    net = project.network
    raw_nodes = {r["id"]: r for r in doc["network"]["nodes"]}
    for pid, kept in keep.items():
        raw_nodes[pid]["size"] = int(kept.size)
        messages.extend(_keep_per_neuron_values(raw_nodes[pid], project, pid, kept))
    for j, p in enumerate(net.projections):
        if p.source not in keep and p.target not in keep:
            continue
        raw = doc["network"]["projections"][j]
        where = f"network.projections[{j}]"
        if isinstance(p.delay_ms, dict):
            raise SpikeStudioError(
                f"{where}.delay_ms: {p.id!r} draws a delay per synapse, which the document "
                f"cannot keep once neurons are removed (their synapses take other draws); "
                f"give it a fixed delay to prune idle neurons")
        rows = keep.get(p.source, np.arange(net.node(p.source).size))
        cols = keep.get(p.target, np.arange(net.node(p.target).size))
        if p.record_weights and p.record_weights.get("synapses"):
            new_pre = {int(o): i for i, o in enumerate(rows)}
            new_post = {int(o): i for i, o in enumerate(cols)}
            raw["record_weights"]["synapses"] = [
                [new_pre[a], new_post[b]] for a, b in p.record_weights["synapses"]
                if a in new_pre and b in new_post]
        rule = rule_of(p)
        same_cut = p.source == p.target or rule == "all_to_all"
        if rule in IMPLICIT_RULES and not isinstance(p.weight, dict) and same_cut:
            continue  # the rule between the kept neurons is the same synapses
        if rule == "matrix":
            matrix = np.asarray(p.connectivity["weights"], np.float64)
        else:
            matrix = dense_weights(p, blocks[p.id], net.node(p.source).size,
                                   net.node(p.target).size, where)
        raw["connectivity"] = {"rule": "matrix", "weights": matrix[np.ix_(rows, cols)].tolist()}
    for m in net.monitors:
        if m.target not in keep:
            continue
        new = {int(o): k for k, o in enumerate(keep[m.target])}
        raw = raw_nodes[m.id]
        old = m.resolved_params()["neurons"]
        neurons = [new[n] for n in old if n in new]
        if not neurons:
            neurons = [0]
            messages.append(f"monitor {m.id!r}: every neuron it recorded was removed; it "
                            f"records neuron 0 of {m.target!r} now")
        raw.setdefault("params", {})["neurons"] = neurons
    return messages
