"""Evaluate a list of compression settings on a test set, and their Pareto front.

Each point is one compressed project classifying the test set: accuracy, activity and
energy per inference (the counts of the run priced per operation by each hardware profile,
:func:`engine.evaluation.classify.evaluate`), its model size (:mod:`engine.compression.size`), and
its neurons and synapses. Each setting is a task of an :mod:`engine.executor` (by default one
at a time in a thread of this process, whose runs go through ``simulate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from engine.compression.compress import ProgressCallback, check_applicable, compress
from engine.compression.layers import synapse_count
from engine.compression.running import Simulate, run
from engine.compression.settings import CompressionReport, CompressionSettings
from engine.compression.size import model_size_bytes
from engine.core.build import synapse_blocks
from engine.core.limits import RunLimits, RunStopped, StopCheck
from engine.evaluation.classify import evaluate, output_population, readout, with_dataset
from engine.evaluation.datasets import Dataset
from engine.executor import Executor, make_executor
from engine.project import Project
from engine.simulator import CancelCheck

#: The sweep of the benchmark and the workbench's default: precision alone (both scales),
#: pruning alone, idle-neuron pruning, and combinations.
DEFAULT_SWEEP: tuple[CompressionSettings, ...] = (
    *(CompressionSettings(weight_bits=b) for b in (8, 6, 4, 3, 2)),
    *(CompressionSettings(weight_bits=b, weight_scale="mse") for b in (4, 3, 2)),
    *(CompressionSettings(prune=f) for f in (0.5, 0.8, 0.9)),
    CompressionSettings(prune_idle=True),
    *(CompressionSettings(weight_bits=4, prune=f) for f in (0.5, 0.8, 0.9)),
    CompressionSettings(weight_bits=4, prune_idle=True),
    CompressionSettings(weight_bits=4, prune=0.5, prune_idle=True),
)


@dataclass
class CompressionPoint:
    """One setting measured on the test set (the first point of a sweep: uncompressed).

    ``energy_per_inference_j`` maps each hardware profile id to joules per inference
    (total: dynamic and static); ``evaluation`` is the whole
    :func:`engine.evaluation.classify.evaluate` dict (confusion matrix, latency, event-driven
    energy ...); ``report`` what compression did (None for the baseline).
    """

    settings: CompressionSettings
    accuracy: float
    synaptic_events_per_inference: float
    energy_per_inference_j: dict[str, float]
    size_bytes: int
    neurons: int
    synapses: int
    neuron_updates_per_inference: float = 0.0
    spikes_per_inference: float = 0.0
    evaluation: dict[str, Any] = field(default_factory=dict)
    report: CompressionReport | None = None

    @property
    def label(self) -> str:
        return self.settings.label()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the report as its own dict)."""
        return {"settings": {**self.settings.to_dict(), "label": self.label},
                "accuracy": self.accuracy,
                "synaptic_events_per_inference": self.synaptic_events_per_inference,
                "neuron_updates_per_inference": self.neuron_updates_per_inference,
                "spikes_per_inference": self.spikes_per_inference,
                "energy_per_inference_j": self.energy_per_inference_j,
                "size_bytes": self.size_bytes, "neurons": self.neurons,
                "synapses": self.synapses,
                "report": self.report.to_dict() if self.report else None}


def measure(project: Project, settings: CompressionSettings, test: Dataset, *,
            samples: int | None = None, output: str | None = None,
            limits: RunLimits | None = None, cancel: CancelCheck = None, profiles=None,
            report: CompressionReport | None = None,
            progress: ProgressCallback | None = None,
            simulate: Simulate | None = None) -> CompressionPoint:
    """Classify the first ``samples`` of ``test`` with ``project`` (already compressed
    with ``settings``) and measure it.

    Raises
    ------
    RunStopped
        When the run was cancelled or stopped at a limit.
    """
    shown = with_dataset(project, test, n_samples=samples)
    output = output or output_population(project)

    def step(p) -> None:
        if progress is not None:
            progress(p.fraction, f"classifying {len(test.y) if samples is None else samples} "
                                 f"samples")

    result = run(shown, limits=limits, cancel=cancel, progress=step, simulate=simulate)
    if result.status != "completed":
        raise RunStopped(result.status, f"test run stopped ({result.status}): "
                                        f"{'; '.join(result.messages) or 'no result'}")
    ev = evaluate(result, shown, readout(result, shown, output), profiles=profiles)
    pops = result.counts["kind"] == "population"
    blocks = synapse_blocks(project)
    return CompressionPoint(
        settings=settings, accuracy=ev["accuracy"],
        synaptic_events_per_inference=ev["synaptic_events_per_inference"],
        energy_per_inference_j={k: v["total"] for k, v in ev["energy_per_inference_j"].items()},
        size_bytes=model_size_bytes(project, blocks=blocks),
        neurons=sum(n.size for n in project.network.populations),
        synapses=sum(synapse_count(b) for b in blocks.values()),
        neuron_updates_per_inference=float(result.counts.loc[pops, "neuron_updates"].sum())
        / ev["samples"],
        spikes_per_inference=ev["spikes_per_inference"], evaluation=ev, report=report)


def evaluate_settings(project: Project, settings_list, test: Dataset, *,
                      calibration: Dataset | None = None, samples: int | None = None,
                      progress: ProgressCallback | None = None, cancel: CancelCheck = None,
                      limits: RunLimits | None = None, output: str | None = None,
                      profiles=None, simulate: Simulate | None = None,
                      executor: Executor | None = None) -> list[CompressionPoint]:
    """Compress ``project`` with each of ``settings_list`` and measure it on ``test``.

    Parameters
    ----------
    project
        A project with one dataset encoder and an output population (neuron i = class i).
    settings_list
        The settings to try (e.g. :data:`DEFAULT_SWEEP`).
    test
        The samples classified (the first ``samples`` of them).
    calibration, samples
        As in :func:`~engine.compression.compress`; ``samples`` also limits the test set.
    progress
        Called with (fraction of the whole sweep, text).
    cancel
        An Event or a callable: when set, the sweep stops and returns the points finished.
    limits, profiles
        Run limits; hardware profiles (default: the built-in ones).
    simulate
        Runs every simulation instead of this process (``simulate(project, cancel=...,
        progress=...)``: the workbench's worker pool, which applies its own limits).
    output
        The output population (default: the one named ``output``, else the only sink).
    executor
        Where the settings run (:func:`engine.executor.make_executor`); default: one at a
        time in a thread of this process. On worker processes or Dask each setting runs
        with the engine's ``simulate`` and ``limits`` in its worker: ``simulate`` and
        ``progress`` are not used there, and Stop drops the queued settings.

    Returns
    -------
    list of CompressionPoint
        The uncompressed baseline first, then one point per setting, in order (fewer when
        cancelled).

    Raises
    ------
    SpikeStudioError
        Before anything runs, when a setting does not apply to the project
        (:func:`~engine.compression.compress.check_applicable`).
    engine.core.limits.RunStopped
        When a run hit the time or memory limit.
    """
    settings_list = [CompressionSettings(), *settings_list]
    for settings in settings_list:  # refuse a setting that does not apply before any run
        check_applicable(project, settings, samples)
    output = output or output_population(project)
    stop = StopCheck(cancel)

    def stopped() -> bool:
        return stop.status() == "cancelled"

    own = executor is None
    executor = executor or make_executor(workers=1, in_process=True)
    here = executor.name == "threads"  # progress, Stop and ``simulate`` reach the runs
    task = partial(_setting_point, project=project, test=test, calibration=calibration,
                   samples=samples, limits=limits, output=output, profiles=profiles,
                   total=len(settings_list), cancel=cancel if here else None,
                   progress=progress if here else None, simulate=simulate if here else None)
    done: dict[int, CompressionPoint | None] = {}
    try:
        for i, point in executor.map_unordered(task, list(enumerate(settings_list)),
                                               cancel=stopped):
            done[i] = point
    except RunStopped as exc:
        if exc.status != "cancelled":
            raise
    finally:
        if own:
            executor.close()
    points: list[CompressionPoint] = []
    for i in range(len(settings_list)):  # in order; a cancelled sweep keeps its first points
        if done.get(i) is None:
            break
        points.append(done[i])
    return points


def _setting_point(item: tuple[int, CompressionSettings], *, project: Project, test: Dataset,
                   calibration: Dataset | None, samples: int | None,
                   limits: RunLimits | None, output: str, profiles, total: int,
                   cancel: CancelCheck, progress: ProgressCallback | None,
                   simulate: Simulate | None) -> CompressionPoint | None:
    """Compress with one setting and measure it (an executor task: in a worker process
    ``cancel``, ``progress`` and ``simulate`` are None). None when stopped before it began.

    Raises
    ------
    RunStopped
        When a run was cancelled or stopped at a limit.
    """
    i, settings = item
    if StopCheck(cancel).status() == "cancelled":
        return None

    def part(fraction: float, text: str) -> None:
        if progress is not None:
            progress((i + fraction) / total, f"{settings.label()}: {text}")

    share = 0.6 if settings.prune_idle else 0.05
    if settings.is_identity:
        compressed, report = project, None
    else:
        compressed, report = compress(
            project, settings, calibration=calibration, samples=samples, limits=limits,
            cancel=cancel, simulate=simulate, progress=lambda f, t: part(f * share, t))
    return measure(compressed, settings, test, samples=samples, output=output, limits=limits,
                   cancel=cancel, profiles=profiles, report=report, simulate=simulate,
                   progress=lambda f, t: part(share + f * (1 - share), t))


def pareto_front(points: list[CompressionPoint], profile: str | None = None) -> list[int]:
    """Indices of the points no other point beats on both accuracy (higher) and energy per
    inference on ``profile`` (lower; default: the first profile of the first point), sorted
    by energy. Equal points are all kept."""
    if not points:
        return []
    profile = profile or next(iter(points[0].energy_per_inference_j))
    acc = np.array([p.accuracy for p in points])
    energy = np.array([p.energy_per_inference_j[profile] for p in points])
    front = [i for i in range(len(points))
             if not np.any((acc >= acc[i]) & (energy <= energy[i])
                           & ((acc > acc[i]) | (energy < energy[i])))]
    return sorted(front, key=lambda i: (energy[i], -acc[i]))
