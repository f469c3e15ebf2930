"""Hopfield experiments on a project: recall from the run on show, and the capacity curve.

The capacity curve re-runs the student's own network (neurons, bias, cue, weight scale) with
``P`` random balanced patterns for several ``P`` and measures the recall quality of each,
as Hopfield (1982) and Amit et al. (1985) did for binary units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.results import SimulationResult
from engine.labs.hopfield import (
    decode,
    encode,
    hebbian_weights,
    overlap,
    random_patterns,
    recalled_state,
    settings,
    store_patterns,
)
from engine.project import Project
from engine.simulator import simulate
from engine.spike_stats import neuron_spike_counts

__all__ = ["CapacityCurve", "Recall", "capacity_curve", "fitted_gain", "recall_of"]


@dataclass(frozen=True)
class Recall:
    """How well a run recalled a stored pattern.

    Attributes
    ----------
    overlap
        Overlap of the recalled state with the pattern (1 = perfect).
    cue_overlap
        Overlap of the cue with the pattern (``1 - 2 * flip_fraction``).
    best_other
        The largest overlap of the recalled state with another stored pattern (NaN with one).
    active
        Neurons counted as firing (+1) in the window.
    """

    overlap: float
    cue_overlap: float
    best_other: float
    active: int


def window_rates(result: SimulationResult, population: str, start_ms: float,
                 stop_ms: float) -> np.ndarray:
    """Each neuron's rate (Hz) in ``[start_ms, stop_ms)``."""
    spikes = result.spikes
    times = spikes["time_ms"].to_numpy()
    inside = spikes[(times >= start_ms) & (times < stop_ms)]
    counts = neuron_spike_counts(inside, result.sizes)[population]
    return counts * 1000.0 / (stop_ms - start_ms)


def fitted_gain(project: Project) -> tuple[float, float]:
    """The weight scale of the project's recurrent matrices and how well they fit.

    Returns ``(gain, residual)``: the least-squares ``g`` with ``M ~ g H`` (``M`` the sum of
    the excitatory and inhibitory matrices, ``H`` the Hebbian matrix of the stored patterns
    at gain 1) and the relative residual ``|M - g H| / |M|`` (0 when the weights store exactly
    the patterns; NaN when there are no matrix weights).
    """
    h = settings(project.hopfield)
    patterns = np.array([decode(p) for p in h["patterns"]])
    target = hebbian_weights(patterns)
    total = np.zeros_like(target)
    for edge_id in (h["excitatory"], h["inhibitory"]):
        conn = project.network.projection(edge_id).connectivity
        if conn.get("rule") != "matrix":
            return 0.0, float("nan")
        m = np.asarray(conn["weights"], dtype=np.float64)
        total += np.minimum(m, 0.0) if edge_id == h["inhibitory"] else np.maximum(m, 0.0)
    norm = float(np.sum(target * target))
    gain = float(np.sum(total * target)) / norm if norm else 0.0
    size = float(np.linalg.norm(total))
    residual = float(np.linalg.norm(total - gain * target)) / size if size else float("nan")
    return gain, residual


def recall_of(project: Project, result: SimulationResult, start_ms: float,
              stop_ms: float, pattern: int | None = None) -> Recall:
    """Measure the recall of stored ``pattern`` (default: the cued one) in a window."""
    h = settings(project.hopfield)
    patterns = np.array([decode(p) for p in h["patterns"]])
    index = h["cue"] if pattern is None else pattern
    state = recalled_state(window_rates(result, h["population"], start_ms, stop_ms))
    others = [overlap(state, p) for i, p in enumerate(patterns) if i != index]
    return Recall(overlap=overlap(state, patterns[index]),
                  cue_overlap=1.0 - 2.0 * round(h["flip_fraction"] * len(state)) / len(state),
                  best_other=max(others) if others else float("nan"),
                  active=int(np.count_nonzero(state > 0)))


@dataclass(frozen=True)
class CapacityCurve:
    """Recall quality against the number of stored patterns.

    Attributes
    ----------
    n_neurons
        N.
    n_patterns
        The numbers of stored patterns P tried.
    quality
        Mean overlap of the recalled state with the cued pattern, per P.
    """

    n_neurons: int
    n_patterns: tuple[int, ...]
    quality: tuple[float, ...]

    def capacity(self, good: float) -> int:
        """The largest P up to which every P tried recalls with quality ``good`` or more."""
        best = 0
        for p, q in zip(self.n_patterns, self.quality, strict=True):
            if q < good:
                break
            best = p
        return best


def capacity_curve(project: Project, n_patterns: list[int], trials: int, start_ms: float,
                   stop_ms: float) -> CapacityCurve:
    """Re-run ``project``'s memory with random patterns; the recall quality per P.

    Every run stores ``P`` random balanced patterns with the weight scale of the project's own
    matrices (:func:`fitted_gain`), cues pattern 0 corrupted as the project's cue is, and
    simulates until ``stop_ms``. Trial ``t`` of each P uses the seed ``t + 1`` for the cue and
    its own patterns, so the curve is reproducible.
    """
    h = settings(project.hopfield)
    gain, _ = fitted_gain(project)
    n = project.network.node(h["population"]).size
    base = project.to_dict()
    base["simulation"]["duration_ms"] = float(stop_ms)
    base["lab"] = ""  # the lab's steps play no part in these runs
    quality = []
    for p in n_patterns:
        scores = []
        for t in range(trials):
            rng = np.random.default_rng([int(p), t])
            patterns = random_patterns(int(p), n, rng)
            doc = dict(base, hopfield={**h, "patterns": [encode(x) for x in patterns],
                                       "gain_mv": gain, "cue": 0})
            run_project = Project.from_dict(store_patterns(doc, seed=t + 1))
            result = simulate(run_project)
            scores.append(recall_of(run_project, result, start_ms, stop_ms).overlap)
        quality.append(float(np.mean(scores)))
    return CapacityCurve(n, tuple(int(p) for p in n_patterns), tuple(quality))
