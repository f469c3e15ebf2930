"""Dataset presentation as rate-coded spikes (Bernoulli per step, or regular accumulators).

The size rule, windows and reset steps are those of :mod:`engine.encoders.samples`.
"""

from __future__ import annotations

import numpy as np

from engine.encoders import samples
from engine.encoders.base import BLOCK_STEPS, BlockSpikeSource, EventBounds
from engine.encoders.poisson import _tail
from engine.encoders.samples import SIZE_RULE, fixed_size, reset_steps, windows  # noqa: F401
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    "dataset", "Dataset (spikes)",
    "Presents samples one after the other: channel j of a sample with value x fires at "
    "x * max_rate_hz (x in [0, 1]), as Bernoulli/Poisson trains or as regular trains (a "
    "deterministic accumulator). Spikes fall strictly inside each presentation window.",
    samples.PARAMS + (
        ParamSpec("coding", "", "poisson", "poisson: random trains; regular: evenly spaced "
                  "spikes.", kind="choice", choices=("poisson", "regular")),
        ParamSpec("max_rate_hz", "Hz", 1000.0, "Rate of a channel with value 1 (at most one "
                  "spike per step).", minimum=0.0, exclusive_minimum=True, maximum=10_000.0),
    ),
)
BLOCKWISE = True
#: Sample values are firing probabilities: the readout's datasets must lie in [0, 1].
UNIT_RANGE = True


def check(values: dict, size: int | None) -> list[tuple[str, str]]:
    return samples.check_samples(values, unit_range=UNIT_RANGE)


def _probabilities(values: dict, w: samples.DatasetWindows, dt_ms: float) -> np.ndarray:
    """Spike probability per step of each channel of each shown sample."""
    x = samples.shown_samples(values, w)
    return np.clip(x * values["max_rate_hz"] * dt_ms * 1e-3, 0.0, 1.0)


class DatasetSource(BlockSpikeSource):
    """The samples' rate codes, window by window (spikes at phases 1 .. present - 1)."""

    def __init__(self, size: int, seed: int, dt_ms: float, values: dict, n_steps: int):
        super().__init__(size, seed)
        self.windows = samples.dataset_windows(values, dt_ms, n_steps)
        self.p = _probabilities(values, self.windows, dt_ms)
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


def source(size: int, values: dict, dt_ms: float, seed: int, k_end: int) -> DatasetSource:
    return DatasetSource(size, seed, dt_ms, values, k_end)


def bounds(size: int, values: dict, dt_ms: float, n_steps: int) -> EventBounds:
    """Random counts (Poisson coding): the mean plus six standard deviations, and never more
    than one event per channel and step of a window."""
    w = samples.dataset_windows(values, dt_ms, n_steps)
    p = _probabilities(values, w, dt_ms)
    mean = float(p.sum()) * max(0, w.present - 1)
    total = int(min(size * len(w.start) * max(0, w.present - 1), _tail(mean)))
    per_block = int(min(size * BLOCK_STEPS, total))
    return EventBounds(int(min(size, total)), per_block, total)
