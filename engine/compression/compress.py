"""Compress a project: prune and quantise weights, quantise spike times, remove idle neurons.

The steps run in this order, each on the result of the one before: magnitude pruning (on
the original weights), per-layer quantisation (the scale comes from the weights left),
spike-time quantisation of latency encoders, and last idle-neuron pruning, calibrated on
the network as compressed so far (so the neurons removed are silent in the network that is
saved). The result is an ordinary project document: projections whose weights changed are
``matrix`` projections holding the exact grid values ``q * scale``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.compression.calibration import (
    calibrate,
    default_calibration,
    hidden_populations,
    same_outputs,
)
from engine.compression.layers import (
    block_pairs,
    dense_weights,
    layers_of,
    per_synapse_weights,
    rule_of,
    synapse_count,
)
from engine.compression.pruning import prune_smallest, remove_neurons
from engine.compression.quantise import layer_scale, quantise
from engine.compression.running import Simulate
from engine.compression.settings import (
    CompressionReport,
    CompressionSettings,
    LayerRow,
    PopulationRow,
)
from engine.compression.size import model_size_bytes
from engine.compression.spike_time import latency_encoders, quantise_latency_nodes
from engine.core.build import synapse_blocks
from engine.core.limits import RunLimits
from engine.encoders import encoder as encoder_module
from engine.errors import ProjectError, SpikeStudioError
from engine.evaluation.datasets import Dataset
from engine.project import MAX_NAME_CHARS, Project
from engine.simulator import CancelCheck

#: ``progress(fraction, text)``: how far a compression (or a sweep) is, and what it does.
ProgressCallback = Callable[[float, str], None]


def compress(project: Project, settings: CompressionSettings, *,
             calibration: Dataset | None = None, samples: int | None = None,
             limits: RunLimits | None = None, cancel: CancelCheck = None,
             progress: ProgressCallback | None = None,
             simulate: Simulate | None = None) -> tuple[Project, CompressionReport]:
    """A compressed copy of ``project`` and a report of what changed.

    Parameters
    ----------
    project
        A valid project (left unchanged).
    settings
        What to do (:class:`CompressionSettings`).
    calibration
        The samples idle-neuron pruning presents (through the project's dataset encoder);
        default: :func:`~engine.compression.calibration.default_calibration` (the digits
        training split for a digits project, else the project's own samples).
    samples
        Use only the first ``samples`` calibration samples.
    limits, cancel
        Passed to the calibration runs (:func:`engine.simulator.simulate`).
    simulate
        Runs the calibration runs instead (``simulate(project, cancel=..., progress=...)``,
        e.g. the workbench's worker pool, which applies its own limits).
    progress
        Called with (fraction done, what is being done).

    Raises
    ------
    SpikeStudioError
        When a setting does not apply to this project (naming the setting and its flag), or
        a projection cannot be stored as a matrix (naming the projection).
    engine.core.limits.RunStopped
        When a calibration run was cancelled or ran out of time.
    """
    check_applicable(project, settings, samples)
    report = CompressionReport(settings)
    blocks0 = synapse_blocks(project)
    doc = project.to_dict()
    pruned: dict[str, int] = {}
    scales: dict[str, tuple[int, float]] = {}
    if settings.weight_bits or settings.prune:
        _notify(progress, 0.0, "pruning and quantising weights")
        _compress_weights(doc, project, blocks0, settings, pruned, scales, report.messages)
    if settings.spike_time_bits:
        report.spike_times = quantise_latency_nodes(doc, project, settings.spike_time_bits)
    if not settings.is_identity:
        doc["name"] = f"{project.name} ({settings.label()})"[:MAX_NAME_CHARS]
    mid = _validated(doc)
    blocks_mid = synapse_blocks(mid)
    final, blocks = mid, blocks_mid
    if settings.prune_idle:
        final = _prune_idle(mid, blocks_mid, calibration, samples, report, limits, cancel,
                            progress, simulate)
        blocks = synapse_blocks(final)
    final = _drop_missing_recorded(final, blocks, report.messages)
    _fill_rows(report, project, final, blocks0, blocks_mid, blocks, pruned, scales)
    _notify(progress, 1.0, "compressed")
    return final, report


def _notify(progress: ProgressCallback | None, fraction: float, text: str) -> None:
    if progress is not None:
        progress(fraction, text)


def check_applicable(project: Project, settings: CompressionSettings,
                     samples: int | None = None) -> None:
    """Refuse settings this project cannot take (before any work is done).

    Raises
    ------
    SpikeStudioError
        Naming the setting and its CLI flag: ``samples`` below 1, ``spike_time_bits``
        without a latency encoder, ``prune_idle`` without exactly one dataset encoder or
        without a hidden population.
    """
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int)
                                or samples < 1):
        raise SpikeStudioError(f"samples (--samples): must be a whole number >= 1, got "
                               f"{samples!r}")
    if settings.spike_time_bits and not latency_encoders(project):
        raise SpikeStudioError("spike_time_bits (--spike-time-bits): the project has no "
                               "latency encoder, so there are no spike times to quantise")
    if settings.prune_idle:
        datasets = [n for n in project.network.encoders
                    if hasattr(encoder_module(n.model), "windows")]
        if len(datasets) != 1:
            raise SpikeStudioError(
                "prune_idle (--prune-idle): needs exactly one dataset encoder to present the "
                f"calibration set; the project has {len(datasets) or 'none'}")
        if not hidden_populations(project):
            raise SpikeStudioError("prune_idle (--prune-idle): the project has no hidden "
                                   "population (one that projects to another node); output "
                                   "neurons are never pruned")


def _validated(doc: dict) -> Project:
    try:
        return Project.from_dict(doc)
    except ProjectError as exc:
        raise SpikeStudioError(f"the compressed project is not valid: {exc}") from None


def _compress_weights(doc: dict, project: Project, blocks: dict, settings: CompressionSettings,
                      pruned: dict[str, int], scales: dict[str, tuple[int, float]],
                      messages: list[str]) -> None:
    """Prune, then quantise, layer by layer; write the changed weights into ``doc``."""
    net = project.network
    bits = settings.weight_bits
    for layer in layers_of(project):
        matrices: dict[int, np.ndarray] = {}
        scalars: dict[int, float] = {}
        for j in layer.projections:
            p = net.projections[j]
            if settings.prune or per_synapse_weights(p):
                w = dense_weights(p, blocks[p.id], net.node(p.source).size,
                                  net.node(p.target).size, f"network.projections[{j}]")
                if settings.prune:
                    w, pruned[p.id] = prune_smallest(w, settings.prune)
                    if not per_synapse_weights(p) and pruned[p.id]:
                        messages.append(f"{p.id}: every synapse has the same weight; pruning "
                                        f"removed the first ones in (source, target) order")
                matrices[j] = w
            else:
                scalars[j] = float(p.weight)
        if bits:
            scale = layer_scale([*matrices.values(), np.asarray(list(scalars.values()))],
                                bits, settings.weight_scale)
            scales[layer.label] = (bits, scale)
            matrices = {j: quantise(w, scale, bits) for j, w in matrices.items()}
            scalars = {j: float(quantise(np.asarray(w), scale, bits)) for j, w in
                       scalars.items()}
            for j in layer.projections:
                p = net.projections[j]
                if p.plasticity:
                    messages.append(f"{p.id} learns (plasticity): its weights leave the "
                                    f"{bits}-bit grid as soon as it does")
                if j in scalars and scalars[j] == 0 and p.weight != 0:
                    messages.append(f"{p.id}: its weight {p.weight:g} rounds to 0 at {bits} "
                                    f"bits; its synapses have no effect")
        for j, w in matrices.items():
            _write_matrix(doc, project, j, w)
        for j, w in scalars.items():
            doc["network"]["projections"][j]["weight"] = w


def _write_matrix(doc: dict, project: Project, j: int, weights: np.ndarray) -> None:
    p = project.network.projections[j]
    if isinstance(p.delay_ms, dict):
        same = rule_of(p) == "matrix" and np.array_equal(
            np.asarray(p.connectivity["weights"]) != 0, weights != 0)
        if not same:
            raise SpikeStudioError(
                f"network.projections[{j}].delay_ms: {p.id!r} draws a delay per synapse, "
                f"which the document cannot keep once its synapses change (the survivors "
                f"take other draws); give it a fixed delay to compress it")
    doc["network"]["projections"][j]["connectivity"] = {"rule": "matrix",
                                                        "weights": weights.tolist()}


def _prune_idle(mid: Project, blocks: dict, calibration: Dataset | None, samples: int | None,
                report: CompressionReport, limits, cancel, progress,
                simulate: Simulate | None = None) -> Project:
    """Remove the hidden neurons that never spike on the calibration set."""
    if calibration is None:
        calibration, source = default_calibration(mid)
    else:
        source = f"{calibration.name} ({len(calibration.y)} samples)"
    data = calibration.subset(slice(0, samples)) if samples else calibration
    hidden = hidden_populations(mid)
    _notify(progress, 0.05, f"calibrating on {len(data.y)} samples")
    before = calibrate(mid, data, watch=hidden, limits=limits, cancel=cancel,
                       simulate=simulate)
    keep: dict[str, np.ndarray] = {}
    for node in mid.network.populations:
        spiked = before.spiked.get(node.id)
        kept = node.size if spiked is None else int(spiked.sum())
        report.populations.append(PopulationRow(node.id, node.size, max(kept, 1),
                                                node.size - kept, spiked is not None))
        if spiked is None or kept == node.size:
            continue
        keep[node.id] = np.flatnonzero(spiked) if kept else np.array([0])
        if not kept:
            report.messages.append(f"{node.id}: silent on the whole calibration set; one "
                                   f"neuron is kept (a population needs one)")
        if node.resolved_params().get("v_init_spread", 0):
            report.messages.append(f"{node.id}: initial potentials are drawn per neuron "
                                   f"(v_init_spread); the neurons kept take other draws")
    doc = mid.to_dict()
    report.messages.extend(remove_neurons(doc, mid, keep, blocks))
    final = _validated(doc)
    _notify(progress, 0.5, "measuring the pruned network on the calibration set")
    after = calibrate(final, data, limits=limits, cancel=cancel, simulate=simulate)
    report.calibration = {"dataset": source, "samples": int(len(data.y))}
    report.computation = _computation(before.totals, after.totals, len(data.y))
    report.computation["outputs_unchanged"] = same_outputs(before, after)
    if not report.computation["outputs_unchanged"]:
        report.messages.append("the output populations' spikes on the calibration set "
                               "changed after idle-neuron pruning")
    return final


def _computation(before: dict, after: dict, n: int) -> dict:
    """Per count: totals before and after, per inference, and the fraction saved."""
    out: dict = {}
    for key in before:
        b, a = before[key], after[key]
        out[key] = {"before": b, "after": a, "per_inference_before": b / n,
                    "per_inference_after": a / n, "saved": 1.0 - a / b if b else 0.0}
    return out


def _drop_missing_recorded(project: Project, blocks: dict, messages: list[str]) -> Project:
    """Recorded synapses (``record_weights.synapses``) that compression removed are dropped."""
    doc = None
    for j, p in enumerate(project.network.projections):
        pairs = (p.record_weights or {}).get("synapses") or []
        if not pairs:
            continue
        pre, post = block_pairs(blocks[p.id])
        present = set(zip(pre.tolist(), post.tolist(), strict=True))
        kept = [pair for pair in pairs if tuple(pair) in present]
        if len(kept) < len(pairs):
            doc = doc or project.to_dict()
            doc["network"]["projections"][j]["record_weights"]["synapses"] = kept
            messages.append(f"{p.id}: {len(pairs) - len(kept)} recorded synapse(s) were "
                            f"removed and are no longer recorded")
    return project if doc is None else _validated(doc)


def _fill_rows(report: CompressionReport, original: Project, final: Project, blocks0: dict,
               blocks_mid: dict, blocks: dict, pruned: dict[str, int],
               scales: dict[str, tuple[int, float]]) -> None:
    for layer in layers_of(original):
        ids = [original.network.projections[j].id for j in layer.projections]
        before = sum(synapse_count(blocks0[i]) for i in ids)
        mid = sum(synapse_count(blocks_mid[i]) for i in ids)
        after = sum(synapse_count(blocks[i]) for i in ids)
        cut = sum(pruned.get(i, 0) for i in ids)
        values = np.concatenate([blocks[i]["weights"] for i in ids] + [np.empty(0)])
        bits, scale = scales.get(layer.label, (None, None))
        report.layers.append(LayerRow(
            layer.label, layer.source, layer.target, ids, bits, scale,
            int(np.unique(values[values != 0]).size), before, cut, before - cut - mid,
            mid - after, after))
    report.synapses_before = sum(synapse_count(b) for b in blocks0.values())
    report.synapses_after = sum(synapse_count(b) for b in blocks.values())
    report.neurons_before = sum(n.size for n in original.network.populations)
    report.neurons_after = sum(n.size for n in final.network.populations)
    if not report.populations:
        hidden = set(hidden_populations(original))
        report.populations = [PopulationRow(n.id, n.size, n.size, 0, n.id in hidden)
                              for n in original.network.populations]
    report.size_bytes_before = model_size_bytes(original, blocks=blocks0)
    report.size_bytes_after = model_size_bytes(final, blocks=blocks)
