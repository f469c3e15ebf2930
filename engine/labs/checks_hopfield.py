"""Checks of the Hopfield associative-memory lab: recall from a corrupted cue, capacity curve.

Both read the stored patterns from the project's ``hopfield`` section
(:mod:`engine.labs.hopfield`); recall is measured on the run on show, the capacity curve by
re-running the student's network with random patterns (:mod:`engine.labs.hopfield_runs`).
"""

from __future__ import annotations

import math

from engine.core.results import SimulationResult
from engine.labs.hopfield import CAPACITY_FRACTION
from engine.labs.hopfield_runs import capacity_curve, fitted_gain, recall_of
from engine.labs.observation import FigureData, Observation, observation
from engine.project import Project

#: Above this relative misfit the recurrent matrices do not store the section's patterns.
MAX_WEIGHT_MISFIT = 1e-3
NO_SECTION = Observation(False, "The project has no hopfield section: no patterns are stored.",
                         {}, "Open the lab's project: its patterns are stored in it.")


def _weights_problem(project: Project) -> Observation | None:
    gain, misfit = fitted_gain(project)
    if math.isnan(misfit) or misfit > MAX_WEIGHT_MISFIT or gain <= 0.0:
        return Observation(False, "The recurrent weights do not hold the Hebbian matrix of "
                           "the stored patterns (relative misfit "
                           f"{misfit:.3g}, weight scale {gain:.3g} mV).",
                           {"weight_misfit": misfit, "gain_mv": gain},
                           "Store the patterns again after changing them, so the recurrent "
                           "matrices are recomputed from them.")
    return None


@observation("hopfield_recall")
def recall(project: Project, result: SimulationResult | None, *, start_ms: float,
           stop_ms: float, min_overlap: float = 0.9) -> Observation:
    """The cued pattern is held after the cue ends: overlap >= ``min_overlap`` in the window."""
    if not project.hopfield:
        return NO_SECTION
    if result is None:
        return Observation(False, "There is no run to check yet: run the project first.")
    if (problem := _weights_problem(project)) is not None:
        return problem
    if result.duration_ms < stop_ms:
        return Observation(False, f"The run ended at {result.duration_ms:g} ms, before the "
                           f"end of the recall window ({stop_ms:g} ms).", {},
                           "Run the project for its whole duration.")
    r = recall_of(project, result, start_ms, stop_ms)
    measured = {"overlap": r.overlap, "cue_overlap": r.cue_overlap,
                "best_other_overlap": r.best_other, "active_neurons": float(r.active)}
    text = (f"Between {start_ms:g} and {stop_ms:g} ms (long after the cue) {r.active} neurons "
            f"fire; their overlap with the cued pattern is {r.overlap:.2f} (the cue's was "
            f"{r.cue_overlap:.2f})")
    if r.overlap >= min_overlap:
        return Observation(True, text + ": the memory completed the pattern.", measured)
    return Observation(False, text + f"; recall needs an overlap of at least {min_overlap:g}.",
                       measured,
                       "A Hopfield unit switches on when its recurrent input is positive. "
                       "Compare the neurons' bias with their rheobase: how much recurrent "
                       "input does a neuron need to fire?")


@observation("hopfield_capacity")
def capacity(project: Project, result: SimulationResult | None, *, n_patterns: list[int],
             trials: int, start_ms: float, stop_ms: float, good_overlap: float = 0.9,
             low_load: float = 0.05, high_load: float = 0.2,
             failed_overlap: float = 0.5) -> Observation:
    """The capacity curve of the student's network: good recall at low load, none at high.

    Runs the experiment itself (``result`` is not used): for each P in ``n_patterns``,
    ``trials`` recalls of random patterns. Holds when every P <= ``low_load`` N recalls with
    quality >= ``good_overlap`` and every P >= ``high_load`` N falls to ``failed_overlap`` or
    less; measures the capacity (the largest P still recalled well) as a fraction of N, next
    to the classical 0.138 N.
    """
    if not project.hopfield:
        return NO_SECTION
    if (problem := _weights_problem(project)) is not None:
        return problem
    curve = capacity_curve(project, list(n_patterns), int(trials), start_ms, stop_ms)
    n = curve.n_neurons
    fraction = curve.capacity(good_overlap) / n
    points_pq = list(zip(curve.n_patterns, curve.quality, strict=True))
    measured = {f"quality_p{p}": q for p, q in points_pq}
    measured |= {"capacity_fraction": fraction, "classical_fraction": CAPACITY_FRACTION}
    points = ", ".join(f"P={p}: {q:.2f}" for p, q in points_pq)
    text = (f"Recall quality (mean overlap, {trials} trials each) of N = {n} neurons: {points}. "
            f"Recall stays at {good_overlap:g} or better up to P = {curve.capacity(good_overlap)} "
            f"= {fraction:.3f} N (classical limit {CAPACITY_FRACTION} N = "
            f"{CAPACITY_FRACTION * n:.1f} patterns)")
    low = [q for p, q in points_pq if p <= low_load * n]
    high = [q for p, q in points_pq if p >= high_load * n]
    missing = []
    if not low or min(low) < good_overlap:
        missing.append(f"few patterns (P <= {low_load * n:g}) should be recalled with quality "
                       f"{good_overlap:g} or better")
    if not high or max(high) > failed_overlap:
        missing.append(f"many patterns (P >= {high_load * n:g}) should no longer be recalled "
                       f"(quality {failed_overlap:g} or less)")
    figure = FigureData("hopfield_capacity", {
        "n_patterns": tuple(float(p) for p in curve.n_patterns),
        "quality": tuple(float(q) for q in curve.quality), "n_neurons": (float(n),)})
    if not missing:
        return Observation(True, text + ".", measured, figure=figure)
    return Observation(False, text + "; " + "; ".join(missing) + ".", measured,
                       "The curve uses your network as it stands: get single-pattern recall "
                       "working first (the previous step), and try P values on both sides of "
                       "0.138 N.", figure=figure)
