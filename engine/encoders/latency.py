"""Latency coding: one value in [0, 1] per neuron as the time of a single spike."""

from __future__ import annotations

import math

import numpy as np

from engine.encoders.base import EventBounds, FixedSpikeSource, time_index
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    "latency", "Latency coding",
    "Each neuron encodes one value x in [0, 1] as the time of a single spike: "
    "t = t_max * (1 - x); values below x_min stay silent. Repeats every period_ms "
    "when period_ms > 0.",
    (
        ParamSpec("values", "", [1.0, 0.5, 0.25], "One value in [0, 1] per neuron.",
                  kind="float_list", minimum=0.0, maximum=1.0),
        ParamSpec("t_max_ms", "ms", 20.0, "Spike time of the smallest value.",
                  minimum=0.0, exclusive_minimum=True),
        ParamSpec("x_min", "", 0.0, "Values below this emit no spike.", minimum=0.0,
                  maximum=1.0),
        ParamSpec("period_ms", "ms", 0.0, "Repetition period (0 = once).", minimum=0.0),
    ),
)
BLOCKWISE = False

#: Why the node has the size :func:`fixed_size` gives (in validation messages).
SIZE_RULE = "one neuron per value"


def fixed_size(values: dict) -> int:
    return len(values["values"])


def _latency_events(values: dict, dt_ms: float, k_end: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values["values"], dtype=np.float64)
    active = np.flatnonzero(x >= values["x_min"])
    t0 = values["t_max_ms"] * (1.0 - x[active])
    period = values["period_ms"]
    repeats = int(math.ceil(k_end * dt_ms / period)) + 1 if period > 0 else 1
    t = (t0[None, :] + period * np.arange(repeats)[:, None]).ravel()
    neuron = np.tile(active, repeats)
    return time_index(t, dt_ms), neuron


def source(size: int, values: dict, dt_ms: float, seed: int, k_end: int) -> FixedSpikeSource:
    return FixedSpikeSource(size, *_latency_events(values, dt_ms, k_end))


def bounds(size: int, values: dict, dt_ms: float, n_steps: int) -> EventBounds:
    active = int(np.count_nonzero(np.asarray(values["values"], np.float64) >= values["x_min"]))
    period = values["period_ms"]
    if period > 0:
        repeats = int(math.ceil(n_steps * dt_ms / period)) + 1
        per_step = active * min(repeats, int(math.floor(dt_ms / period)) + 1)
    else:
        repeats, per_step = 1, active
    return EventBounds(per_step, active * repeats, active * repeats)
