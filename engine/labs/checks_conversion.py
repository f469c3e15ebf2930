"""Checks of the ANN-to-SNN lab: the converted network's energy against the dense ANN.

``snn_vs_ann_energy`` prices the run on show per inference, one inference per digit shown,
next to the same network run as a dense ANN (``engine.energy.model.snn_vs_ann``).
"""

from __future__ import annotations

import numpy as np

from engine.core.results import SimulationResult
from engine.energy import model as E
from engine.labs.observation import Observation, observation
from engine.project import Project

__all__ = ["energy_against_ann"]


@observation("snn_vs_ann_energy")
def energy_against_ann(project: Project, result: SimulationResult | None, *, output: str,
                       snn_profile: str, ann_profile: str, max_ratio: float,
                       min_accuracy: float) -> Observation:
    """Per digit, the SNN's literature-style energy is at most ``max_ratio`` times the dense
    ANN's, with at least ``min_accuracy`` of the digits classified correctly.

    An inference is one digit shown (the run's samples, not the windows its duration would
    hold: a run longer than its digits idles after them, and that cost is counted). Measures
    both comparisons of :func:`engine.energy.model.snn_vs_ann`: literature style
    (synaptic events x E_AC against MACs x E_MAC) and memory-inclusive (``snn_profile``'s
    whole dynamic energy against MACs with their memory traffic).

    Parameters
    ----------
    output
        Id of the output population (neuron i = class i).
    snn_profile, ann_profile
        Hardware profile ids: the neuromorphic chip and the dense processor.
    max_ratio
        Largest literature-style SNN / ANN energy ratio that holds.
    min_accuracy
        Smallest accuracy (0..1) that holds.
    """
    from engine.evaluation.classify import readout

    if result is None:
        return Observation(False, "There is no run to check yet: run the project first.")
    profiles = E.load_profiles()
    for field, pid in (("snn_profile", snn_profile), ("ann_profile", ann_profile)):
        if pid not in profiles:
            raise ValueError(f"{field}: no hardware profile {pid!r}")
    out = readout(result, project, output)
    n = len(out.predictions)
    if n == 0:
        raise ValueError("the run ended before the first sample was shown")
    windows = out.windows
    accuracy = float(np.mean(out.predictions == out.labels))
    c = E.snn_vs_ann(result.counts, result.network_info, result.node_info, result.duration_ms,
                     result.dt_ms, result.bin_ms, ann_profile=profiles[ann_profile],
                     snn_profile=profiles[snn_profile],
                     window_ms=windows.period * result.dt_ms, n_inferences=float(n))
    measured = {"accuracy": accuracy, "inferences": float(n),
                "present_ms": windows.present * result.dt_ms,
                "snn_literature_j": c.snn_literature_j, "ann_literature_j": c.ann_literature_j,
                "ratio_literature": c.ratio_literature, "snn_memory_j": c.snn_memory_j,
                "ann_memory_j": c.ann_memory_j, "ratio_memory": c.ratio_memory}
    text = (f"{100 * accuracy:.1f} % of {n} digits shown for {measured['present_ms']:g} ms; "
            f"per digit, literature style: SNN {c.snn_literature_j:.3g} J against ANN "
            f"{c.ann_literature_j:.3g} J (ratio {c.ratio_literature:.2f}); memory-inclusive "
            f"({snn_profile} against {ann_profile}): ratio {c.ratio_memory:.1f}")
    missing = []
    if not c.ratio_literature <= max_ratio:
        missing.append(f"the literature-style ratio should be {max_ratio:g} or less")
    if accuracy < min_accuracy:
        missing.append(f"at least {100 * min_accuracy:.0f} % of the digits should be "
                       f"classified correctly")
    if not missing:
        return Observation(True, text + ".", measured)
    return Observation(False, text + "; " + " and ".join(missing) + ".", measured,
                       "Every spike costs a synaptic event: how many spikes does one digit "
                       "take at your presentation time, and how short can it get before the "
                       "rate estimates fail?")
