"""What every encoder file shares: time indices, spike sources, event bounds, schedules.

An encoder is one module in ``engine/encoders/`` (registered in ``engine/encoders/__init__.py``)
with ``SPEC`` (its :class:`~engine.params.ModelSpec`) and either, for a spike encoder,
``source(size, values, dt_ms, seed, k_end) -> SpikeSource`` and
``bounds(size, values, dt_ms, n_steps) -> EventBounds`` (the memory estimate's), or, for a
current encoder, ``schedule(values, dt_ms) -> CurrentSchedule``. Optional: ``FIXED_SIZE``
(``values -> int``: the node's size follows from its parameters) and ``check(values, size)``
(rules across parameters, as (parameter or "size", message) pairs).
Encoders that present samples one at a time (:mod:`engine.encoders.samples`) add
``windows(values, dt_ms, n_steps)`` (the presentation windows the readout scores),
``reset_steps(values, dt_ms, n_steps)`` (steps before which the build resets the network) and
``UNIT_RANGE`` (sample values must lie in [0, 1]).

Spike sources produce events ``(k, neuron)`` where ``k`` is the time index (time ``k * dt``).
They are generated in fixed blocks of time indices, each block from its own seed, so the
spikes do not depend on how the simulator chunks the run (runs are bit-reproducible whatever
the chunk sizes, and a cancelled run is a prefix of the full run).

Current sources are piecewise-constant amplitudes; the simulator splits its chunks at their
change points and sets the external input of the target neurons in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.params import ParamSpec

BLOCK_STEPS = 1000  # time indices per random block: a trade-off of memory and call overhead

START = ParamSpec("start_ms", "ms", 0.0, "Time the input switches on.", minimum=0.0)
STOP = ParamSpec("stop_ms", "ms", 1e9, "Time the input switches off.", minimum=0.0)


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


@dataclass(frozen=True)
class EventBounds:
    """Most events a spike encoder produces: in one time index, one block, the whole run.

    Poisson counts are random: their bounds are the mean plus six standard deviations (and
    never more than one event per neuron and step), the rest are exact upper bounds.
    """

    per_step: int
    per_block: int
    total: int


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


def schedule_from_rows(rows: list[tuple[float, float]], dt_ms: float) -> CurrentSchedule:
    """A schedule from (time_ms, amplitude) rows; later rows win on the same time index."""
    k = time_index([r[0] for r in rows], dt_ms)
    amp = np.array([r[1] for r in rows], dtype=np.float64)
    keep = np.append(k[1:] != k[:-1], True)
    return CurrentSchedule(k[keep], amp[keep])


def stop_after_start(values: dict, size: int | None = None) -> list[tuple[str, str]]:
    """The rule stop_ms > start_ms of inputs that switch on and off."""
    if values["stop_ms"] <= values["start_ms"]:
        return [("stop_ms", f"must be after start_ms ({values['start_ms']:g} ms), got "
                            f"{values['stop_ms']:g} ms")]
    return []
