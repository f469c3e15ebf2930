"""SNN against dense ANN per inference: an inference is a digit shown, not a window that fits.

A digits run whose presentations were shortened but not its duration shows its 200 digits and
then idles; dividing its energy by the windows its duration holds (4,000 at 5 ms in 20 s) made
the SNN look 20 times cheaper per digit than it is.
"""

from __future__ import annotations

import pytest

from engine.energy import model as E
from engine.labs.checks_conversion import energy_against_ann
from engine.labs.lab_file import Edit, apply_solution
from engine.project import load_project
from engine.simulator import simulate
from sample_projects import directory


@pytest.fixture(scope="module")
def short_presentations_long_run():
    project = apply_solution(load_project(directory() / "digits_mlp.json"),
                             [Edit("node", "input", "present_ms", 5.0)])
    assert project.simulation.duration_ms == 20000.0  # 4,000 windows of 5 ms, 200 digits
    return project, simulate(project)


def _compare(result, **kwargs):
    profiles = E.load_profiles()
    return E.snn_vs_ann(result.counts, result.network_info, result.node_info,
                        result.duration_ms, result.dt_ms, result.bin_ms,
                        ann_profile=profiles["cmos45_fp32"], snn_profile=profiles["loihi"],
                        window_ms=5.0, **kwargs)


def test_snn_vs_ann_divides_by_the_inferences_made(short_presentations_long_run):
    _, result = short_presentations_long_run
    shown, windows = _compare(result, n_inferences=200.0), _compare(result)
    events = float(result.counts["syn_events"].sum())
    assert shown.n_inferences == 200.0 and windows.n_inferences == 4000.0
    assert shown.effective_acs == pytest.approx(events / 200.0)
    assert shown.snn_memory_j == pytest.approx(20 * windows.snn_memory_j)
    assert shown.ann_memory_j == windows.ann_memory_j  # the ANN's cost per inference is fixed
    with pytest.raises(ValueError, match="n_inferences"):
        _compare(result, n_inferences=0.0)


def test_the_lab_check_counts_one_inference_per_digit_shown(short_presentations_long_run):
    project, result = short_presentations_long_run
    obs = energy_against_ann(project, result, output="output", snn_profile="loihi",
                             ann_profile="cmos45_fp32", max_ratio=0.6, min_accuracy=0.9)
    assert obs.measured["inferences"] == 200.0
    assert obs.measured["ratio_memory"] == pytest.approx(
        _compare(result, n_inferences=200.0).ratio_memory)
    assert not obs.holds and "90 %" in obs.message and obs.hint  # 5 ms: too few correct
