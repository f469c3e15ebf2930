"""Delta (change) coding: ON / OFF spikes when a signal moves by a threshold."""

from __future__ import annotations

import math

import numpy as np

from engine.encoders.base import EventBounds, FixedSpikeSource, time_index
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    "delta", "Delta (change) coding",
    "Emits an ON spike (neuron 2k) when channel k of the signal rises by threshold since "
    "the last spike of that channel, an OFF spike (neuron 2k+1) when it falls by "
    "threshold, like an event camera. The signal is sampled at its table rows and held.",
    (
        ParamSpec("signal", "", [[0.0, 0.0], [50.0, 1.0], [100.0, 0.0]],
                  "[time_ms, value] rows of one channel (the node has 2 neurons: ON, OFF).",
                  kind="table", minimum=-1e9, maximum=1e9),
        ParamSpec("threshold", "", 0.1, "Change that triggers a spike.", minimum=0.0,
                  exclusive_minimum=True),
        ParamSpec("sample_ms", "ms", 1.0, "Interval at which the held signal is compared.",
                  minimum=0.0, exclusive_minimum=True),
    ),
)
BLOCKWISE = False

#: Why the node has the size :func:`fixed_size` gives (in validation messages).
SIZE_RULE = "one neuron per ON/OFF channel"


def fixed_size(values: dict) -> int:
    return 2


def check(values: dict, size: int | None) -> list[tuple[str, str]]:
    return [] if len(values["signal"]) >= 1 else [("signal", "must have at least one row")]


def _arange_length(start: float, stop: float, step: float) -> int:
    """``len(np.arange(start, stop, step))`` without building the array."""
    return max(0, int(math.ceil((stop - start) / step)))


def _delta_events(values: dict, dt_ms: float, k_end: int) -> tuple[np.ndarray, np.ndarray]:
    """ON (neuron 0) / OFF (neuron 1) events when the held signal moves by threshold.

    The signal is sampled every ``sample_ms`` from 0 (sample ``i`` at ``i * sample_ms``, as
    ``np.arange`` computes it) and held between table rows, so only a sample where a new row
    takes effect, or the sample right after an event, can produce an event: those are the only
    samples visited. Memory and time grow with the table, not with ``duration / sample_ms``.
    """
    table = np.asarray(values["signal"], dtype=np.float64)
    thr = values["threshold"]
    step = values["sample_ms"]
    n = _arange_length(0.0, k_end * dt_ms + step / 2, step)
    row_t = table[:, 0]

    def signal_at(i: int) -> float:
        row = int(np.searchsorted(row_t, i * step, side="right")) - 1
        return float(table[row, 1]) if row >= 0 else float(table[0, 1])

    def first_sample(t: float) -> int:  # smallest i with i * step >= t
        i = max(0, int(math.ceil(t / step)))
        while i > 0 and (i - 1) * step >= t:
            i -= 1
        while i * step < t:
            i += 1
        return i

    ks, ns = [], []
    ref = signal_at(0)
    done = 0  # samples up to here were visited (sample 0 only sets the reference)
    for first in sorted({first_sample(float(t)) for t in row_t}):
        i = max(first, done + 1)
        if i != first:
            continue  # already visited after an event
        while i < n:
            value = signal_at(i)
            done = i
            steps = math.floor(abs(value - ref) / thr)
            if steps < 1:
                break
            ks.append(i * step)
            ns.append(0 if value > ref else 1)
            ref += math.copysign(steps * thr, value - ref)
            i += 1
    return time_index(np.asarray(ks, dtype=np.float64), dt_ms), np.asarray(ns, dtype=np.int32)


def source(size: int, values: dict, dt_ms: float, seed: int, k_end: int) -> FixedSpikeSource:
    return FixedSpikeSource(size, *_delta_events(values, dt_ms, k_end))


def bounds(size: int, values: dict, dt_ms: float, n_steps: int) -> EventBounds:
    # One event where a table row takes effect, one more if rounding left a residue.
    total = 2 * len(values["signal"])
    return EventBounds(total, total, total)
