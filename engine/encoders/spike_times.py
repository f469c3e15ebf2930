"""Explicit spike times, one list per neuron (data-driven input)."""

from __future__ import annotations

import numpy as np

from engine.encoders.base import EventBounds, FixedSpikeSource, time_index
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    "spike_times", "Spike times (data-driven)",
    "Explicit spike times, one list per neuron (e.g. loaded from a recording).",
    (
        ParamSpec("times_ms", "ms", [[10.0]], "One list of spike times per neuron.",
                  kind="spike_lists", minimum=0.0),
    ),
)
BLOCKWISE = False

#: Why the node has the size :func:`fixed_size` gives (in validation messages).
SIZE_RULE = "one neuron per list of times"


def fixed_size(values: dict) -> int:
    return len(values["times_ms"])


def source(size: int, values: dict, dt_ms: float, seed: int, k_end: int) -> FixedSpikeSource:
    lists = values["times_ms"]
    neuron = np.repeat(np.arange(len(lists), dtype=np.int32), [len(t) for t in lists])
    times = np.concatenate([np.asarray(t, np.float64) for t in lists]) if lists else []
    return FixedSpikeSource(size, time_index(times, dt_ms), neuron)


def bounds(size: int, values: dict, dt_ms: float, n_steps: int) -> EventBounds:
    total = sum(len(t) for t in values["times_ms"])
    return EventBounds(total, total, total)
