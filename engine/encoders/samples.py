"""What the dataset encoders share: their parameters, presentation windows and rules.

A dataset encoder (``dataset``: rate-coded spikes, ``dataset_current``: per-channel currents)
shows its samples one after the other, sample ``i`` from ``i * (present_ms + pause_ms)`` for
``present_ms``; its channels (one per column of ``samples``) are the node's neurons. Its
module carries, beyond the encoder protocol of :mod:`engine.encoders.base`,
``windows(values, dt_ms, n_steps) -> DatasetWindows`` (what the readout scores) and
``reset_steps(values, dt_ms, n_steps)`` (where the build resets the network).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.encoders.base import time_index
from engine.params import ParamSpec

PARAMS = (
    ParamSpec("samples", "", [[0.0, 0.5, 1.0]], "One row per sample, one column per channel "
              "(neuron); images flattened row by row.", kind="matrix", minimum=-1e4,
              maximum=1e4),
    ParamSpec("labels", "", [], "Optional class of each sample (0, 1, ...); travels with "
              "the samples to the readout.", kind="int_list", minimum=0, maximum=1_000_000),
    ParamSpec("present_ms", "ms", 50.0, "How long each sample is presented.", minimum=0.0,
              exclusive_minimum=True, maximum=1e6),
    ParamSpec("pause_ms", "ms", 0.0, "Silence after each sample.", minimum=0.0, maximum=1e6),
    ParamSpec("reset", "", True, "Reset v, synaptic currents, refractoriness and spikes in "
              "flight of every population when a sample starts.", kind="bool"),
)

#: Why the node has the size :func:`fixed_size` gives (in validation messages).
SIZE_RULE = "one neuron per column of samples"


@dataclass(frozen=True)
class DatasetWindows:
    """Presentation windows of a dataset encoder, in time indices.

    Sample ``i`` starts at ``start[i] = i * period``. The kernel's step ``k`` integrates up to
    time index ``k``, and a current changed at ``start[i]`` acts from step ``start[i] + 1``,
    so the sample drives steps ``start[i] + 1 .. start[i] + present`` (``present`` steps);
    its spikes fall on time indices ``start[i] + 1 .. start[i] + present - 1`` (delivered in
    the same steps). The network is reset before step ``start[i] + 1``.
    """

    start: np.ndarray   # int64 (n,) first time index of each sample shown in the run
    present: int        # steps per presentation
    period: int         # steps from one sample to the next
    labels: np.ndarray  # int64 (n,) label of each shown sample, -1 without labels

    @property
    def end(self) -> np.ndarray:
        """Last time index of each window (the state there is the sample's final state)."""
        return self.start + self.present


def dataset_windows(values: dict, dt_ms: float, n_steps: int | None) -> DatasetWindows:
    """The windows of the samples shown by a run of ``n_steps`` (a sample counts when its
    window starts before the run ends; ``None``: every sample)."""
    present = max(1, int(time_index(values["present_ms"], dt_ms)))
    period = max(present, int(time_index(values["present_ms"] + values["pause_ms"], dt_ms)))
    n = len(values["samples"])
    if n_steps is not None:
        n = min(n, n_steps // period + (1 if n_steps % period else 0))
    labels = np.asarray(values["labels"], np.int64)
    return DatasetWindows(
        start=np.arange(n, dtype=np.int64) * period, present=present, period=period,
        labels=labels[:n] if labels.size else np.full(n, -1, np.int64))


#: The encoder modules' ``windows``.
windows = dataset_windows


def shown_samples(values: dict, windows: DatasetWindows) -> np.ndarray:
    """The rows of ``samples`` that ``windows`` show, as float64 (samples, channels)."""
    return np.asarray(values["samples"], np.float64)[: len(windows.start)]


def reset_steps(values: dict, dt_ms: float, n_steps: int) -> np.ndarray:
    """Steps before which every population is reset: each shown sample's first step but the
    first sample's (none when ``reset`` is off)."""
    if not values["reset"]:
        return np.empty(0, np.int64)
    return dataset_windows(values, dt_ms, n_steps).start[1:] + 1


def fixed_size(values: dict) -> int:
    return len(values["samples"][0])


def check_samples(values: dict, *, unit_range: bool) -> list[tuple[str, str]]:
    """One label per sample (or none) and, for rate coding (``unit_range``), values in
    [0, 1]; as (parameter, message) pairs."""
    samples, labels = values["samples"], values["labels"]
    problems = []
    if labels and len(labels) != len(samples):
        problems.append(("labels", f"must hold one label per sample ({len(samples)}), got "
                                   f"{len(labels)}"))
    for i, row in enumerate(samples if unit_range else []):
        bad = [j for j, x in enumerate(row) if not 0.0 <= x <= 1.0]
        if bad:
            problems.append(("samples", f"row {i}, column {bad[0]}: rate coding needs values "
                                        f"in [0, 1], got {row[bad[0]]:g}"))
            break
    return problems
