"""Calibration runs for idle-neuron pruning: which neurons spike, and what a run computes.

The calibration set is presented through the project's dataset encoder
(:func:`engine.evaluation.classify.with_dataset`). Hidden populations (those that project to another
node) are the candidates; output populations are never pruned (their neuron i is class i).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.compression.running import Simulate, run
from engine.core.limits import RunLimits, RunStopped
from engine.errors import SpikeStudioError
from engine.evaluation.classify import project_samples, windows_of, with_dataset
from engine.evaluation.datasets import Dataset, digits, digits_split
from engine.project import Project
from engine.simulator import CancelCheck


def hidden_populations(project: Project) -> list[str]:
    """Populations that project to another node: pruning their silent neurons is exact."""
    feeding = {p.source for p in project.network.projections if p.source != p.target}
    return [n.id for n in project.network.populations if n.id in feeding]


def output_populations(project: Project) -> list[str]:
    hidden = set(hidden_populations(project))
    return [n.id for n in project.network.populations if n.id not in hidden]


def default_calibration(project: Project) -> tuple[Dataset, str]:
    """The calibration set of a project with a dataset encoder, and where it came from.

    The training split of scikit-learn's digits when the encoder presents digits (its
    samples are rows of the digits set: the converted sample project), otherwise the
    project's own samples.
    """
    own = project_samples(project)
    if own.x.shape[1] == 64:
        try:
            known = {row.tobytes() for row in digits().x}
        except SpikeStudioError:  # scikit-learn is not installed: use what the project has
            known = set()
        if all(row.tobytes() in known for row in own.x[:20]):
            train = digits_split()[0]
            return train, f"digits training split ({len(train.y)} samples)"
    return own, f"the project's own {len(own.y)} samples"


@dataclass
class CalibrationRun:
    """One presentation of the calibration set.

    ``spiked``: per population a boolean mask of the neurons that spiked (only for the
    populations asked for). ``totals``: ``synaptic_events``, ``neuron_updates`` and
    ``spikes`` (of populations) over the whole run. ``outputs``: the output populations'
    spikes (time_ms, population, neuron), to check that pruning changed no answer.
    """

    samples: int
    spiked: dict[str, np.ndarray]
    totals: dict[str, float]
    outputs: pd.DataFrame


def _run(project: Project, record: list[str], limits: RunLimits | None, cancel: CancelCheck,
         simulate: Simulate | None = None):
    project.simulation.record_spikes = record
    result = run(project, limits=limits, cancel=cancel, simulate=simulate)
    if result.status not in ("completed", "memory_limit"):
        raise RunStopped(result.status, f"calibration run stopped ({result.status}): "
                                        f"{'; '.join(result.messages) or 'no result'}")
    return result


def _totals(result) -> dict[str, float]:
    counts = result.counts
    pops = counts["kind"] == "population"
    return {"synaptic_events": float(counts["syn_events"].sum()),
            "neuron_updates": float(counts.loc[pops, "neuron_updates"].sum()),
            "spikes": float(counts.loc[pops, "spikes"].sum())}


def calibrate(project: Project, data: Dataset, *, watch: list[str] | None = None,
              limits: RunLimits | None = None, cancel: CancelCheck = None,
              simulate: Simulate | None = None) -> CalibrationRun:
    """Present ``data`` and record which neurons of ``watch`` spike.

    Recording every spike of a busy hidden layer can fill the spike record (the run then
    stops with ``memory_limit``); the samples not yet completed are then presented again in
    a further run, until every sample was shown. The totals and output spikes always come
    from one uninterrupted run of every sample (a second run, with only the outputs
    recorded, when the first was split).

    Raises
    ------
    RunStopped
        When a run was cancelled or hit the time limit.
    """
    watch = list(watch or [])
    outputs = output_populations(project)
    spiked = {pid: np.zeros(project.network.node(pid).size, bool) for pid in watch}
    n, start, whole = len(data.y), 0, None
    while start < n:
        run_project = with_dataset(project, data.subset(slice(start, n)))
        result = _run(run_project, watch + outputs, limits, cancel, simulate)
        spikes = result.spikes
        for pid in watch:
            spiked[pid][spikes.loc[spikes["population"] == pid, "neuron"].to_numpy()] = True
        if result.status == "completed" and start == 0:
            whole = result
        windows = windows_of(run_project)
        done = int(np.sum(windows.end <= round(result.duration_ms / result.dt_ms)))
        if result.status == "completed":
            break
        if done == 0:
            raise SpikeStudioError("prune_idle: one calibration sample fills the spike record; "
                                   "the network fires too much to calibrate")
        start += done
    if whole is None:  # split: one more run, recording the outputs only
        whole = _run(with_dataset(project, data), outputs, limits, cancel, simulate)
    spikes = whole.spikes
    out = spikes[spikes["population"].isin(outputs)].reset_index(drop=True)
    return CalibrationRun(n, spiked, _totals(whole), out)


def same_outputs(a: CalibrationRun, b: CalibrationRun) -> bool:
    """Both runs' output populations spiked at the same times (so every answer is the same)."""
    columns = ["time_ms", "population", "neuron"]
    x = a.outputs[columns].astype({"population": str})
    y = b.outputs[columns].astype({"population": str})
    return x.shape == y.shape and bool((x.to_numpy() == y.to_numpy()).all())
