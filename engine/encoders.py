"""Input encoders: spike sources and current sources.

Spike sources produce events ``(k, neuron)`` where ``k`` is the time index (time ``k * dt``).
They are generated in fixed blocks of time indices, each block from its own seed, so the
spikes do not depend on how the simulator chunks the run (runs are bit-reproducible whatever
the chunk sizes, and a cancelled run is a prefix of the full run).

Current sources are piecewise-constant amplitudes; the simulator splits its chunks at their
change points and sets the external input of the target neurons in between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from engine.params import ModelSpec

BLOCK_STEPS = 1000  # time indices per random block: a trade-off of memory and call overhead


def time_index(t_ms: float | np.ndarray, dt_ms: float) -> np.ndarray:
    """Nearest time index of ``t_ms`` (ties away from zero would bias; numpy rounds to even)."""
    return np.rint(np.asarray(t_ms, dtype=np.float64) / dt_ms).astype(np.int64)


class SpikeSource:
    """Base class: a node that emits spikes, queried by half-open ranges of time indices."""

    size: int

    def events(self, k_lo: int, k_hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Spikes with time index in ``[k_lo, k_hi)`` as (k int64, neuron int32), sorted by k."""
        raise NotImplementedError


class FixedSpikeSource(SpikeSource):
    """Spikes known in advance (explicit times, latency and delta coding)."""

    def __init__(self, size: int, k: np.ndarray, neuron: np.ndarray):
        order = np.argsort(k, kind="stable")
        self.size = size
        self.k = np.asarray(k, dtype=np.int64)[order]
        self.neuron = np.asarray(neuron, dtype=np.int32)[order]

    def events(self, k_lo: int, k_hi: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.searchsorted(self.k, [k_lo, k_hi])
        return self.k[lo:hi], self.neuron[lo:hi]


class BlockSpikeSource(SpikeSource):
    """Spikes generated block by block (Poisson, regular); only the current block is cached."""

    def __init__(self, size: int, seed: int):
        self.size = size
        self.seed = seed
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _block(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def events(self, k_lo: int, k_hi: int) -> tuple[np.ndarray, np.ndarray]:
        if k_hi <= k_lo:
            return np.empty(0, np.int64), np.empty(0, np.int32)
        ks, ns = [], []
        for b in range(k_lo // BLOCK_STEPS, (k_hi - 1) // BLOCK_STEPS + 1):
            if b not in self._cache:
                self._cache = {key: v for key, v in self._cache.items() if key >= b - 1}
                self._cache[b] = self._block(b)
            k, n = self._cache[b]
            lo, hi = np.searchsorted(k, [k_lo, k_hi])
            ks.append(k[lo:hi])
            ns.append(n[lo:hi])
        return np.concatenate(ks), np.concatenate(ns)


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

    def rates(self, k: np.ndarray) -> np.ndarray:
        """Rate in Hz at each time index (the table holds its value from each row on)."""
        rate = np.full(k.shape, self.rate_hz)
        if self.table_k is not None:
            row = np.searchsorted(self.table_k, k, side="right") - 1
            rate = np.where(row >= 0, self.table_rate[np.maximum(row, 0)], rate)
        return np.where((k >= self.start_k) & (k < self.stop_k), rate, 0.0)

    def _block(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        k0 = b * BLOCK_STEPS
        p = np.minimum(self.rates(np.arange(k0, k0 + BLOCK_STEPS)) * self.dt_ms * 1e-3, 1.0)
        if not p.any():
            return np.empty(0, np.int64), np.empty(0, np.int32)
        seed = int(np.random.SeedSequence([self.seed, b]).generate_state(1)[0])
        k, n = _bernoulli_block(self.size, p, float(p.max()), seed)
        order = np.argsort(k, kind="stable")
        return k[order] + k0, n[order]


class RegularSource(BlockSpikeSource):
    """Periodic spike trains: neuron i fires at start + phase + i * phase_step + m / rate."""

    def __init__(self, size: int, dt_ms: float, values: dict):
        super().__init__(size, 0)
        self.dt_ms = dt_ms
        self.period = 1000.0 / values["rate_hz"]
        self.first = (values["start_ms"] + values["phase_ms"]
                      + values["phase_step_ms"] * np.arange(size))
        self.stop_ms = values["stop_ms"]

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
        k = time_index(t[keep], self.dt_ms)
        order = np.argsort(k, kind="stable")
        return k[order], neuron[keep][order]


@numba.njit(cache=True)
def _bernoulli_block(size, p, p_max, seed):  # pragma: no cover - compiled
    """Bernoulli events with per-step probability p (<= p_max) by geometric skipping + thinning."""
    np.random.seed(seed)
    n_steps = p.shape[0]
    cap = int(size * n_steps * p_max * 1.2) + 64
    out_k = np.empty(cap, np.int64)
    out_n = np.empty(cap, np.int32)
    count = 0
    for i in range(size):
        pos = np.random.geometric(p_max) - 1
        while pos < n_steps:
            if p[pos] >= p_max or np.random.random() * p_max < p[pos]:
                if count == cap:
                    cap *= 2
                    grown_k = np.empty(cap, np.int64)
                    grown_n = np.empty(cap, np.int32)
                    grown_k[:count] = out_k[:count]
                    grown_n[:count] = out_n[:count]
                    out_k, out_n = grown_k, grown_n
                out_k[count] = pos
                out_n[count] = i
                count += 1
            pos += np.random.geometric(p_max)
    return out_k[:count], out_n[:count]


def _latency_events(values: dict, dt_ms: float, k_end: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values["values"], dtype=np.float64)
    active = np.flatnonzero(x >= values["x_min"])
    t0 = values["t_max_ms"] * (1.0 - x[active])
    period = values["period_ms"]
    repeats = int(math.ceil(k_end * dt_ms / period)) + 1 if period > 0 else 1
    t = (t0[None, :] + period * np.arange(repeats)[:, None]).ravel()
    neuron = np.tile(active, repeats)
    return time_index(t, dt_ms), neuron


def _delta_events(values: dict, dt_ms: float, k_end: int) -> tuple[np.ndarray, np.ndarray]:
    """ON (neuron 0) / OFF (neuron 1) events when the held signal moves by threshold."""
    table = np.asarray(values["signal"], dtype=np.float64)
    thr = values["threshold"]
    t = np.arange(0.0, k_end * dt_ms + values["sample_ms"] / 2, values["sample_ms"])
    row = np.searchsorted(table[:, 0], t, side="right") - 1
    signal = np.where(row >= 0, table[np.maximum(row, 0), 1], table[0, 1])
    ks, ns = [], []
    ref = signal[0]
    for ti, value in zip(t[1:], signal[1:], strict=True):
        steps = math.floor(abs(value - ref) / thr)
        if steps >= 1:
            ks.append(ti)
            ns.append(0 if value > ref else 1)
            ref += math.copysign(steps * thr, value - ref)
    return time_index(np.asarray(ks), dt_ms), np.asarray(ns, dtype=np.int32)


def make_spike_source(model: ModelSpec, size: int, values: dict, dt_ms: float, seed: int,
                      k_end: int) -> SpikeSource:
    """Build the spike source of an encoder node.

    Parameters
    ----------
    model
        Registry entry of the encoder.
    size
        Number of neurons of the node.
    values
        Resolved parameters (defaults filled in).
    dt_ms, seed, k_end
        Time step, seed of this node's randomness, last time index of the run.
    """
    name = model.name
    if name == "poisson":
        return PoissonSource(size, seed, dt_ms, values)
    if name == "regular":
        return RegularSource(size, dt_ms, values)
    if name == "spike_times":
        lists = values["times_ms"]
        neuron = np.repeat(np.arange(len(lists), dtype=np.int32), [len(t) for t in lists])
        times = np.concatenate([np.asarray(t, np.float64) for t in lists]) if lists else []
        return FixedSpikeSource(size, time_index(times, dt_ms), neuron)
    if name == "latency":
        return FixedSpikeSource(size, *_latency_events(values, dt_ms, k_end))
    if name == "delta":
        return FixedSpikeSource(size, *_delta_events(values, dt_ms, k_end))
    raise KeyError(f"no spike source for encoder model {name!r}")


@dataclass(frozen=True)
class CurrentSchedule:
    """Piecewise-constant amplitude: ``amplitude[j]`` holds from ``change_k[j]`` on."""

    change_k: np.ndarray
    amplitude: np.ndarray

    def value_at(self, k: int) -> float:
        j = int(np.searchsorted(self.change_k, k, side="right")) - 1
        return float(self.amplitude[j]) if j >= 0 else 0.0


def make_current_schedule(model: ModelSpec, values: dict, dt_ms: float) -> CurrentSchedule:
    """The amplitude schedule (mV) of a current encoder."""
    name = model.name
    if name == "constant_current":
        rows = [(0.0, values["amplitude"])]
    elif name == "step_current":
        rows = [(0.0, 0.0), (values["start_ms"], values["amplitude"]),
                (values["stop_ms"], 0.0)]
    elif name == "current_table":
        rows = [(0.0, 0.0)] + [(t, a) for t, a in values["table"]]
    else:
        raise KeyError(f"no current schedule for encoder model {name!r}")
    k = time_index([r[0] for r in rows], dt_ms)
    amp = np.array([r[1] for r in rows], dtype=np.float64)
    # Later rows win where two rows fall on the same time index.
    keep = np.append(k[1:] != k[:-1], True)
    return CurrentSchedule(k[keep], amp[keep])
