"""Scenarios applied to a network, their measurements and the fit matrices (engine only)."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import pandas as pd
import pytest

from engine.energy import model as E
from engine.errors import ProjectError
from engine.evaluation.scenario_fit import (
    InputSpec,
    Scenario,
    ScenarioProgress,
    Thresholds,
    apply_scenario,
    default_scenarios,
    fit_matrices,
    load_scenarios,
    matrices_from_csv,
    matrices_to_csv,
    measure_latency,
    output_population,
    run_scenarios,
    save_scenarios,
    scenario_from_dict,
    scenario_to_dict,
    scenarios_from_document,
    thresholds_from_dict,
)
from engine.project import Project

LIF = {"tau_m": 10.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0, "t_ref": 2.0}


def tiny_project(seed: int = 3) -> Project:
    """16 Poisson inputs -> 12 LIF -> 4 LIF at dt 1 ms (fast, but with real dynamics)."""
    return Project.from_dict({
        "format": "spikestudio-project", "version": 1, "name": "tiny",
        "network": {
            "nodes": [
                {"id": "inp", "kind": "encoder", "model": "poisson", "size": 16,
                 "params": {"rate_hz": 5.0}},
                {"id": "hid", "kind": "population", "model": "lif", "size": 12, "params": LIF},
                {"id": "out", "kind": "population", "model": "lif", "size": 4, "params": LIF},
            ],
            "projections": [
                {"id": "a", "source": "inp", "target": "hid", "weight": 12.0,
                 "connectivity": {"rule": "fixed_probability", "p": 0.5}, "delay_ms": 1.0},
                {"id": "b", "source": "hid", "target": "out", "weight": 10.0,
                 "connectivity": {"rule": "all_to_all"}, "delay_ms": 1.0},
            ]},
        "simulation": {"duration_ms": 200.0, "dt_ms": 1.0, "seed": seed, "count_bin_ms": 5.0},
    })


SPARSE = Scenario("sparse", "Sparse", input=InputSpec("constant", rate_hz=3.0),
                  duration_ms=300.0, window_ms=100.0, deadline_ms=50.0, power_budget_w=1e-2)
DENSE = Scenario("dense", "Dense", input=InputSpec("frames", rate_hz=150.0, period_ms=50.0,
                                                    on_ms=40.0),
                 duration_ms=300.0, window_ms=50.0, deadline_ms=50.0, power_budget_w=1e-2)


@pytest.fixture(scope="module")
def report():
    profiles = E.load_profiles()
    return run_scenarios(tiny_project(), [SPARSE, DENSE], profiles, max_workers=2)


# ------------------------------------------------------------------ data and validation
def test_default_scenarios_cover_the_selection_matrix():
    ids = {s.id for s in default_scenarios()}
    assert {"sparse_events", "dense_frames", "control_loop", "batch", "battery_wearable",
            "mains_edge", "bursty_sensor", "always_on"} <= ids
    for s in default_scenarios():
        assert scenario_from_dict(scenario_to_dict(s)) == s


def test_apply_scenario_returns_a_modified_copy_and_leaves_the_input_alone():
    project = tiny_project()
    before = project.to_dict()
    modified = apply_scenario(project, DENSE)
    assert project.to_dict() == before
    node = modified.network.node("inp")
    assert node.model == "poisson" and node.params["rate_table"][0] == [0.0, 150.0]
    assert node.params["rate_table"][1] == [40.0, 0.0]
    assert modified.simulation.duration_ms == 300.0
    assert modified.network.node("inp").size == 16  # size and projections stay
    assert project.network.node("inp").params == {"rate_hz": 5.0}


def test_apply_scenario_keeps_encoders_when_input_is_none_and_checks_targets():
    project = tiny_project()
    kept = apply_scenario(project, Scenario("as_is", "As designed", input=None))
    assert kept.network.node("inp").params == {"rate_hz": 5.0}
    with pytest.raises(ProjectError) as err:
        apply_scenario(project, replace(SPARSE, targets=("hid",)))
    assert "scenario.targets[0]" in str(err.value)
    with pytest.raises(ProjectError) as err:
        apply_scenario(project, replace(SPARSE, output="nope"))
    assert "scenario.output" in str(err.value)


def test_output_population_is_the_last_sink():
    assert output_population(tiny_project()) == "out"


def test_validation_errors_name_the_field():
    bad = {"id": "1x", "name": "", "duration_ms": -5, "deadline_ms": "soon", "colour": 1,
           "input": {"pattern": "waves", "rate_hz": -1, "period_ms": 0}}
    with pytest.raises(ProjectError) as err:
        scenarios_from_document({"scenarios": [scenario_to_dict(SPARSE), bad]})
    paths = {p.path for p in err.value.problems}
    assert {"scenarios[1].id", "scenarios[1].name", "scenarios[1].duration_ms",
            "scenarios[1].deadline_ms", "scenarios[1].colour", "scenarios[1].input.pattern",
            "scenarios[1].input.rate_hz", "scenarios[1].input.period_ms"} <= paths
    with pytest.raises(ProjectError) as err:
        scenarios_from_document([scenario_to_dict(SPARSE), scenario_to_dict(SPARSE)])
    assert err.value.problems[0].path == "scenarios[1].id"
    with pytest.raises(ProjectError) as err:
        thresholds_from_dict({"ratio_recommended": 2.0, "ratio_cautious": 1.0})
    assert err.value.problems[0].path == "thresholds.ratio_recommended"


def test_scenarios_file_round_trip(tmp_path):
    path = tmp_path / "scenarios.json"
    save_scenarios(default_scenarios(), path)
    assert load_scenarios(path) == default_scenarios()


# ------------------------------------------------------------------ measurements
def test_sparse_has_higher_sparsity_and_lower_energy_than_dense(report):
    m = report.measurements().set_index("scenario")
    assert (m["status"] == "completed").all()
    assert m.loc["sparse", "activity_sparsity"] > m.loc["dense", "activity_sparsity"]
    assert m.loc["sparse", "input_events"] < m.loc["dense", "input_events"]
    energy = report.energy().set_index(["scenario", "profile"])
    for pid in ("loihi", "cmos45_fp32", "truenorth"):
        # Same duration in both scenarios, so run totals compare directly.
        assert energy.loc[("sparse", pid), "total_j"] < energy.loc[("dense", pid), "total_j"]
    # Sparsity is NeuroBench's, as engine.energy.model computes it.
    res = report.runs["dense"].result
    assert m.loc["dense", "activity_sparsity"] == E.activation_sparsity(res.counts)


def test_energy_and_ann_come_from_engine_energy(report):
    run = report.runs["dense"]
    loihi = report.profiles["loihi"]
    total = E.energy_totals(E.energy_of_result(run.result, loihi))["total_j"]
    row = run.energy.set_index("profile").loc["loihi"]
    assert row["total_j"] == pytest.approx(total)
    assert row["per_inference_j"] == pytest.approx(total / (300.0 / 50.0))
    assert row["mean_power_w"] == pytest.approx(total / 0.3)
    comp = report.comparison("dense", "loihi", "cmos45_fp32")
    assert comp.ratio_memory == pytest.approx(comp.snn_memory_j / comp.ann_memory_j)
    assert set(run.ann.energies["profile"]) == set(E.dense_profiles(report.profiles))


def test_latency_against_deadline_on_a_constructed_case():
    # One input neuron firing regularly from 10 ms; a single strong synapse makes the output
    # fire on the first step after the spike arrives.
    doc = tiny_project().to_dict()
    doc["network"]["nodes"] = [
        {"id": "inp", "kind": "encoder", "model": "regular", "size": 1,
         "params": {"rate_hz": 10.0}},
        {"id": "out", "kind": "population", "model": "lif", "size": 1,
         "params": {**LIF, "tau_syn_exc": 1.0}},
    ]
    doc["network"]["projections"] = [{"id": "a", "source": "inp", "target": "out",
                                      "weight": 500.0, "delay_ms": 2.0}]
    project = Project.from_dict(doc)
    sc = Scenario("late", "t", input=InputSpec("constant", model="regular", rate_hz=10.0,
                                                start_ms=10.0),
                  duration_ms=200.0, window_ms=100.0, deadline_ms=5.0)
    rep = run_scenarios(project, [sc, replace(sc, id="tight", deadline_ms=2.0)])
    m = rep.measurements().set_index("scenario")
    spikes = rep.runs["late"].result.spikes
    t_in = spikes.loc[spikes["population"] == "inp", "time_ms"].min()
    t_out = spikes.loc[spikes["population"] == "out", "time_ms"].min()
    assert t_in == pytest.approx(10.0)
    assert m.loc["late", "latency_ms"] == pytest.approx(t_out - t_in)
    assert 2.0 < m.loc["late", "latency_ms"] <= 5.0  # the 2 ms delay plus the rise
    crit, _ = fit_matrices(rep, Thresholds(latency_margin=0.9))
    rating = crit.set_index(["scenario", "column"])["rating"]
    assert rating[("late", "latency_ms")] == "recommended"
    assert rating[("tight", "latency_ms")] == "cautious"


def test_measure_latency_by_hand():
    spikes = pd.DataFrame({"time_ms": [5.0, 8.0, 20.0, 60.0, 61.0, 130.0],
                           "population": ["in", "out", "out", "in", "out", "in"],
                           "neuron": 0})
    got = measure_latency(spikes, ["in"], "out", window_ms=50.0, duration_ms=150.0,
                          deadline_ms=2.0)
    assert got["latency_ms"] == 3.0 and got["first_input_ms"] == 5.0
    assert got["windows_with_input"] == 3 and got["windows_answered"] == 2
    assert got["deadline_met_fraction"] == pytest.approx(1 / 3)  # 3 ms, 1 ms, none
    silent = measure_latency(spikes.iloc[:0], ["in"], "out", 50.0, 150.0, 2.0)
    assert math.isnan(silent["latency_ms"])


# ------------------------------------------------------------------ ratings and CSV
def test_ratings_follow_the_thresholds(report):
    crit, hw = fit_matrices(report, Thresholds())
    assert set(crit["rating"]) <= {"recommended", "neutral", "cautious"}
    assert len(hw) == 2 * len(report.profiles)
    sparsity = crit[crit["column"] == "activity_sparsity"].set_index("scenario")["value"]
    lo, hi = sorted(sparsity)
    between = Thresholds(sparsity_recommended=hi, sparsity_cautious=(lo + hi) / 2)
    rated = fit_matrices(report, between)[0]
    r = rated[rated["column"] == "activity_sparsity"].set_index("value")["rating"]
    assert r[hi] == "recommended" and r[lo] == "cautious"
    strict = Thresholds(ratio_recommended=1e-12, ratio_cautious=1e-9)
    ratio = fit_matrices(report, strict)[0]
    assert (ratio.loc[ratio["column"] == "snn_ann_ratio", "rating"] == "cautious").all()
    lax = Thresholds(ratio_recommended=1e9, ratio_cautious=1e9)
    ratio = fit_matrices(report, lax)[0]
    assert (ratio.loc[ratio["column"] == "snn_ann_ratio", "rating"] == "recommended").all()
    # Power: a budget far below the measured power turns the SNN energy cell cautious.
    low_budget = replace(report.runs["dense"].scenario, power_budget_w=1e-12)
    report.runs["dense"].measurements["power_budget_w"] = low_budget.power_budget_w
    try:
        cells = fit_matrices(report)[0].set_index(["scenario", "column"])["rating"]
        assert cells[("dense", "snn_energy_j")] == "cautious"
    finally:
        report.runs["dense"].measurements["power_budget_w"] = DENSE.power_budget_w
    with pytest.raises(ProjectError, match="thresholds.ann_profile"):
        fit_matrices(report, Thresholds(ann_profile="loihi"))


def test_unpriced_profiles_are_never_recommended(report):
    _, hw = fit_matrices(report, Thresholds(ratio_recommended=1e9, ratio_cautious=1e9,
                                            power_margin=1.0))
    speck = hw[hw["column"] == "speck"]
    assert (speck["rating"] != "recommended").all()
    assert speck["reason"].str.contains("not counted").all()


def test_csv_round_trip(report):
    crit, hw = fit_matrices(report)
    text = matrices_to_csv(crit, hw, Thresholds())
    assert text.startswith("# threshold sparsity_recommended=")
    crit2, hw2 = matrices_from_csv(text)
    pd.testing.assert_frame_equal(crit2, crit, check_dtype=False)
    pd.testing.assert_frame_equal(hw2, hw, check_dtype=False)


# ------------------------------------------------------------------ batch control
def test_progress_and_cancel_stop_the_batch():
    long = [replace(DENSE, id=f"long{i}", duration_ms=200_000.0) for i in range(4)]
    cancel = threading.Event()
    seen: list[ScenarioProgress] = []

    def progress(p: ScenarioProgress) -> None:
        seen.append(p)
        if p.status == "running" and p.fraction > 0:
            cancel.set()

    rep = run_scenarios(tiny_project(), long, progress=progress, cancel=cancel, max_workers=2)
    statuses = [r.status for r in rep.runs.values()]
    assert statuses == ["cancelled"] * 4
    started = [r for r in rep.runs.values() if r.result is not None]
    assert all(r.result.duration_ms < 200_000.0 for r in started)
    assert seen and seen[-1].done == 4 and seen[-1].overall == pytest.approx(1.0)
    assert rep.completed == [] and fit_matrices(rep)[0].empty


def test_a_failing_scenario_does_not_sink_the_batch():
    delta = InputSpec("custom", model="delta", params={"threshold": 0.2})  # needs size 2
    bad = Scenario("bad", "Bad", input=delta)
    rep = run_scenarios(tiny_project(), [bad, SPARSE], max_workers=1)
    assert rep.runs["bad"].status == "failed" and "size" in rep.runs["bad"].error
    assert rep.runs["sparse"].status == "completed"
