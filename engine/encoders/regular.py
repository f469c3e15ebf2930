"""Regular (periodic) spike trains, optionally phase-shifted per neuron."""

from __future__ import annotations

import math

import numpy as np

from engine.encoders import base
from engine.encoders.base import BLOCK_STEPS, EventBounds
from engine.params import MAX_TIME_MS, ModelSpec, ParamSpec

SPEC = ModelSpec(
    "regular", "Regular spike trains",
    "Every neuron fires at a fixed rate, the first spike at start_ms + phase_ms.",
    (
        ParamSpec("rate_hz", "Hz", 10.0, "Firing rate.", minimum=0.0,
                  exclusive_minimum=True, maximum=10_000.0),
        ParamSpec("phase_ms", "ms", 0.0, "Offset of the first spike.", minimum=0.0),
        ParamSpec("phase_step_ms", "ms", 0.0, "Extra offset per neuron index (a "
                  "travelling wave when > 0).", minimum=0.0),
        base.START, base.STOP,
    ),
)
BLOCKWISE = True


def check(values: dict, size: int | None) -> list[tuple[str, str]]:
    problems = base.stop_after_start(values)
    if size is not None:
        last = values["phase_ms"] + values["phase_step_ms"] * (size - 1)
        if last > MAX_TIME_MS:
            problems.append(("phase_step_ms", f"puts the last neuron's first spike at "
                                              f"{last:g} ms; it must be at most "
                                              f"{MAX_TIME_MS:g} ms"))
    return problems


class RegularSource(base.BlockSpikeSource):
    """Periodic spike trains: neuron i fires at start + phase + i * phase_step + m / rate."""

    def __init__(self, size: int, dt_ms: float, values: dict):
        super().__init__(size, 0)
        self.dt_ms = dt_ms
        self.period = 1000.0 / values["rate_hz"]
        self.first = (values["start_ms"] + values["phase_ms"]
                      + values["phase_step_ms"] * np.arange(size))
        self.stop_ms = values["stop_ms"]

    def block_events_bound(self) -> float:
        return self.size * (math.floor(BLOCK_STEPS * self.dt_ms / self.period) + 1)

    def _block(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        t_lo = (b * BLOCK_STEPS - 0.5) * self.dt_ms
        t_hi = ((b + 1) * BLOCK_STEPS - 0.5) * self.dt_ms
        m_lo = np.maximum(np.ceil((t_lo - self.first) / self.period), 0)
        m_hi = np.ceil((min(t_hi, self.stop_ms) - self.first) / self.period)
        counts = np.maximum(m_hi - m_lo, 0).astype(np.int64)
        neuron = np.repeat(np.arange(self.size, dtype=np.int32), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        t = self.first[neuron] + (m_lo[neuron] + offsets) * self.period
        keep = t < self.stop_ms
        k = base.time_index(t[keep], self.dt_ms)
        order = np.argsort(k, kind="stable")
        return k[order], neuron[keep][order]


def source(size: int, values: dict, dt_ms: float, seed: int, k_end: int) -> RegularSource:
    return RegularSource(size, dt_ms, values)


def bounds(size: int, values: dict, dt_ms: float, n_steps: int) -> EventBounds:
    if not values["rate_hz"] > 0:
        return EventBounds(0, 0, 0)
    period = 1000.0 / values["rate_hz"]
    span = max(0.0, min(values["stop_ms"], (n_steps + 1.5) * dt_ms) - values["start_ms"])

    def within(ms: float) -> int:  # events of one neuron in a window of ms
        return size * int(math.floor(min(ms, span) / period) + 1)

    return EventBounds(within(dt_ms), within(BLOCK_STEPS * dt_ms), within(span))
