"""Generic checks of the classic labs: firing, rates, the LIF f-I curve, refractoriness,
irregular asynchronous activity, STDP weight distributions, a detected pattern, energy
shares and the accuracy of a converted network.

Each check computes what it measures from the student's run (or from runs of the student's
own project, for the f-I curve) and fails when the behaviour is not there.
"""

from __future__ import annotations

import math

import numpy as np

from engine import spike_stats as analysis
from engine.labs.observation import FigureData, Observation, observation

__all__ = ["accuracy", "asynchronous_irregular", "energy_share", "fi_curve", "no_spikes",
           "pattern_detected", "rate_in_range", "rate_settles", "refractory_bound",
           "weights_bimodal", "weights_unimodal"]


# ---------------------------------------------------------------------- helpers
def _node(project, node_id: str):
    for n in project.network.nodes:
        if n.id == node_id:
            return n
    raise KeyError(f"the project has no node called {node_id!r}")


def _spikes_of(result, population: str) -> np.ndarray:
    """Spike times (ms) of one population of the run."""
    if population not in result.sizes:
        raise KeyError(f"the run has no population called {population!r}")
    spikes = result.spikes
    return spikes.loc[spikes["population"] == population, "time_ms"].to_numpy(float)


def _rate_hz(result, population: str, start_ms: float = 0.0,
             end_ms: float | None = None) -> float:
    """Mean rate per neuron of ``population`` in ``[start_ms, end_ms)``."""
    end_ms = result.duration_ms if end_ms is None else end_ms
    times = _spikes_of(result, population)
    n = int(np.count_nonzero((times >= start_ms) & (times < end_ms)))
    span_s = max(end_ms - start_ms, 1e-9) / 1000.0
    return n / (result.sizes[population] * span_s)


def _lif_params(project, population: str) -> dict[str, float]:
    node = _node(project, population)
    if node.model != "lif":
        raise ValueError(f"population {population!r} is a {node.model!r}, not a LIF neuron")
    from engine.hetero.values import is_per_neuron
    from engine.neurons import NEURON_MODELS

    # The analytic curves are those of one neuron: a per-neuron value has no one answer
    # (left out, it would silently read as the default).
    varying = [k for k, v in node.params.items() if is_per_neuron(v)
               and k not in ("v_init", "v_init_spread")]
    if varying:
        raise ValueError(f"population {population!r}: parameter {varying[0]!r} has a value "
                         f"per neuron; this check needs one value for the whole population")
    defaults = {p.name: p.default for p in NEURON_MODELS["lif"].params}
    return {**defaults, **{k: v for k, v in node.params.items() if isinstance(v, int | float)}}


def lif_rate_hz(amplitude_mv: float, tau_m: float, v_thresh: float, v_rest: float,
                t_ref: float) -> float:
    """Analytic rate of a LIF neuron under a constant input written as R*I (mV).

    ``1 / (t_ref + tau_m ln(I / (I - (v_thresh - v_rest))))`` above the rheobase
    ``v_thresh - v_rest``, zero at or below it (reset at rest).
    """
    theta = v_thresh - v_rest
    if amplitude_mv <= theta:
        return 0.0
    return 1000.0 / (t_ref + tau_m * math.log(amplitude_mv / (amplitude_mv - theta)))


def fi_figure(amplitudes_mv: list[float], rates_hz: list[float], lif: dict[str, float],
              samples: int = 200) -> FigureData:
    """The measured f-I points with the analytic LIF curve, sampled finely over their range."""
    grid = np.linspace(min([0.0, *amplitudes_mv]), max([1.0, *amplitudes_mv]), samples)
    analytic = [lif_rate_hz(float(a), lif["tau_m"], lif["v_thresh"], lif["v_rest"], lif["t_ref"])
                for a in grid]
    return FigureData("fi_curve", {
        "amplitude_mv": tuple(float(a) for a in amplitudes_mv),
        "rate_hz": tuple(float(r) for r in rates_hz),
        "analytic_amplitude_mv": tuple(float(a) for a in grid),
        "analytic_rate_hz": tuple(analytic)})


def _weights_at_end(result, projection: str) -> tuple[np.ndarray, float, float]:
    """The weight histogram of the last snapshot as (fractions per bin, w_min, w_max)."""
    if projection not in result.weights:
        raise KeyError(f"the run recorded no weights of projection {projection!r}")
    rec = result.weights[projection]
    hist = np.asarray(rec.hist[-1], float)
    return hist / max(hist.sum(), 1.0), rec.hist_edges, (rec.w_min, rec.w_max)


def _edge_fractions(result, projection: str, edge: float) -> tuple[float, float]:
    """Fractions of the synapses within ``edge`` (fraction of the range) of each bound."""
    frac, edges, (w_min, w_max) = _weights_at_end(result, projection)
    centres = (edges[:-1] + edges[1:]) / 2.0
    span = max(w_max - w_min, 1e-12)
    low = float(frac[centres < w_min + edge * span].sum())
    high = float(frac[centres > w_max - edge * span].sum())
    return low, high


# ---------------------------------------------------------------------- firing
@observation("no_spikes")
def no_spikes(project, result, *, population: str) -> Observation:
    """The population does not fire at all during the run.

    Parameters
    ----------
    population
        Id of the population that must stay silent.
    """
    n = len(_spikes_of(result, population))
    measured = {"spikes": float(n)}
    if n == 0:
        return Observation(True, f"{population} fired no spike in {result.duration_ms:g} ms.",
                           measured)
    return Observation(False, f"{population} fired {n} spikes; it should stay silent.",
                       measured, hint="Compare the steady state the input can reach with "
                                      "the threshold.")


@observation("rate_in_range")
def rate_in_range(project, result, *, population: str, low_hz: float,
                  high_hz: float) -> Observation:
    """The population's mean rate per neuron over the run lies in ``[low_hz, high_hz]``.

    Parameters
    ----------
    population
        Id of the population.
    low_hz, high_hz
        The range of the mean rate per neuron (Hz).
    """
    rate = _rate_hz(result, population)
    measured = {"rate_hz": rate}
    text = f"{population} fired at {rate:.2f} Hz per neuron"
    if low_hz <= rate <= high_hz:
        return Observation(True, f"{text}, within {low_hz:g}-{high_hz:g} Hz.", measured)
    side = "below" if rate < low_hz else "above"
    return Observation(False, f"{text}, {side} the expected {low_hz:g}-{high_hz:g} Hz.",
                       measured, hint="Which parameter sets how strongly this population "
                                      "is driven?")


@observation("fires_near_rheobase")
def fires_near_rheobase(project, result, *, population: str, input: str,
                        margin_mv: float) -> Observation:
    """A LIF population driven by a constant current fires, with the input at most
    ``margin_mv`` above the rheobase ``v_thresh - v_rest`` of the neuron's own parameters.

    Parameters
    ----------
    population
        Id of the LIF population.
    input
        Id of the ``constant_current`` encoder driving it.
    margin_mv
        How far above the rheobase the input may be (mV).
    """
    p = _lif_params(project, population)
    rheobase = p["v_thresh"] - p["v_rest"]
    amplitude = float(_node(project, input).params.get("amplitude", 0.0))
    n = len(_spikes_of(result, population))
    measured = {"spikes": float(n), "input_mv": amplitude, "rheobase_mv": rheobase}
    if n == 0:
        return Observation(False, f"{population} did not fire with {amplitude:g} mV of input.",
                           measured, hint="Where must the steady state v_rest + I lie for "
                                          "the neuron to fire?")
    if amplitude - rheobase > margin_mv:
        return Observation(False, f"{population} fires, but {amplitude:g} mV is "
                                  f"{amplitude - rheobase:.2f} mV above the smallest input "
                                  f"that makes it fire.", measured,
                           hint="Lower the input step by step until the neuron stops firing.")
    return Observation(True, f"{population} fires with {amplitude:g} mV, "
                             f"{amplitude - rheobase:.2f} mV above the rheobase "
                             f"({rheobase:g} mV).", measured)


@observation("fi_curve")
def fi_curve(project, result, *, population: str, input: str, amplitudes_mv: list,
             tolerance: float) -> Observation:
    """The f-I curve of a LIF neuron follows the analytic curve.

    Runs the student's project once per input amplitude (their duration and time step) and
    compares each measured rate (spikes / duration) with the analytic LIF rate of the
    neuron's own parameters: zero at or below the rheobase, ``1 / (t_ref + tau_m
    ln(I / (I - theta)))`` above. Short runs count too few spikes to measure a rate within
    the tolerance. Needs no run on show (``"run": false``).

    Parameters
    ----------
    population
        Id of the LIF population (its first neuron is measured).
    input
        Id of the ``constant_current`` encoder driving it.
    amplitudes_mv
        The inputs (mV) of the curve.
    tolerance
        Largest relative error of a rate above the rheobase (e.g. 0.03).
    """
    from engine.labs.lab_file import Edit, apply_solution
    from engine.labs.runs import run_project

    p = _lif_params(project, population)
    worst, problems, measured, rates = 0.0, [], {}, []
    for amp in amplitudes_mv:
        run = run_project(apply_solution(project, [Edit("node", input, "amplitude",
                                                        float(amp))]))
        times = _spikes_of(run, population)
        rate = len(times) / (run.sizes[population] * run.duration_ms / 1000.0)
        expected = lif_rate_hz(float(amp), p["tau_m"], p["v_thresh"], p["v_rest"], p["t_ref"])
        measured[f"rate_hz_at_{amp:g}mV"] = rate
        rates.append(rate)
        if expected == 0.0:
            if rate > 0:
                problems.append(f"{rate:.1f} Hz at {amp:g} mV, where it cannot fire")
            continue
        error = abs(rate - expected) / expected
        worst = max(worst, error)
        if error > tolerance:
            problems.append(f"{rate:.1f} Hz at {amp:g} mV against {expected:.1f} Hz "
                            f"analytic ({100 * error:.0f} % off)")
    measured["worst_relative_error"] = worst
    figure = fi_figure([float(a) for a in amplitudes_mv], rates, p)
    if problems:
        return Observation(False, "The measured f-I curve leaves the analytic one: "
                                  + "; ".join(problems) + ".", measured,
                           hint="A rate is spikes counted over the run: how many spikes "
                                "does a run this long hold at low rates?", figure=figure)
    return Observation(True, f"The measured f-I curve matches the analytic LIF curve within "
                             f"{100 * worst:.1f} % at {len(amplitudes_mv)} inputs.", measured,
                       figure=figure)


@observation("refractory_bound")
def refractory_bound(project, result, *, population: str, min_fraction: float) -> Observation:
    """The rate is close to, and never above, the ceiling ``1 / t_ref`` of a LIF neuron.

    Parameters
    ----------
    population
        Id of the LIF population.
    min_fraction
        The rate must reach this fraction of ``1 / t_ref`` (e.g. 0.85).
    """
    t_ref = _lif_params(project, population)["t_ref"]
    if t_ref <= 0:
        return Observation(False, f"{population} has no refractory period (t_ref = 0).",
                           {"t_ref_ms": t_ref}, hint="Which parameter bounds the rate?")
    ceiling = 1000.0 / t_ref
    rate = _rate_hz(result, population)
    measured = {"rate_hz": rate, "ceiling_hz": ceiling, "fraction": rate / ceiling}
    if rate > ceiling * 1.001:
        return Observation(False, f"{rate:.1f} Hz exceeds 1/t_ref = {ceiling:.1f} Hz.",
                           measured, hint="Is the refractory period respected?")
    if rate < min_fraction * ceiling:
        return Observation(False, f"{population} fires at {rate:.1f} Hz, "
                                  f"{100 * rate / ceiling:.0f} % of 1/t_ref = "
                                  f"{ceiling:.1f} Hz: far from the ceiling.", measured,
                           hint="How strong must the input be for the refractory period "
                                "to dominate the interval?")
    return Observation(True, f"{population} fires at {rate:.1f} Hz, "
                             f"{100 * rate / ceiling:.0f} % of the ceiling 1/t_ref = "
                             f"{ceiling:.1f} Hz.", measured)


# ---------------------------------------------------------------------- networks
@observation("asynchronous_irregular")
def asynchronous_irregular(project, result, *, population: str, min_cv: float,
                           max_synchrony: float, max_rate_hz: float) -> Observation:
    """Irregular (mean CV of ISIs at least ``min_cv``), asynchronous (Golomb-Rinzel
    synchrony at most ``max_synchrony``, 5 ms bins) firing at a low rate.

    Parameters
    ----------
    population
        Id of the population.
    min_cv
        Smallest mean coefficient of variation of inter-spike intervals.
    max_synchrony
        Largest synchrony chi.
    max_rate_hz
        Largest mean rate per neuron (Hz).
    """
    summary = analysis.population_summary(result.spikes, result.sizes, result.duration_ms)
    row = summary.set_index("population").loc[population]
    cv = float(row["cv_isi"])
    names = list(result.sizes)
    chi = float(analysis.population_synchrony(result.spikes, result.sizes,
                                              result.duration_ms)[names.index(population)])
    rate = float(row["mean_rate_hz"])
    measured = {"cv_isi": cv, "synchrony": chi, "rate_hz": rate}
    missing = []
    if not cv >= min_cv:
        missing.append(f"CV of ISIs {cv:.2f} < {min_cv:g} (too regular)")
    if not chi <= max_synchrony:
        missing.append(f"synchrony {chi:.2f} > {max_synchrony:g}")
    if not rate <= max_rate_hz:
        missing.append(f"rate {rate:.1f} Hz > {max_rate_hz:g} Hz")
    text = f"{population}: {rate:.1f} Hz, CV of ISIs {cv:.2f}, synchrony {chi:.2f}"
    if missing:
        return Observation(False, f"{text}; not irregular and asynchronous: "
                                  + "; ".join(missing) + ".", measured,
                           hint="Look at the balance between excitation and inhibition.")
    return Observation(True, f"{text}: irregular and asynchronous.", measured)


@observation("synchrony_above")
def synchrony_above(project, result, *, population: str, min_synchrony: float) -> Observation:
    """The population fires synchronously: Golomb-Rinzel chi (5 ms bins) at least
    ``min_synchrony``.

    Parameters
    ----------
    population
        Id of the population.
    min_synchrony
        Smallest synchrony chi.
    """
    names = list(result.sizes)
    chi = float(analysis.population_synchrony(result.spikes, result.sizes,
                                              result.duration_ms)[names.index(population)])
    rate = _rate_hz(result, population)
    measured = {"synchrony": chi, "rate_hz": rate}
    if chi >= min_synchrony:
        return Observation(True, f"{population} fires synchronously: chi = {chi:.2f} at "
                                 f"{rate:.1f} Hz.", measured)
    return Observation(False, f"{population}: synchrony chi = {chi:.2f} < {min_synchrony:g}.",
                       measured, hint="What keeps the population asynchronous?")


@observation("rate_settles")
def rate_settles(project, result, *, population: str, early_ms: float, late_ms: float,
                 min_drop: float) -> Observation:
    """The rate in the last ``late_ms`` is at most ``1 / min_drop`` of the rate in the first
    ``early_ms`` (activity regulates itself down).

    Parameters
    ----------
    population
        Id of the population.
    early_ms, late_ms
        Lengths of the first and last windows (ms).
    min_drop
        Smallest ratio early rate / late rate.
    """
    early = _rate_hz(result, population, 0.0, early_ms)
    late = _rate_hz(result, population, result.duration_ms - late_ms, result.duration_ms)
    ratio = early / late if late > 0 else math.inf
    measured = {"early_rate_hz": early, "late_rate_hz": late, "ratio": ratio}
    text = (f"{population}: {early:.1f} Hz in the first {early_ms:g} ms, {late:.1f} Hz in "
            f"the last {late_ms:g} ms")
    if late > 0 and ratio >= min_drop:
        return Observation(True, f"{text}: the rate fell {ratio:.1f}-fold.", measured)
    return Observation(False, f"{text}: it did not settle ({ratio:.1f}-fold, "
                              f"{min_drop:g}-fold expected, and it must still fire).",
                       measured, hint="Is the run long enough for learning to act, and "
                                      "does the neuron still fire at the end?")


@observation("weights_bimodal")
def weights_bimodal(project, result, *, projection: str, min_low: float,
                    min_high: float) -> Observation:
    """At the end of the run the weights pile up at both bounds: at least ``min_low`` of
    the synapses within 10 % of w_min and ``min_high`` within 10 % of w_max.

    Parameters
    ----------
    projection
        Id of the plastic projection (its weights recorded).
    min_low, min_high
        Smallest fractions of synapses near each bound.
    """
    low, high = _edge_fractions(result, projection, 0.1)
    measured = {"fraction_low": low, "fraction_high": high}
    text = (f"{100 * low:.0f} % of the weights are near w_min and {100 * high:.0f} % "
            f"near w_max")
    if low >= min_low and high >= min_high:
        return Observation(True, f"{text}: the distribution is bimodal.", measured)
    return Observation(False, f"{text}: not bimodal (at least {100 * min_low:.0f} % and "
                              f"{100 * min_high:.0f} % expected).", measured,
                       hint="Which form of weight bounds lets the competition run to the "
                            "edges, and is the run long enough?")


@observation("weights_unimodal")
def weights_unimodal(project, result, *, projection: str, max_edges: float) -> Observation:
    """At the end of the run at most ``max_edges`` of the synapses sit within 10 % of
    either bound (the distribution has left the edges: one peak inside).

    Parameters
    ----------
    projection
        Id of the plastic projection (its weights recorded).
    max_edges
        Largest fraction of synapses near the bounds.
    """
    low, high = _edge_fractions(result, projection, 0.1)
    measured = {"fraction_low": low, "fraction_high": high}
    text = f"{100 * (low + high):.0f} % of the weights sit near a bound"
    if low + high <= max_edges:
        return Observation(True, f"{text}: the distribution is unimodal.", measured)
    return Observation(False, f"{text} (at most {100 * max_edges:.0f} % expected).", measured,
                       hint="Look at the plasticity rule's bounds.")


@observation("pattern_detected")
def pattern_detected(project, result, *, population: str, clock: str, pattern_ms: float,
                     last_ms: float, min_hit_rate: float,
                     max_false_alarms_hz: float) -> Observation:
    """In the last ``last_ms`` of the run the neuron fires during at least ``min_hit_rate``
    of the pattern presentations (the onsets are the spikes of ``clock``) and at most
    ``max_false_alarms_hz`` outside them.

    Parameters
    ----------
    population
        Id of the detector population (one neuron).
    clock
        Id of the node spiking at each pattern onset.
    pattern_ms
        Length of a presentation (ms).
    last_ms
        Length of the final window scored (ms).
    min_hit_rate
        Smallest fraction of presentations with an output spike.
    max_false_alarms_hz
        Largest rate of output spikes outside presentations (Hz).
    """
    start = result.duration_ms - last_ms
    onsets = _spikes_of(result, clock)
    onsets = np.unique(onsets[(onsets >= start) & (onsets + pattern_ms <= result.duration_ms)])
    out = _spikes_of(result, population)
    out = out[out >= start]
    if len(onsets) == 0:
        raise ValueError(f"no pattern onset of {clock!r} in the last {last_ms:g} ms")
    # Spike i falls in presentation j when onset_j <= t < onset_j + pattern_ms.
    j = np.searchsorted(onsets, out, side="right") - 1
    inside = (j >= 0) & (out < onsets[np.maximum(j, 0)] + pattern_ms)
    hits = len(np.unique(j[inside])) / len(onsets)
    outside_s = (last_ms - len(onsets) * pattern_ms) / 1000.0
    false_alarms = float(np.count_nonzero(~inside)) / max(outside_s, 1e-9)
    measured = {"hit_rate": hits, "false_alarms_hz": false_alarms,
                "presentations": float(len(onsets))}
    text = (f"In the last {last_ms / 1000:g} s the detector fired in {100 * hits:.0f} % of "
            f"{len(onsets)} presentations, with {false_alarms:.2f} false alarms per second")
    if hits >= min_hit_rate and false_alarms <= max_false_alarms_hz:
        return Observation(True, f"{text}: it found the pattern.", measured)
    return Observation(False, f"{text} (at least {100 * min_hit_rate:.0f} % and at most "
                              f"{max_false_alarms_hz:g} /s expected).", measured,
                       hint="STDP needs many presentations: is the run long enough, and does "
                            "the rule favour inputs that arrive early?")


# ---------------------------------------------------------------------- energy, accuracy
@observation("energy_share")
def energy_share(project, result, *, node: str, profile: str, part: str,
                 low: float, high: float) -> Observation:
    """The share of a node's dynamic energy that one part takes lies in ``[low, high]``.

    Parameters
    ----------
    node
        Id of the node whose energy is split.
    profile
        Hardware profile id (e.g. ``loihi``; the project's own profiles count).
    part
        An energy column of :func:`engine.energy.model.energy_breakdown` without ``_j``:
        ``neuron_idle``, ``synaptic``, ``neuron_active``, ``memory``, ``routing``,
        ``learning`` or ``event_driven``.
    low, high
        The range of the share (0..1).
    """
    from engine.energy import model as energy
    from engine.evaluation.presentation_sweep import project_profiles

    profiles = project_profiles(project)
    if profile not in profiles:
        raise KeyError(f"no hardware profile called {profile!r}")
    frame = energy.energy_of_result(result, profiles[profile])
    rows = frame[frame["node"] == node]
    if rows.empty:
        raise KeyError(f"the run has no energy of node {node!r}")
    column = f"{part}_j"
    if column not in rows:
        raise KeyError(f"no energy part called {part!r}")
    dynamic = float(rows["dynamic_j"].sum())
    share = float(rows[column].sum()) / dynamic if dynamic > 0 else 0.0
    measured = {"share": share, "part_j": float(rows[column].sum()), "dynamic_j": dynamic}
    text = (f"{part.replace('_', ' ')} is {100 * share:.0f} % of the dynamic energy of "
            f"{node} on {profile}")
    if low <= share <= high:
        return Observation(True, f"{text} (expected {100 * low:.0f}-{100 * high:.0f} %).",
                           measured)
    return Observation(False, f"{text}, outside the expected {100 * low:.0f}-"
                              f"{100 * high:.0f} %.", measured,
                       hint="What does a clocked chip pay for at every step, whether or not "
                            "a spike arrives? How busy is the input?")


@observation("accuracy")
def accuracy(project, result, *, output: str, low: float, high: float = 1.0) -> Observation:
    """The classification accuracy of a dataset run (readout: most spikes of ``output``)
    lies in ``[low, high]``.

    Parameters
    ----------
    output
        Id of the output population (neuron i = class i).
    low, high
        The range of the accuracy (0..1).
    """
    from engine.evaluation.classify import readout

    out = readout(result, project, output)
    n = len(out.predictions)
    if n == 0:
        raise ValueError("the run ended before the first sample was shown")
    acc = float(np.mean(out.predictions == out.labels))
    measured = {"accuracy": acc, "samples": float(n)}
    text = f"{100 * acc:.1f} % of {n} samples classified correctly"
    if low <= acc <= high:
        return Observation(True, f"{text} (expected {100 * low:.0f}-{100 * high:.0f} %).",
                           measured)
    return Observation(False, f"{text}, outside the expected {100 * low:.0f}-"
                              f"{100 * high:.0f} %.", measured,
                       hint="How many spikes does each rate estimate rest on during one "
                            "presentation?")


@observation("compression_keeps_accuracy")
def compression_keeps_accuracy(project, result, *, weight_bits: int, prune: float,
                               prune_idle: bool, min_accuracy: float,
                               max_drop: float) -> Observation:
    """Compressing the student's network (``weight_bits``-bit weights, ``prune`` of the
    smallest synapses removed, idle neurons removed when ``prune_idle``) keeps its accuracy
    on the project's own samples: at least ``min_accuracy`` and at most ``max_drop`` below
    the uncompressed network, with a smaller model. Runs both networks itself (``"run":
    false``).

    Parameters
    ----------
    weight_bits
        Bits per weight (2..8).
    prune
        Fraction of each projection's synapses removed, smallest first (0..1).
    prune_idle
        Remove hidden neurons that never fire on the calibration set.
    min_accuracy
        Smallest accuracy of the compressed network (0..1).
    max_drop
        Largest accuracy lost to compression (0..1).
    """
    from engine.compression import CompressionSettings
    from engine.compression.sweep import evaluate_settings
    from engine.evaluation.classify import project_samples
    from engine.labs.runs import simulator

    settings = CompressionSettings(weight_bits=weight_bits, prune=prune, prune_idle=prune_idle)
    full, small = evaluate_settings(project, [settings], project_samples(project),
                                    simulate=simulator())
    drop = full.accuracy - small.accuracy
    measured = {"accuracy": full.accuracy, "compressed_accuracy": small.accuracy,
                "size_bytes": float(full.size_bytes),
                "compressed_size_bytes": float(small.size_bytes)}
    text = (f"{settings.label()}: accuracy {100 * full.accuracy:.1f} % -> "
            f"{100 * small.accuracy:.1f} %, model {full.size_bytes:,} -> "
            f"{small.size_bytes:,} bytes")
    if small.accuracy >= min_accuracy and drop <= max_drop and small.size_bytes < full.size_bytes:
        return Observation(True, f"{text}: compression keeps the accuracy.", measured)
    return Observation(False, f"{text} (at least {100 * min_accuracy:.0f} % and at most "
                              f"{100 * max_drop:.0f} points lost expected).", measured,
                       hint="Is the uncompressed network itself accurate? Look at how long "
                            "each sample is shown.")
