"""Checks of the attention-gating lab: an event camera, a saliency map that gates which
region's events reach the network, detection, and power on an event-driven chip.

Detection: in each window, the detector neuron of the region that holds the moving object
(from the camera's own parameters, :func:`engine.encoders.dvs.object_region`) must fire more
than every other detector neuron. Power: the run's energy on a hardware profile
(:mod:`engine.energy`) divided by its duration; its dynamic part comes from the synaptic
operations the run counted, so gating saves what it keeps from being delivered.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from engine.encoders import dvs
from engine.energy.model import energy_of_result, load_profiles
from engine.labs.observation import Observation, observation
from engine.labs.run_views import no_run, node_problem, node_spikes
from engine.simulator import simulate


def detection_accuracy(project, result, sensor: str, detector: str, regions: list[int],
                       window_ms: float) -> float:
    """Fraction of ``window_ms`` windows in which the detector neuron of the object's region
    fired strictly most (a window without a detector spike is a miss)."""
    columns, rows = regions
    values = project.network.node(sensor).resolved_params()
    n_windows = int(result.duration_ms // window_ms)
    if n_windows < 1:
        raise ValueError(f"the run ({result.duration_ms:g} ms) is shorter than one window "
                         f"({window_ms:g} ms)")
    times, neurons = node_spikes(result, detector)
    size = project.network.node(detector).size
    counts = np.zeros((n_windows, size))
    inside = times < n_windows * window_ms
    np.add.at(counts, ((times[inside] // window_ms).astype(np.int64), neurons[inside]), 1)
    truth = dvs.object_region(values, (np.arange(n_windows) + 0.5) * window_ms, columns, rows)
    best = counts.max(axis=1)
    winner_is_truth = counts[np.arange(n_windows), truth] == best
    unique = (counts == best[:, None]).sum(axis=1) == 1
    return float(np.mean(winner_is_truth & unique & (best > 0)))


@dataclass(frozen=True)
class PowerFigures:
    """Mean power of one run on one profile, and what it comes from."""

    total_mw: float
    dynamic_mw: float
    synaptic_ops_per_s: float


def power_of(result, profile) -> PowerFigures:
    """Mean total and dynamic power of a run (energy / simulated time) on ``profile``."""
    energy = energy_of_result(result, profile)
    seconds = result.duration_ms * 1e-3
    syn = float(result.counts["syn_events"].sum())
    return PowerFigures(float(energy["total_j"].sum()) / seconds * 1e3,
                        float(energy["dynamic_j"].sum()) / seconds * 1e3, syn / seconds)


def _problem(project, result, sensor: str, detector: str) -> Observation | None:
    if result is None:
        return no_run("detection")
    return node_problem(project, sensor, ("dvs",)) or node_problem(project, detector)


def _unmeasurable(exc: ValueError) -> Observation:
    return Observation(False, f"Detection could not be measured: {exc}.",
                       hint="Keep the run's duration as the lab set it.")


@observation("object_detected")
def object_detected(project, result, *, sensor: str, detector: str, regions: list[int],
                    min_accuracy: float, window_ms: float = 50.0) -> Observation:
    """The detector finds the region of the moving object in at least ``min_accuracy`` of the
    windows."""
    problem = _problem(project, result, sensor, detector)
    if problem is not None:
        return problem
    try:
        accuracy = detection_accuracy(project, result, sensor, detector, regions, window_ms)
    except ValueError as exc:
        return _unmeasurable(exc)
    events = len(node_spikes(result, sensor)[0])
    measured = {"detection": accuracy, "sensor_events": float(events)}
    what = (f"The camera emitted {events} events; the detector named the object's region in "
            f"{accuracy:.0%} of the {window_ms:g} ms windows")
    if accuracy >= min_accuracy:
        return Observation(True, f"{what} (at least {min_accuracy:.0%} needed).", measured)
    return Observation(False, f"{what}; at least {min_accuracy:.0%} is needed.", measured,
                       hint="Look at the camera's raster first: does the moving square produce "
                            "events at all? Compare the size of a brightness change at its "
                            "edges with what a pixel needs to see.")


@observation("attention_gating")
def attention_gating(project, result, *, sensor: str, detector: str, regions: list[int],
                     gate_edge: str, open_weight: float, min_saving: float,
                     max_detection_loss: float, profile: str = "speck_assumed",
                     window_ms: float = 50.0) -> Observation:
    """Gating cuts the dynamic power by at least ``min_saving`` (a fraction) and costs at most
    ``max_detection_loss`` of detection, against the same project with the gate open
    (projection ``gate_edge`` at ``open_weight``: every event passes), which the check
    runs itself."""
    problem = _problem(project, result, sensor, detector)
    if problem is not None:
        return problem
    profiles = load_profiles()
    if profile not in profiles:
        raise ValueError(f"profile must be one of {sorted(profiles)}, got {profile!r}")
    try:
        gate = project.network.projection(gate_edge)
    except KeyError:
        return Observation(False, f"The project has no projection {gate_edge!r}.",
                           hint="This step compares runs with that projection's gate open "
                                "and closed; open the lab's project again.")
    baseline = copy.deepcopy(project)
    baseline.network.projection(gate_edge).weight = open_weight
    ungated = simulate(baseline, duration_ms=result.duration_ms)
    on, off = power_of(result, profiles[profile]), power_of(ungated, profiles[profile])
    try:
        det_on = detection_accuracy(project, result, sensor, detector, regions, window_ms)
        det_off = detection_accuracy(baseline, ungated, sensor, detector, regions, window_ms)
    except ValueError as exc:
        return _unmeasurable(exc)
    saving = 1.0 - on.dynamic_mw / off.dynamic_mw if off.dynamic_mw > 0 else 0.0
    total_saving = 1.0 - on.total_mw / off.total_mw if off.total_mw > 0 else 0.0
    measured = {"power_gated_mw": on.total_mw, "power_open_mw": off.total_mw,
                "dynamic_gated_uw": on.dynamic_mw * 1e3,
                "dynamic_open_uw": off.dynamic_mw * 1e3,
                "synaptic_ops_gated_per_s": on.synaptic_ops_per_s,
                "synaptic_ops_open_per_s": off.synaptic_ops_per_s,
                "dynamic_saving": saving, "total_saving": total_saving,
                "detection_gated": det_on, "detection_open": det_off}
    what = (f"On {profiles[profile].name}: {on.total_mw:.4f} mW with the run's gate "
            f"({on.dynamic_mw * 1e3:.1f} uW dynamic, {on.synaptic_ops_per_s:,.0f} synaptic "
            f"ops/s) against {off.total_mw:.4f} mW with the gate open "
            f"({off.dynamic_mw * 1e3:.1f} uW, {off.synaptic_ops_per_s:,.0f} ops/s): dynamic "
            f"power {saving:.0%} lower, total {total_saving:.1%}. Detection {det_on:.0%} gated, "
            f"{det_off:.0%} open")
    missing = []
    if gate.weight == open_weight or saving < min_saving:
        missing.append(f"dynamic power must fall by at least {min_saving:.0%}")
    if det_off - det_on > max_detection_loss:
        missing.append(f"detection may fall by at most {max_detection_loss:.0%}")
    if not missing:
        return Observation(True, f"{what}.", measured)
    return Observation(False, f"{what}; " + " and ".join(missing) + ".", measured,
                       hint="A gated relay should pass an event only where attention is: "
                            "alone, an event must not be enough to make it fire; together "
                            "with its region's saliency input it must be.")
