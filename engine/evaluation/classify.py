"""Classification with a dataset-driven run: present samples, read out a class, score it.

A project with one ``dataset`` / ``dataset_current`` encoder presents its samples one after
the other in a single simulation (:func:`with_dataset` swaps the samples in and sets the
duration). :func:`readout` turns each presentation window into a predicted class from an
output population, and :func:`evaluate` scores the predictions and prices the run per
inference on every hardware profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.encoders import DatasetWindows
from engine.encoders import encoder as encoder_module
from engine.energy.model import energy_breakdown, energy_totals, load_profiles, whole_run_counts
from engine.errors import SpikeStudioError
from engine.evaluation.datasets import Dataset, check_features
from engine.project import Project

ReadoutMode = Literal["count", "membrane"]


def dataset_node(project: Project, encoder: str | None = None):
    """The dataset encoder named ``encoder``, or the project's only one."""
    nodes = [n for n in project.network.nodes
             if n.kind == "encoder" and hasattr(encoder_module(n.model), "windows")]
    if encoder is not None:
        nodes = [n for n in nodes if n.id == encoder]
    if len(nodes) != 1:
        what = f"no dataset encoder {encoder!r}" if encoder else (
            "no dataset encoder" if not nodes else
            f"{len(nodes)} dataset encoders ({', '.join(n.id for n in nodes)}); name one")
        raise SpikeStudioError(f"network.nodes: {what}")
    return nodes[0]


def project_samples(project: Project, encoder: str | None = None) -> Dataset:
    """The samples (and labels, -1 without) the project's dataset encoder presents."""
    values = dataset_node(project, encoder).resolved_params()
    x = np.asarray(values["samples"], np.float64)
    return Dataset("project", x, np.asarray(values["labels"] or [-1] * len(x), np.int64))


def output_population(project: Project) -> str:
    """The readout population: the one named ``output``, else the only population nothing
    projects from."""
    net = project.network
    if any(n.id == "output" and n.kind == "population" for n in net.nodes):
        return "output"
    sources = {p.source for p in net.projections}
    sinks = [n.id for n in net.nodes if n.kind == "population" and n.id not in sources]
    if len(sinks) != 1:
        raise SpikeStudioError("output (--output): name the output population (neuron i = "
                               "class i)")
    return sinks[0]


def windows_of(project: Project, encoder: str | None = None) -> DatasetWindows:
    """Presentation windows of the project's dataset encoder in its configured run."""
    node = dataset_node(project, encoder)
    sim = project.simulation
    return encoder_module(node.model).windows(node.resolved_params(), sim.dt_ms,
                                              int(round(sim.duration_ms / sim.dt_ms)))


def with_dataset(project: Project, data: Dataset, *, n_samples: int | None = None,
                 encoder: str | None = None, present_ms: float | None = None) -> Project:
    """A copy of ``project`` presenting ``data`` (its first ``n_samples``): the encoder's
    samples and labels replaced, the duration set to show every sample once.

    Raises
    ------
    SpikeStudioError
        When the samples do not fit the encoder (feature count, or values outside [0, 1]
        for rate coding).
    """
    node = dataset_node(project, encoder)
    n = len(data.y) if n_samples is None else min(int(n_samples), len(data.y))
    if n < 1:
        raise SpikeStudioError(f"samples: must be at least 1, got {n_samples}")
    check_features(data, node.size, unit_range=encoder_module(node.model).UNIT_RANGE)
    doc = project.to_dict()
    dt = doc["simulation"]["dt_ms"]
    before = node.resolved_params()
    old_step = _gcd_ms(before["present_ms"], before["present_ms"] + before["pause_ms"], dt)
    raw = next(r for r in doc["network"]["nodes"] if r["id"] == node.id)
    raw["params"]["samples"] = data.x[:n].tolist()
    raw["params"]["labels"] = data.y[:n].tolist()
    if present_ms is not None:
        raw["params"]["present_ms"] = float(present_ms)
    present = raw["params"].get("present_ms", before["present_ms"])
    period = present + before["pause_ms"]
    doc["simulation"]["duration_ms"] = n * period
    # A monitor that sampled every window's end keeps doing so.
    for mon in doc["network"]["nodes"]:
        params = mon.get("params", {})
        if mon["kind"] == "monitor" and abs(params.get("interval_ms", -1) - old_step) < 1e-9:
            params["interval_ms"] = _gcd_ms(present, period, dt)
    return Project.from_dict(doc)


def _gcd_ms(a: float, b: float, dt: float) -> float:
    """Largest multiple of dt dividing both a and b (both rounded to steps)."""
    return float(np.gcd(int(round(a / dt)), int(round(b / dt)))) * dt


def check_output(project: Project, output: str, mode: ReadoutMode = "count"):
    """The output population ``output``, checked for a readout in ``mode``.

    Raises
    ------
    SpikeStudioError
        When it is not a population, or (``count``) its spikes are not recorded.
    """
    pop = next((n for n in project.network.nodes if n.id == output), None)
    if pop is None or pop.kind != "population":
        raise SpikeStudioError(f"output: {output!r} is not a population")
    record = project.simulation.record_spikes
    if mode == "count" and record != "all" and output not in record:
        raise SpikeStudioError(f"simulation.record_spikes: must include the output population "
                               f"{output!r} to count its spikes")
    return pop


@dataclass
class Readout:
    """Per presented sample: scores (n, classes), predicted class, label, and the time
    (ms from the window's start) from which the prediction no longer changed (NaN: the
    output never spiked, no decision)."""

    scores: np.ndarray
    predictions: np.ndarray
    labels: np.ndarray
    latency_ms: np.ndarray
    windows: DatasetWindows
    mode: str

    @property
    def decided(self) -> np.ndarray:
        return np.isfinite(self.latency_ms)


def readout(result, project: Project, output: str, *, mode: ReadoutMode = "count",
            encoder: str | None = None) -> Readout:
    """Predicted class of each presentation from population ``output`` (neuron i = class i).

    Parameters
    ----------
    result
        The run's ``SimulationResult`` (spikes of ``output`` recorded).
    project
        The project that was run.
    output
        Id of the output population.
    mode
        ``count``: most spikes in the window; equal counts are split by the membrane
        potential at the window's end when a ``v`` monitor of every output neuron samples it
        (with subtractive reset, count and residual v together are the integrated input),
        otherwise the lowest index wins. ``membrane``: highest ``v`` at the window's end
        (for non-spiking outputs; needs such a monitor).
    encoder
        The dataset encoder (default: the only one).
    """
    pop = check_output(project, output, mode)
    w = windows_of(project, encoder)
    dt = result.dt_ms
    n_done = int(np.sum(w.end <= int(round(result.duration_ms / dt))))
    n_classes = pop.size
    spikes = result.spikes[result.spikes["population"] == output]
    k = np.rint(spikes["time_ms"].to_numpy() / dt).astype(np.int64)
    neuron = spikes["neuron"].to_numpy().astype(np.int64)
    sample = (k - 1) // w.period
    phase = k - 1 - sample * w.period
    inside = (sample >= 0) & (sample < n_done) & (phase < w.present)
    k, neuron, sample = k[inside], neuron[inside], sample[inside]
    counts = np.zeros((n_done, n_classes))
    np.add.at(counts, (sample, neuron), 1.0)
    v_end = _membrane_at_ends(result, output, n_classes, w.end[:n_done], dt)
    if mode == "membrane":
        if v_end is None:
            raise SpikeStudioError(f"readout: membrane mode needs a monitor of v of every "
                                   f"neuron of {output!r} sampling each window's end")
        scores = v_end
        predictions = np.argmax(v_end, axis=1)
        latency = np.full(n_done, w.present * dt)
    elif mode == "count":
        scores = counts
        if v_end is not None:
            tied = counts == counts.max(axis=1, keepdims=True)
            predictions = np.argmax(np.where(tied, v_end, -np.inf), axis=1)
        else:
            predictions = np.argmax(counts, axis=1)
        latency = _count_latency(k, neuron, sample, w, n_done, n_classes, predictions) * dt
    else:
        raise SpikeStudioError(f"readout: mode must be count or membrane, got {mode!r}")
    return Readout(scores=scores, predictions=predictions, labels=w.labels[:n_done],
                   latency_ms=latency, windows=w, mode=mode)


def _membrane_at_ends(result, output: str, size: int, ends: np.ndarray, dt: float):
    """v of every output neuron at each window end, from a monitor sampling those steps."""
    for trace in result.traces.values():
        if trace.population != output or "v" not in trace.values:
            continue
        if sorted(trace.neurons.tolist()) != list(range(size)):
            continue
        t_k = np.rint(trace.time_ms / dt).astype(np.int64)
        rows = np.searchsorted(t_k, ends)
        if np.all(rows < len(t_k)) and np.array_equal(t_k[np.minimum(rows, len(t_k) - 1)],
                                                        ends):
            order = np.argsort(trace.neurons)
            return trace.values["v"][rows][:, order]
    return None


def _count_latency(k, neuron, sample, w: DatasetWindows, n: int, n_classes: int,
                   predictions: np.ndarray) -> np.ndarray:
    """Steps from each window's start to the output spike from which the running spike-count
    leader (lowest index on ties) is the final prediction and stays so; NaN without spikes,
    the window's length when only the membrane tie-break decided."""
    latency = np.full(n, np.nan)
    bounds = np.searchsorted(sample, np.arange(n + 1))  # spikes are sorted by time
    for i in range(n):
        lo, hi = bounds[i], bounds[i + 1]
        if lo == hi:
            continue
        running = np.zeros(n_classes)
        settled = None
        for s in range(lo, hi):
            running[neuron[s]] += 1
            if int(np.argmax(running)) == predictions[i]:
                settled = settled if settled is not None else s
            else:
                settled = None
        latency[i] = (k[settled] - w.start[i]) if settled is not None else w.present
    return latency


def evaluate(result, project: Project, out: Readout, *, profiles=None) -> dict:
    """Accuracy, confusion matrix, activity and energy per inference of a dataset run.

    Returns
    -------
    dict
        ``samples, accuracy, confusion`` (rows: label, columns: prediction), ``undecided``
        (windows without output spikes), ``spikes_per_inference`` (neurons of populations),
        ``input_spikes_per_inference``, ``synaptic_events_per_inference``,
        ``latency_ms`` (mean and median over decided samples), ``presentation_ms`` and
        ``energy_per_inference_j``: per hardware profile the ``total`` and the
        ``event_driven`` part (joules; the run's totals divided by the samples).
    """
    n = len(out.predictions)
    if n == 0:
        raise SpikeStudioError("evaluate: the run ended before the first sample was shown")
    labels = out.labels
    if np.any(labels < 0):
        raise SpikeStudioError("evaluate: the samples have no labels")
    n_classes = max(int(labels.max()) + 1, out.scores.shape[1])
    confusion = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(confusion, (labels, out.predictions), 1)
    counts = whole_run_counts(result.counts)
    pops = counts["kind"] == "population"
    decided = out.decided
    profiles = load_profiles() if profiles is None else profiles
    energy = {}
    for pid, profile in profiles.items():
        totals = energy_totals(energy_breakdown(counts, profile, max(result.duration_ms, 1e-9),
                                                result.duration_ms))
        energy[pid] = {"total": float(totals["total_j"]) / n,
                       "event_driven": float(totals["event_driven_j"]) / n}
    return {
        "samples": n,
        "accuracy": float(np.mean(out.predictions == labels)),
        "confusion": confusion.tolist(),
        "undecided": int(np.sum(~decided)),
        "readout": out.mode,
        "spikes_per_inference": float(counts.loc[pops, "spikes"].sum()) / n,
        "input_spikes_per_inference": float(counts.loc[~pops, "spikes"].sum()) / n,
        "synaptic_events_per_inference": float(counts["syn_events"].sum()) / n,
        "latency_ms": {
            "mean": float(np.mean(out.latency_ms[decided])) if decided.any() else None,
            "median": float(np.median(out.latency_ms[decided])) if decided.any() else None,
        },
        "presentation_ms": out.windows.present * result.dt_ms,
        "energy_per_inference_j": energy,
    }
