"""Accuracy against presentation time: the same test samples shown for each of several times.

Each presentation time is one dataset run
(:func:`engine.evaluation.classify.with_dataset`) scored by
:func:`engine.evaluation.classify.readout` and :func:`engine.evaluation.classify.evaluate`; the
sweep adds the populations' firing rates and the dense ANN the network stands for
(:mod:`engine.evaluation.ann_reference`). Each time is a task of an :mod:`engine.executor`
(threads by default, whose runs go through an injectable ``simulate``: the workbench passes its
worker pool's), a few at a time, and stops on ``cancel``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd

from engine.energy import model as E
from engine.errors import SpikeStudioError
from engine.evaluation.ann_reference import AnnReference, ann_reference
from engine.evaluation.classify import (
    check_output,
    dataset_node,
    evaluate,
    output_population,
    readout,
    with_dataset,
)
from engine.evaluation.datasets import Dataset
from engine.executor import Executor, make_executor
from engine.project import Project

#: Longest presentation time offered (ms): a sample shown longer teaches nothing new.
MAX_PRESENT_MS = 10_000.0
#: Most presentation times in one sweep.
MAX_TIMES = 12


@dataclass(frozen=True)
class SweepProgress:
    """``fraction`` of the sweep's model time simulated; ``done`` of ``total`` runs ended."""

    fraction: float
    done: int
    total: int


@dataclass
class PresentationPoint:
    """One presentation time's evaluation.

    Attributes
    ----------
    report
        :func:`engine.evaluation.classify.evaluate`'s dict (accuracy, confusion, energy, ...).
    rates_hz
        Mean firing rate per neuron of each population over the run (Hz).
    wall_s
        Wall time of the run, queueing included.
    """

    present_ms: float
    report: dict
    rates_hz: dict[str, float]
    wall_s: float


@dataclass
class PresentationSweep:
    """The points of a sweep, what failed, and the ANN reference."""

    dataset: str
    samples: int
    output: str
    points: list[PresentationPoint] = field(default_factory=list)
    problems: dict[float, str] = field(default_factory=dict)
    cancelled: bool = False
    ann: AnnReference | None = None

    def curve(self) -> pd.DataFrame:
        """One row per point: ``present_ms, accuracy, undecided, spikes_per_inference,
        synaptic_events_per_inference, latency_ms`` (mean over decided samples)."""
        rows = [{"present_ms": p.present_ms, "accuracy": p.report["accuracy"],
                 "undecided": p.report["undecided"],
                 "spikes_per_inference": p.report["spikes_per_inference"],
                 "synaptic_events_per_inference": p.report["synaptic_events_per_inference"],
                 "latency_ms": p.report["latency_ms"]["mean"]} for p in self.points]
        return pd.DataFrame(rows, columns=["present_ms", "accuracy", "undecided",
                                           "spikes_per_inference",
                                           "synaptic_events_per_inference", "latency_ms"])

    def point(self, present_ms: float) -> PresentationPoint | None:
        return next((p for p in self.points if math.isclose(p.present_ms, present_ms)), None)


def project_profiles(project: Project) -> dict[str, E.HardwareProfile]:
    """The built-in hardware profiles and the project's own (which win on equal ids)."""
    own = project.energy.get("profiles") if project.energy else None
    return {**E.load_profiles(),
            **(E.profiles_from_document({"profiles": own}) if own else {})}


def check_present_times(times: Sequence[float], dt_ms: float) -> list[float]:
    """Distinct presentation times in increasing order, each a positive multiple of dt.

    Raises
    ------
    SpikeStudioError
        Naming the offending time.
    """
    out: list[float] = []
    for t in times:
        t = float(t)
        if not (math.isfinite(t) and 0 < t <= MAX_PRESENT_MS):
            raise SpikeStudioError(f"presentation times: {t:g} ms is not in (0, "
                                   f"{MAX_PRESENT_MS:g}] ms")
        steps = t / dt_ms
        if abs(steps - round(steps)) > 1e-6:
            raise SpikeStudioError(f"presentation times: {t:g} ms is not a whole number of "
                                   f"time steps (dt = {dt_ms:g} ms)")
        if not any(math.isclose(t, u) for u in out):
            out.append(t)
    if not out:
        raise SpikeStudioError("presentation times: give at least one")
    if len(out) > MAX_TIMES:
        raise SpikeStudioError(f"presentation times: at most {MAX_TIMES}, got {len(out)}")
    return sorted(out)


def evaluation_project(project: Project, data: Dataset, *, n_samples: int, present_ms: float,
                       output: str, encoder: str | None = None) -> Project:
    """``project`` presenting the first ``n_samples`` of ``data`` for ``present_ms`` each,
    recording the output population's spikes (only those, unless the project records more:
    the rates come from the counts every run keeps)."""
    check_output(project, output, mode="membrane")  # a population; its spikes are added
    shown = with_dataset(project, data, n_samples=n_samples, encoder=encoder,
                         present_ms=present_ms)
    record = shown.simulation.record_spikes
    if record != "all" and output not in record:
        doc = shown.to_dict()
        doc["simulation"]["record_spikes"] = [*record, output]
        shown = Project.from_dict(doc)
    return shown


def layer_rates(result) -> dict[str, float]:
    """Mean firing rate per neuron (Hz) of each population over the run, from its counts."""
    counts = result.counts[result.counts["kind"] == "population"]
    spikes = counts.groupby("node", observed=True, sort=False)["spikes"].sum()
    sizes = result.sizes
    seconds = max(result.duration_ms, 1e-12) / 1000.0
    return {str(node): float(n) / max(int(sizes.get(node, 1)), 1) / seconds
            for node, n in spikes.items()}


def sweep_presentation(project: Project, data: Dataset, present_times: Sequence[float], *,
                       n_samples: int, output: str | None = None, encoder: str | None = None,
                       profiles: Mapping[str, E.HardwareProfile] | None = None,
                       simulate: Callable[..., object] | None = None,
                       progress: Callable[[SweepProgress], None] | None = None,
                       cancel: threading.Event | None = None,
                       max_workers: int = 2,
                       executor: Executor | None = None) -> PresentationSweep:
    """Evaluate ``project`` on the first ``n_samples`` of ``data`` at every presentation time.

    Parameters
    ----------
    output
        The output population (neuron i = class i); default
        :func:`engine.evaluation.classify.output_population`.
    simulate
        ``simulate(project, cancel=..., progress=...)`` (default: the engine's, in this
        process).
    progress
        Called from the worker threads with a :class:`SweepProgress`.
    cancel
        When set, running simulations stop at their next chunk and queued ones do not
        start; the sweep keeps the points that finished.
    max_workers
        Runs at the same time.
    executor
        Where the runs go (:func:`engine.executor.make_executor`); default: threads of this
        process, ``max_workers`` at a time, each run through ``simulate``. On worker
        processes or Dask each time runs with the engine's ``simulate`` in its worker:
        progress comes per finished time and Stop drops the queued ones.

    Raises
    ------
    SpikeStudioError
        Before any run: bad times, samples that do not fit the input, an unknown output.
    """
    output = output or output_population(project)
    times = check_present_times(present_times, project.simulation.dt_ms)
    # Build (and so validate) every run's project before the first one starts.
    runs = {t: evaluation_project(project, data, n_samples=n_samples, present_ms=t,
                                  output=output, encoder=encoder) for t in times}
    check_output(runs[times[0]], output)
    profiles = dict(profiles) if profiles is not None else project_profiles(project)
    cancel = cancel or threading.Event()
    total_ms = sum(p.simulation.duration_ms for p in runs.values())
    simulated = dict.fromkeys(times, 0.0)
    finished: list[float] = []
    lock = threading.Lock()
    n = min(int(n_samples), len(data.y))

    def report() -> None:
        if progress is not None:
            progress(SweepProgress(sum(simulated.values()) / total_ms, len(finished),
                                   len(times)))

    def moved(t: float, fraction: float) -> None:
        with lock:
            simulated[t] = fraction * runs[t].simulation.duration_ms
        report()

    own = executor is None
    executor = executor or make_executor(workers=max(1, int(max_workers)), in_process=True)
    here = executor.name == "threads"  # live progress, Stop and ``simulate`` reach the runs
    task = partial(_present, output=output, encoder=encoder, profiles=profiles,
                   simulate=simulate if here else None, cancel=cancel if here else None,
                   moved=moved if here else None)
    outcomes: dict[float, tuple] = {}
    try:
        for i, outcome in executor.map_unordered(task, [(t, runs[t]) for t in times],
                                                 cancel=cancel):
            outcomes[times[i]] = outcome
            with lock:
                simulated[times[i]] = runs[times[i]].simulation.duration_ms
                finished.append(times[i])
            report()
    finally:
        if own:
            executor.close()
    if len(finished) < len(times):  # the rest were dropped from the queue by Stop
        with lock:
            finished.extend(t for t in times if t not in outcomes)
            simulated.update((t, runs[t].simulation.duration_ms) for t in times)
        report()
    sweep = PresentationSweep(dataset=data.name, samples=n, output=output,
                              cancelled=cancel.is_set())
    last_result = None
    for t in times:
        done, problem = outcomes.get(t, (None, "stopped before it started"))
        if done is None:
            sweep.problems[t] = problem
        else:
            sweep.points.append(done[0])
            last_result = done[1]
    sweep.ann = ann_reference(project, data, n_samples=n, result=last_result,
                              window_ms=_period(runs[times[-1]], encoder), profiles=profiles,
                              encoder=encoder)
    return sweep


def _present(item: tuple[float, Project], *, output: str, encoder: str | None,
             profiles: Mapping[str, E.HardwareProfile],
             simulate: Callable[..., Any] | None, cancel: threading.Event | None,
             moved: Callable[[float, float], None] | None) -> tuple[Any, str | None]:
    """One presentation time's run and score (an executor task: in a worker process
    ``simulate``, ``cancel`` and ``moved`` are None). Returns ``((point, result), None)`` or
    ``(None, why it has no point)``."""
    if simulate is None:
        from engine.simulator import simulate  # deferred: building a sweep needs no numba
    t, run = item
    start = time.perf_counter()
    try:
        if cancel is not None and cancel.is_set():
            return None, "stopped before it started"
        result = simulate(run, cancel=cancel,
                          progress=None if moved is None else lambda p: moved(t, p.fraction))
        if result.status != "completed":
            why = "; ".join(result.messages) or "stopped"
            return None, f"run {result.status}: {why}"
        out = readout(result, run, output, encoder=encoder)
        point = PresentationPoint(t, evaluate(result, run, out, profiles=profiles),
                                  layer_rates(result), time.perf_counter() - start)
        return (point, result), None
    except SpikeStudioError as exc:  # SimulationError too: a partial run is no point
        return None, str(exc)


def _period(project: Project, encoder: str | None) -> float:
    """One sample's window (presentation + pause), ms."""
    values = dataset_node(project, encoder).resolved_params()
    return float(values["present_ms"]) + float(values["pause_ms"])

