"""Checks of the neural-coding lab: rate, latency and delta codes of the same signal.

Each code is decoded from the spikes its encoder emitted in the student's run
(:mod:`engine.analysis.decoders`) and compared with the signal the encoder was given (its own
parameters), window by window. Energy is the event-driven energy (synaptic events, active
updates, routing) of the population each code drives, priced with a hardware profile
(:mod:`engine.energy`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.analysis.decoders import (
    decode_delta,
    decode_latency,
    decode_rate,
    rms_error,
    window_edges,
    window_means,
)
from engine.encoders.samples import dataset_windows
from engine.energy.model import energy_of_result, load_profiles
from engine.labs.observation import Observation, observation
from engine.labs.run_views import no_run, node_problem, node_spikes

#: Encoder model of each code.
CODE_MODELS = {"rate": "dataset", "latency": "latency", "delta": "delta"}


@dataclass(frozen=True)
class CodeFigures:
    """One code's figures in one run."""

    spikes: int
    error: float  # RMS of decoded minus coded value, in units of the signal (0..1)


def code_figures(project, result, node_id: str, code: str, window_ms: float) -> CodeFigures:
    """Decode node ``node_id``'s spikes with the decoder of ``code`` and measure the error.

    Rate (a ``dataset`` node presenting one value per window on all its neurons): each
    shown sample's mean value against the decoded rate divided by ``max_rate_hz``. Latency:
    each neuron's value against its decoded value. Delta: the signal table's mean in each
    ``window_ms`` window against the rebuilt signal's.
    """
    node = project.network.node(node_id)
    values = node.resolved_params()
    times, neurons = node_spikes(result, node_id)
    if code == "latency":
        truth = np.asarray(values["values"], dtype=np.float64)
        estimate = decode_latency(times, neurons, node.size, values["t_max_ms"])
        return CodeFigures(len(times), rms_error(estimate, truth))
    if code == "rate":
        w = dataset_windows(values, result.dt_ms, int(round(result.duration_ms / result.dt_ms)))
        complete = (w.start + w.present) * result.dt_ms <= result.duration_ms + 1e-9
        if not complete.any():
            raise ValueError(f"the run ({result.duration_ms:g} ms) is shorter than one window "
                             f"({w.present * result.dt_ms:g} ms)")
        starts = w.start[complete] * result.dt_ms
        truth = np.asarray(values["samples"], np.float64)[:len(starts)].mean(axis=1)
        estimate = decode_rate(times, node.size, starts, w.present * result.dt_ms)
        return CodeFigures(len(times), rms_error(estimate / values["max_rate_hz"], truth))
    edges = window_edges(result.duration_ms, window_ms)
    if len(edges) < 2:
        raise ValueError(f"the run ({result.duration_ms:g} ms) is shorter than one window "
                         f"({window_ms:g} ms)")
    truth = window_means(values["signal"], edges)
    initial = float(values["signal"][0][1])
    estimate = decode_delta(times, neurons, values["threshold"], initial, edges)
    return CodeFigures(len(times), rms_error(estimate, truth))


def _problem(project, result, node_id: str, code: str) -> Observation | None:
    if code not in CODE_MODELS:
        raise ValueError(f"code must be one of {sorted(CODE_MODELS)}, got {code!r}")
    if result is None:
        return no_run(f"the {code} code's reconstruction error")
    return node_problem(project, node_id, (CODE_MODELS[code],))


def _unmeasurable(exc: ValueError) -> Observation:
    return Observation(False, f"The error could not be measured: {exc}.",
                       hint="Keep the signal and the run's duration as the lab set them.")


@observation("code_reconstructs")
def code_reconstructs(project, result, *, node: str, code: str, max_error: float,
                      window_ms: float = 50.0) -> Observation:
    """The ``code`` of node ``node`` reconstructs its signal within ``max_error`` (RMS)."""
    problem = _problem(project, result, node, code)
    if problem is not None:
        return problem
    try:
        fig = code_figures(project, result, node, code, window_ms)
    except ValueError as exc:
        return _unmeasurable(exc)
    measured = {"spikes": float(fig.spikes), "rms_error": fig.error}
    what = (f"The {code} code of {node!r} emitted {fig.spikes} spikes; decoded, it is off by "
            f"{fig.error:.3f} (RMS)")
    if fig.error <= max_error:
        return Observation(True, f"{what}, within {max_error:g}.", measured)
    hints = {"rate": "A rate is estimated by counting spikes in a window: what makes the count "
                     "less noisy relative to its mean, with the same neurons and window?",
             "latency": "The value is read from the spike's time, and times are rounded to "
                        "the time step: how much of the value range does one step cover?",
             "delta": "The decoder rebuilds the signal in steps of one threshold: how fine are "
                      "those steps?"}
    return Observation(False, f"{what}; it must be within {max_error:g}.", measured,
                       hint=hints[code])


@observation("codes_compared")
def codes_compared(project, result, *, nodes: dict, receivers: dict, max_error: float,
                   profile: str = "loihi", window_ms: float = 50.0) -> Observation:
    """Every code of ``nodes`` (code -> node id) reconstructs within ``max_error``; measures
    each code's spikes, error and the event-driven energy of its receiver population
    (``receivers``: code -> node id) on hardware ``profile``."""
    profiles = load_profiles()
    if profile not in profiles:
        raise ValueError(f"profile must be one of {sorted(profiles)}, got {profile!r}")
    for code, node_id in nodes.items():
        problem = _problem(project, result, node_id, code) or node_problem(project,
                                                                          receivers[code])
        if problem is not None:
            return problem
    energy = energy_of_result(result, profiles[profile])
    by_node = energy.groupby("node", observed=True)["event_driven_j"].sum()
    measured: dict[str, float] = {}
    parts, failing = [], []
    for code, node_id in nodes.items():
        try:
            fig = code_figures(project, result, node_id, code, window_ms)
        except ValueError as exc:
            return _unmeasurable(exc)
        joules = float(by_node.get(receivers[code], 0.0))
        measured.update({f"{code}_spikes": float(fig.spikes), f"{code}_rms_error": fig.error,
                         f"{code}_energy_nj": joules * 1e9})
        parts.append(f"{code}: {fig.spikes} spikes, error {fig.error:.3f}, "
                     f"{joules * 1e9:.1f} nJ")
        if fig.error > max_error:
            failing.append(code)
    summary = f"On {profiles[profile].name}: " + "; ".join(parts) + "."
    if not failing:
        return Observation(True, f"{summary} Every code is within {max_error:g}.", measured)
    return Observation(False, f"{summary} Off by more than {max_error:g}: "
                              f"{', '.join(failing)}.", measured,
                       hint="Compare codes at the same accuracy: bring each one within the "
                            "error budget first (the earlier steps show how).")
