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

    def block_events_bound(self) -> float:
        """Mean events of one block at the highest rate (sizes the simulator's chunks)."""
        raise NotImplementedError

    def events(self, k_lo: int, k_hi: int,
               should_stop=None) -> tuple[np.ndarray, np.ndarray]:
        """Spikes in ``[k_lo, k_hi)``; ``should_stop()`` is asked between blocks and, when
        True, the events found so far are returned (the caller discards them)."""
        if k_hi <= k_lo:
            return np.empty(0, np.int64), np.empty(0, np.int32)
        ks, ns = [np.empty(0, np.int64)], [np.empty(0, np.int32)]
        for b in range(k_lo // BLOCK_STEPS, (k_hi - 1) // BLOCK_STEPS + 1):
            if should_stop is not None and should_stop():
                break
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
        k = time_index(t[keep], self.dt_ms)
        order = np.argsort(k, kind="stable")
        return k[order], neuron[keep][order]


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


def dataset_windows(values: dict, dt_ms: float, n_steps: int) -> DatasetWindows:
    """The windows of the samples of a ``dataset`` / ``dataset_current`` node shown by a
    run of ``n_steps`` (a sample counts when its window starts before the run ends)."""
    present = max(1, int(time_index(values["present_ms"], dt_ms)))
    period = max(present, int(time_index(values["present_ms"] + values["pause_ms"], dt_ms)))
    n = min(len(values["samples"]), n_steps // period + (1 if n_steps % period else 0))
    labels = np.asarray(values["labels"], np.int64)
    return DatasetWindows(
        start=np.arange(n, dtype=np.int64) * period, present=present, period=period,
        labels=labels[:n] if labels.size else np.full(n, -1, np.int64))


class DatasetSource(BlockSpikeSource):
    """Dataset presentation as rate codes (Bernoulli per step, or regular accumulators)."""

    def __init__(self, size: int, seed: int, dt_ms: float, values: dict, n_steps: int):
        super().__init__(size, seed)
        self.windows = dataset_windows(values, dt_ms, n_steps)
        x = np.asarray(values["samples"], np.float64)[: len(self.windows.start)]
        self.p = np.clip(x * values["max_rate_hz"] * dt_ms * 1e-3, 0.0, 1.0)
        self.regular = values["coding"] == "regular"

    def block_events_bound(self) -> float:
        return self.size * BLOCK_STEPS * (float(self.p.max()) if self.p.size else 0.0)

    def _block(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        w = self.windows
        k = np.arange(b * BLOCK_STEPS, (b + 1) * BLOCK_STEPS, dtype=np.int64)
        sample = k // w.period
        phase = k - sample * w.period  # spikes at phases 1 .. present - 1
        on = (phase >= 1) & (phase < w.present) & (sample < len(w.start))
        if not on.any():
            return np.empty(0, np.int64), np.empty(0, np.int32)
        k, sample, phase = k[on], sample[on], phase[on]
        p = self.p[sample]  # (steps, size)
        if self.regular:  # an accumulator of p per step fires when it passes an integer
            fire = np.floor(phase[:, None] * p + 1e-9) > np.floor((phase[:, None] - 1) * p
                                                                  + 1e-9)
        else:
            seed = int(np.random.SeedSequence([self.seed, b]).generate_state(1)[0])
            fire = np.random.default_rng(seed).random(p.shape) < p
        step, neuron = np.nonzero(fire)  # row-major: sorted by time index
        return k[step], neuron.astype(np.int32)


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
    if name == "dataset":
        return DatasetSource(size, seed, dt_ms, values, k_end)
    raise KeyError(f"no spike source for encoder model {name!r}")


@dataclass(frozen=True)
class EventBounds:
    """Most events a spike encoder produces: in one time index, one block, the whole run.

    Poisson counts are random: their bounds are the mean plus six standard deviations (and
    never more than one event per neuron and step), the rest are exact upper bounds.
    """

    per_step: int
    per_block: int
    total: int


def _tail(mean: float) -> int:
    return int(math.ceil(mean + 6.0 * math.sqrt(mean) + 64))


def event_bounds(model: ModelSpec, size: int, values: dict, dt_ms: float,
                 n_steps: int) -> EventBounds:
    """Upper bounds on the events of a spike encoder, computed without generating them.

    Parameters
    ----------
    model
        Registry entry of the encoder.
    size, values, dt_ms
        Neurons, resolved parameters and time step, as for :func:`make_spike_source`.
    n_steps
        Last time index of the run.
    """
    name = model.name
    steps = n_steps + 1
    if name == "poisson":
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
    if name == "regular":
        if not values["rate_hz"] > 0:
            return EventBounds(0, 0, 0)
        period = 1000.0 / values["rate_hz"]
        span = max(0.0, min(values["stop_ms"], (steps + 0.5) * dt_ms) - values["start_ms"])

        def within(ms: float) -> int:  # events of one neuron in a window of ms
            return size * int(math.floor(min(ms, span) / period) + 1)

        return EventBounds(within(dt_ms), within(BLOCK_STEPS * dt_ms), within(span))
    if name == "spike_times":
        total = sum(len(t) for t in values["times_ms"])
        return EventBounds(total, total, total)
    if name == "latency":
        active = int(np.count_nonzero(np.asarray(values["values"], np.float64)
                                      >= values["x_min"]))
        period = values["period_ms"]
        if period > 0:
            repeats = int(math.ceil(n_steps * dt_ms / period)) + 1
            per_step = active * min(repeats, int(math.floor(dt_ms / period)) + 1)
        else:
            repeats, per_step = 1, active
        return EventBounds(per_step, active * repeats, active * repeats)
    if name == "delta":
        # One event where a table row takes effect, one more if rounding left a residue.
        total = 2 * len(values["signal"])
        return EventBounds(total, total, total)
    if name == "dataset":
        w = dataset_windows(values, dt_ms, n_steps)
        x = np.asarray(values["samples"], np.float64)[: len(w.start)]
        p = np.clip(x * values["max_rate_hz"] * dt_ms * 1e-3, 0.0, 1.0)
        mean = float(p.sum()) * max(0, w.present - 1)
        total = int(min(size * len(w.start) * max(0, w.present - 1), _tail(mean)))
        per_block = int(min(size * BLOCK_STEPS, total))
        return EventBounds(int(min(size, total)), per_block, total)
    raise KeyError(f"no spike source for encoder model {name!r}")


@dataclass(frozen=True)
class CurrentSchedule:
    """Piecewise-constant amplitude: ``amplitude[j]`` holds from ``change_k[j]`` on.

    ``amplitude`` is (changes,) when every channel carries the same value, or (changes,
    channels) for per-channel inputs (``dataset_current``): then ``value_at`` returns a
    vector.
    """

    change_k: np.ndarray
    amplitude: np.ndarray

    @property
    def per_channel(self) -> bool:
        return self.amplitude.ndim == 2

    def value_at(self, k: int) -> float | np.ndarray:
        j = int(np.searchsorted(self.change_k, k, side="right")) - 1
        if self.per_channel:
            return self.amplitude[j] if j >= 0 else np.zeros(self.amplitude.shape[1])
        return float(self.amplitude[j]) if j >= 0 else 0.0


def make_current_schedule(model: ModelSpec, values: dict, dt_ms: float,
                          n_steps: int = 0) -> CurrentSchedule:
    """The amplitude schedule (mV) of a current encoder (``n_steps``: length of the run,
    which bounds the samples a dataset encoder shows)."""
    name = model.name
    if name == "dataset_current":
        w = dataset_windows(values, dt_ms, n_steps)
        x = np.asarray(values["samples"], np.float64)[: len(w.start)]
        zero = np.zeros((len(w.start), x.shape[1]))
        # each sample from its start, zero from its end (dropped where the next one starts)
        k = np.stack([w.start, w.end], axis=1).ravel()
        amp = np.stack([x, zero], axis=1).reshape(-1, x.shape[1])
        keep = np.append(k[1:] != k[:-1], True)
        return CurrentSchedule(k[keep], amp[keep])
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
