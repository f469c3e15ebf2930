"""Checks of the Izhikevich firing-pattern lab (Izhikevich 2003, IEEE TNN 14:1569, fig. 2).

Each check recognises one pattern from the neuron's spikes during the stimulus window (and,
for rebound and resonance, its recorded membrane potential): burst structure, spike-frequency
adaptation, the steady rate, a rebound after hyperpolarisation, subthreshold ringing. None of
them reads the neuron's parameters, so any parameters that produce the pattern pass.
"""

from __future__ import annotations

import numpy as np

from engine.core.results import SimulationResult
from engine.labs.firing_patterns import SpikeTrainShape, rest_crossings, spike_train_shape
from engine.labs.observation import Observation, observation
from engine.labs.recorded import (
    MissingData,
    population_trace,
    require_result,
    spike_times_in,
)
from engine.project import Project

# Thresholds that separate the patterns (the figures of the lab's reference runs are in its
# steps' notes; each threshold sits between the pattern and its nearest neighbour).
MIN_TONIC_SPIKES = 4
RS_MIN_ADAPTATION = 1.5     # RS intervals lengthen about twofold; FS about 1.9 but fast
RS_MAX_RATE_HZ = 50.0       # RS settles near 22 Hz at the lab's input; FS above 100 Hz
FS_MIN_RATE_HZ = 100.0
LTS_MAX_FIRST_ISI_MS = 5.0  # LTS starts at over 200 Hz ...
LTS_MIN_ADAPTATION = 3.0    # ... and slows more than threefold; FS less than twofold
IB_MIN_TONIC_AFTER = 3      # single spikes after the onset burst
CH_MIN_BURSTS = 3
REBOUND_WINDOW_MS = 50.0
REBOUND_MIN_SPIKES = 2      # a rebound *burst*; a low-threshold neuron fires one spike
HYPERPOLARISED_MV = 5.0
RING_TOLERANCE_MV = 0.1
RING_MIN_CROSSINGS = 2


def _shape(result: SimulationResult | None, population: str, start_ms: float,
           stop_ms: float) -> SpikeTrainShape:
    run = require_result(result)
    return spike_train_shape(spike_times_in(run, population, 0, start_ms, stop_ms))


def _describe(shape: SpikeTrainShape) -> str:
    text = f"{shape.n_spikes} spikes"
    if shape.n_spikes >= 2:
        text += (f", {shape.n_bursts} burst(s), first interval {shape.first_isi_ms:.1f} ms, "
                 f"last {shape.last_isi_ms:.1f} ms (adaptation x{shape.adaptation:.2f}), "
                 f"steady rate {shape.steady_rate_hz:.0f} Hz")
    return text


def _missing(exc: MissingData) -> Observation:
    return Observation(False, str(exc), {}, "Run the lab's project as it is given, with its "
                       "monitors.")


def _verdict(shape: SpikeTrainShape, population: str, pattern: str, missing: list[str],
             hint: str) -> Observation:
    measured = shape.as_dict()
    if not missing:
        return Observation(True, f"{population}: {pattern} ({_describe(shape)}).", measured)
    return Observation(False, f"{population}: not {pattern} yet: {_describe(shape)}; "
                       + "; ".join(missing) + ".", measured, hint)


@observation("izhikevich_regular_spiking")
def regular_spiking(project: Project, result: SimulationResult | None, *, population: str,
                    start_ms: float, stop_ms: float) -> Observation:
    """Tonic spikes without bursts whose intervals lengthen (adaptation) at a moderate rate."""
    try:
        shape = _shape(result, population, start_ms, stop_ms)
    except MissingData as exc:
        return _missing(exc)
    missing = []
    if shape.n_spikes < MIN_TONIC_SPIKES:
        missing.append(f"it should fire at least {MIN_TONIC_SPIKES} spikes during the input")
    else:
        if shape.n_bursts:
            missing.append("its spikes should come one at a time, not in bursts")
        if not shape.adaptation >= RS_MIN_ADAPTATION:
            missing.append(f"its intervals should lengthen at least x{RS_MIN_ADAPTATION:g}")
        if not shape.steady_rate_hz < RS_MAX_RATE_HZ:
            missing.append(f"it should settle below {RS_MAX_RATE_HZ:g} Hz")
    return _verdict(shape, population, "regular spiking", missing,
                    "Look at the input this neuron receives, then at d: the after-spike jump "
                    "of the recovery variable u is what slows the neuron down.")


@observation("izhikevich_intrinsically_bursting")
def intrinsically_bursting(project: Project, result: SimulationResult | None, *,
                           population: str, start_ms: float, stop_ms: float) -> Observation:
    """One burst at the onset of the input, then single spikes."""
    try:
        shape = _shape(result, population, start_ms, stop_ms)
    except MissingData as exc:
        return _missing(exc)
    missing = []
    if shape.onset_burst < 2:
        missing.append("it should start with a burst of spikes")
    if shape.n_bursts > 1:
        missing.append("after the first burst it should fire single spikes, not more bursts")
    if shape.n_spikes - shape.onset_burst < IB_MIN_TONIC_AFTER:
        missing.append(f"it should go on with at least {IB_MIN_TONIC_AFTER} single spikes")
    return _verdict(shape, population, "intrinsically bursting", missing,
                    "A higher reset c lets the neuron fire again at once; a smaller d lets it "
                    "keep going. Compare c and d with the regular-spiking neuron.")


@observation("izhikevich_chattering")
def chattering(project: Project, result: SimulationResult | None, *, population: str,
               start_ms: float, stop_ms: float) -> Observation:
    """Repeated bursts of closely spaced spikes for as long as the input lasts."""
    try:
        shape = _shape(result, population, start_ms, stop_ms)
    except MissingData as exc:
        return _missing(exc)
    missing = []
    if shape.n_bursts < CH_MIN_BURSTS:
        missing.append(f"it should fire at least {CH_MIN_BURSTS} bursts")
    return _verdict(shape, population, "chattering", missing,
                    "Bursts repeat when the reset c is close to threshold and d small: the "
                    "burst stops only once u has built up over several spikes.")


@observation("izhikevich_fast_spiking")
def fast_spiking(project: Project, result: SimulationResult | None, *, population: str,
                 start_ms: float, stop_ms: float) -> Observation:
    """A fast tonic train (over 100 Hz) without bursts and with little adaptation."""
    try:
        shape = _shape(result, population, start_ms, stop_ms)
    except MissingData as exc:
        return _missing(exc)
    missing = []
    if shape.n_spikes < MIN_TONIC_SPIKES:
        missing.append(f"it should fire at least {MIN_TONIC_SPIKES} spikes during the input")
    else:
        if shape.n_bursts:
            missing.append("its spikes should come one at a time, not in bursts")
        if not shape.steady_rate_hz >= FS_MIN_RATE_HZ:
            missing.append(f"it should keep firing at {FS_MIN_RATE_HZ:g} Hz or more")
        if not shape.adaptation < LTS_MIN_ADAPTATION:
            missing.append("it should keep its rate instead of slowing down")
    return _verdict(shape, population, "fast spiking", missing,
                    "A fast recovery variable (parameter a) recovers between spikes, so it "
                    "does not pile up.")


@observation("izhikevich_low_threshold_spiking")
def low_threshold_spiking(project: Project, result: SimulationResult | None, *,
                          population: str, start_ms: float, stop_ms: float) -> Observation:
    """A high-frequency start (over 200 Hz) that slows down more than threefold, no bursts."""
    try:
        shape = _shape(result, population, start_ms, stop_ms)
    except MissingData as exc:
        return _missing(exc)
    missing = []
    if shape.n_spikes < MIN_TONIC_SPIKES:
        missing.append(f"it should fire at least {MIN_TONIC_SPIKES} spikes during the input")
    else:
        if shape.n_bursts:
            missing.append("its spikes should come one at a time, not in bursts")
        if not shape.first_isi_ms <= LTS_MAX_FIRST_ISI_MS:
            missing.append(f"its first interval should be {LTS_MAX_FIRST_ISI_MS:g} ms or less")
        if not shape.adaptation >= LTS_MIN_ADAPTATION:
            missing.append(f"its intervals should lengthen at least x{LTS_MIN_ADAPTATION:g}")
    return _verdict(shape, population, "low-threshold spiking", missing,
                    "b couples u to v: a larger b lowers the threshold and makes u follow v "
                    "more strongly.")


def _rest_and_trace(result: SimulationResult, population: str,
                    start_ms: float) -> tuple[float, np.ndarray, np.ndarray]:
    time_ms, v = population_trace(result, population, "v")
    before = (time_ms >= start_ms - 20.0) & (time_ms < start_ms)
    if not before.any():
        raise MissingData(f"The recording of {population!r} must cover the 20 ms before "
                          f"{start_ms:g} ms to measure the resting potential.")
    return float(v[before].mean()), time_ms, v


@observation("izhikevich_rebound_burst")
def rebound_burst(project: Project, result: SimulationResult | None, *, population: str,
                  start_ms: float, stop_ms: float) -> Observation:
    """Silent and hyperpolarised during a negative step, a burst when it is released."""
    try:
        run = require_result(result)
        rest, time_ms, v = _rest_and_trace(run, population, start_ms)
        during = spike_times_in(run, population, 0, start_ms, stop_ms)
        after = spike_times_in(run, population, 0, stop_ms, stop_ms + REBOUND_WINDOW_MS)
    except MissingData as exc:
        return _missing(exc)
    late = (time_ms >= (start_ms + stop_ms) / 2) & (time_ms < stop_ms)
    drop = rest - float(v[late].mean()) if late.any() else float("nan")
    measured = {"rest_mv": rest, "hyperpolarisation_mv": drop,
                "spikes_during": float(len(during)), "rebound_spikes": float(len(after))}
    missing = []
    if len(during):
        missing.append(f"it fired {len(during)} spikes during the negative input")
    if not drop >= HYPERPOLARISED_MV:
        missing.append(f"v should sit at least {HYPERPOLARISED_MV:g} mV below rest during it")
    if len(after) < REBOUND_MIN_SPIKES:
        missing.append(f"it should fire a burst of at least {REBOUND_MIN_SPIKES} spikes within "
                       f"{REBOUND_WINDOW_MS:g} ms of the release")
    text = (f"{population}: v fell {drop:.1f} mV below rest ({rest:.1f} mV), "
            f"{len(during)} spikes during the negative input, {len(after)} within "
            f"{REBOUND_WINDOW_MS:g} ms of its release")
    if not missing:
        return Observation(True, text + ": a rebound burst.", measured)
    return Observation(False, text + "; " + "; ".join(missing) + ".", measured,
                       "While v is held low, u (which follows b v) falls with it; when the "
                       "input is released, the low u is what pushes v up. Look at b and d.")


@observation("izhikevich_resonator")
def resonator(project: Project, result: SimulationResult | None, *, population: str,
              start_ms: float, stop_ms: float, window_ms: float = 100.0) -> Observation:
    """Damped subthreshold oscillations (ringing) after a brief pulse, without a spike."""
    try:
        run = require_result(result)
        rest, time_ms, v = _rest_and_trace(run, population, start_ms)
        spikes = spike_times_in(run, population, 0, start_ms, stop_ms + window_ms)
    except MissingData as exc:
        return _missing(exc)
    after = (time_ms >= stop_ms) & (time_ms < stop_ms + window_ms)
    crossings = rest_crossings(v[after], rest, RING_TOLERANCE_MV)
    swing = float(np.abs(v[after] - rest).max()) if after.any() else float("nan")
    measured = {"rest_mv": rest, "rest_crossings": float(crossings), "largest_swing_mv": swing,
                "spikes": float(len(spikes))}
    missing = []
    if len(spikes):
        missing.append(f"it fired {len(spikes)} spikes: the pulse should stay subthreshold")
    if crossings < RING_MIN_CROSSINGS:
        missing.append(f"v should swing across its resting level at least "
                       f"{RING_MIN_CROSSINGS} times after the pulse")
    text = (f"{population}: after the pulse v crossed its resting level ({rest:.2f} mV) "
            f"{crossings} times by more than {RING_TOLERANCE_MV:g} mV, {len(spikes)} spikes")
    if not missing:
        return Observation(True, text + ": it rings like a resonator.", measured)
    return Observation(False, text + "; " + "; ".join(missing) + ".", measured,
                       "Ringing needs a rest point that is a spiral: a fast u (a) that is "
                       "strongly coupled to v (b).")
