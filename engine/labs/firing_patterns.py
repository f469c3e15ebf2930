"""Features of one neuron's response to a stimulus: bursts, adaptation, rebound, ringing.

The Izhikevich firing-pattern lab (``sample_projects/izhikevich_patterns.json``) recognises
each pattern from these measurements of the spikes and the recorded membrane potential, never
from the neuron's parameters. Every function takes plain numpy arrays (times in ms, v in mV).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BURST_GAP_RATIO", "SpikeTrainShape", "bursts", "rest_crossings", "spike_train_shape"]

#: A train has burst structure when its longest interval is at least this many times its
#: shortest one; spikes closer than the geometric mean of the two belong to the same burst.
#: (Tonic trains, adapting or not, stay below it: the intervals of the lab's regular, fast and
#: low-threshold spiking neurons span a factor of at most 4.5.)
BURST_GAP_RATIO = 8.0


def bursts(times: np.ndarray) -> list[np.ndarray]:
    """Split sorted spike times into groups of spikes fired close together.

    Parameters
    ----------
    times
        Sorted spike times (ms).

    Returns
    -------
    list of numpy.ndarray
        The groups in time order. Without burst structure (fewer than 3 spikes, or the longest
        interval less than :data:`BURST_GAP_RATIO` times the shortest) every spike is its own
        group.
    """
    times = np.asarray(times, dtype=np.float64)
    if len(times) < 3:
        return [times[i:i + 1] for i in range(len(times))]
    intervals = np.diff(times)
    shortest, longest = intervals.min(), intervals.max()
    if longest < BURST_GAP_RATIO * shortest:
        return [times[i:i + 1] for i in range(len(times))]
    gap = np.sqrt(shortest * longest)
    breaks = np.flatnonzero(intervals > gap) + 1
    return np.split(times, breaks)


@dataclass(frozen=True)
class SpikeTrainShape:
    """What a spike train looks like during a stimulus.

    Attributes
    ----------
    n_spikes
        Spikes in the window.
    n_bursts
        Groups of at least two spikes (:func:`bursts`).
    onset_burst
        Spikes in the first group (1: the train starts with a single spike).
    first_isi_ms, last_isi_ms
        The first and last inter-spike intervals (NaN with fewer than two spikes).
    adaptation
        ``last_isi_ms / first_isi_ms``: 1 for a train that keeps its rate, larger when the
        rate falls during the stimulus (spike-frequency adaptation).
    steady_rate_hz
        The rate over the second half of the train (from the first spike after the midpoint
        between the first and last spikes to the last): the rate it settles to, bursts and
        pauses included.
    """

    n_spikes: int
    n_bursts: int
    onset_burst: int
    first_isi_ms: float
    last_isi_ms: float
    adaptation: float
    steady_rate_hz: float

    def as_dict(self) -> dict[str, float]:
        """The figures by name (for an :class:`engine.labs.observation.Observation`)."""
        return {k: float(v) for k, v in self.__dict__.items()}


def spike_train_shape(times: np.ndarray) -> SpikeTrainShape:
    """Measure bursts, adaptation and the steady rate of sorted spike times."""
    times = np.asarray(times, dtype=np.float64)
    groups = bursts(times)
    intervals = np.diff(times)
    if len(intervals):
        first, last = float(intervals[0]), float(intervals[-1])
        late = times[times >= (times[0] + times[-1]) / 2]
        span = late[-1] - late[0]
        steady = 1000.0 * (len(late) - 1) / float(span) if span > 0 else float("nan")
    else:
        first = last = steady = float("nan")
    return SpikeTrainShape(
        n_spikes=len(times),
        n_bursts=sum(1 for g in groups if len(g) >= 2),
        onset_burst=len(groups[0]) if groups else 0,
        first_isi_ms=first, last_isi_ms=last,
        adaptation=last / first if len(intervals) else float("nan"),
        steady_rate_hz=steady)


def rest_crossings(v: np.ndarray, rest: float, tolerance_mv: float) -> int:
    """How often ``v`` swings from one side of ``rest`` to the other.

    Only excursions of more than ``tolerance_mv`` count, so numerical noise around the resting
    level does not. A membrane that relaxes monotonically back to rest crosses 0 times (at most
    once for a stable node); a damped oscillation (a resonator's ringing) crosses repeatedly.
    """
    x = np.asarray(v, dtype=np.float64) - rest
    side = np.sign(np.where(np.abs(x) > tolerance_mv, x, 0.0))
    side = side[side != 0]
    return int(np.count_nonzero(np.diff(side)))
