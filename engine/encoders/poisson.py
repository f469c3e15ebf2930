"""Poisson spike trains (Bernoulli per step), with an optional piecewise-constant rate table."""

from __future__ import annotations

import math

import numpy as np

from engine.encoders.base import (
    BLOCK_STEPS,
    START,
    STOP,
    BlockSpikeSource,
    EventBounds,
    stop_after_start,
    time_index,
)
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    "poisson", "Poisson spike trains",
    "Independent Bernoulli spike trains with probability rate*dt per step (Poisson in the "
    "limit dt -> 0). With a rate table the rate is piecewise constant between its rows.",
    (
        ParamSpec("rate_hz", "Hz", 10.0, "Firing rate of every neuron.", minimum=0.0,
                  maximum=10_000.0),
        ParamSpec("rate_table", "Hz", [], "Optional [time_ms, rate_hz] rows; overrides "
                  "rate_hz from the first row's time on.", kind="table", minimum=0.0,
                  maximum=10_000.0),
        START, STOP,
    ),
)
#: Events are generated per block of BLOCK_STEPS (the memory estimate holds one block).
BLOCKWISE = True
check = stop_after_start


class PoissonSource(BlockSpikeSource):
    """Bernoulli spike trains with probability ``rate(t) * dt`` per time index ``k >= 1``."""

    def __init__(self, size: int, seed: int, dt_ms: float, values: dict):
        super().__init__(size, seed)
        self.dt_ms = dt_ms
        self.start_k = max(1, int(time_index(values["start_ms"], dt_ms)))
        self.stop_k = int(min(time_index(min(values["stop_ms"], 1e12), dt_ms), 2**62))
        table = values.get("rate_table") or []
        self.table_k = time_index([row[0] for row in table], dt_ms) if table else None
        self.table_rate = np.array([row[1] for row in table], dtype=np.float64)
        self.rate_hz = float(values["rate_hz"])

    def block_events_bound(self) -> float:
        rate = max([self.rate_hz] + self.table_rate.tolist())
        return self.size * BLOCK_STEPS * min(max(rate, 0.0) * self.dt_ms * 1e-3, 1.0)

    def rates(self, k: np.ndarray) -> np.ndarray:
        """Rate in Hz at each time index (the table holds its value from each row on)."""
        rate = np.full(k.shape, self.rate_hz)
        if self.table_k is not None:
            row = np.searchsorted(self.table_k, k, side="right") - 1
            rate = np.where(row >= 0, self.table_rate[np.maximum(row, 0)], rate)
        return np.where((k >= self.start_k) & (k < self.stop_k), rate, 0.0)

    def _block(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        # numba only where events are generated: the spec above is read without it (server)
        from engine.encoders.bernoulli import bernoulli_block

        k0 = b * BLOCK_STEPS
        p = np.minimum(self.rates(np.arange(k0, k0 + BLOCK_STEPS)) * self.dt_ms * 1e-3, 1.0)
        if not p.any():
            return np.empty(0, np.int64), np.empty(0, np.int32)
        seed = int(np.random.SeedSequence([self.seed, b]).generate_state(1)[0])
        k, n = bernoulli_block(self.size, p, float(p.max()), seed)
        order = np.argsort(k, kind="stable")
        return k[order] + k0, n[order]


def source(size: int, values: dict, dt_ms: float, seed: int, k_end: int) -> PoissonSource:
    return PoissonSource(size, seed, dt_ms, values)


def _tail(mean: float) -> int:
    return int(math.ceil(mean + 6.0 * math.sqrt(mean) + 64))


def bounds(size: int, values: dict, dt_ms: float, n_steps: int) -> EventBounds:
    """Counts are random: the mean plus six standard deviations (at most one event per
    neuron and step)."""
    steps = n_steps + 1
    table = values.get("rate_table") or []
    rate = max([float(values["rate_hz"])] + [float(r[1]) for r in table])
    p = min(max(rate, 0.0) * dt_ms * 1e-3, 1.0)
    start = max(1, int(time_index(values["start_ms"], dt_ms)))
    stop = min(float(time_index(min(values["stop_ms"], 1e12), dt_ms)), steps)
    active = max(0.0, stop - start)
    if p <= 0 or active <= 0:
        return EventBounds(0, 0, 0)
    per_block = min(size * min(BLOCK_STEPS, active),
                    max(_tail(size * BLOCK_STEPS * p), 1.2 * size * BLOCK_STEPS * p + 64))
    return EventBounds(int(min(size, _tail(size * p))), int(per_block),
                       int(min(size * active, _tail(size * active * p))))
