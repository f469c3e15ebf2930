"""Random valid networks (every model, encoder, rule, plasticity and delay kind) must run.

Invariants checked on each: the run completes; spikes lie on the step grid inside the run and
name existing neurons; the per-bin counts add up to the recorded spikes; plastic weights stay
inside their bounds; a second run with the same seed is identical; every hardware profile
prices the run with finite, non-negative energies that add up; the analyses and the SNN/ANN
comparison run on it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.encoders import CURRENT_ENCODERS, ENCODER_MODELS
from engine.energy import model as E
from engine.neurons import NEURON_MODELS, emits_spikes
from engine.project import Project, validate_document
from engine.simulator import simulate
from engine.spike_stats import population_rates, population_summary
from workbench import edits

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

DURATION_MS = 20.0
PROFILES = E.load_profiles()

PROJECTION = st.fixed_dictionaries({
    "source": st.integers(0, 20), "target": st.integers(0, 20),
    "rule": st.sampled_from(["all_to_all", "one_to_one", "fixed_probability",
                             "fixed_indegree"]),
    "p": st.floats(0.0, 1.0), "k": st.integers(1, 5),
    "weight": st.one_of(st.floats(0.1, 30.0),
                        st.just({"dist": "uniform", "low": 0.5, "high": 5.0}),
                        st.just({"dist": "normal", "mean": 2.0, "std": 1.0})),
    "delay_steps": st.sampled_from([0, 1, 10, 25]),
    "delay_spread": st.booleans(),
    "inhibitory": st.booleans(),
    "plasticity": st.sampled_from([None, {"rule": "stdp", "w_max": 10.0},
                                   {"rule": "stdp", "pairing": "nearest",
                                    "bounds": "multiplicative", "w_max": 10.0},
                                   {"rule": "teaching", "w_max": 10.0}]),
})
NETWORK = st.fixed_dictionaries({
    "populations": st.lists(st.tuples(st.sampled_from(sorted(NEURON_MODELS)),
                                      st.integers(1, 12)), min_size=1, max_size=3),
    "encoders": st.lists(st.tuples(st.sampled_from(sorted(ENCODER_MODELS)),
                                   st.integers(1, 12)), max_size=3),
    "projections": st.lists(PROJECTION, min_size=1, max_size=6),
    "dt_ms": st.sampled_from([0.1, 0.05, 0.25]),
    "seed": st.integers(0, 2**31 - 1),
})
FIXED_SIZE = {"delta", "dvs", "latency", "spike_times", "dataset"} | set(CURRENT_ENCODERS)


def _document(spec: dict) -> dict:
    """A network the validator should accept, built with the editor's own edit functions."""
    doc = edits.new_document()
    dt = spec["dt_ms"]
    doc = edits.set_simulation(doc, "dt_ms", dt)
    for kind, items in (("population", spec["populations"]), ("encoder", spec["encoders"])):
        for model, size in items:
            doc, node_id = edits.add_node(doc, kind, model)
            if model not in FIXED_SIZE:
                doc = edits.set_node_field(doc, node_id, "size", size)
    nodes = {n["id"]: n for n in doc["network"]["nodes"]}
    # A leaky integrator never spikes: validation refuses it as a source.
    sources = [i for i, n in nodes.items()
               if n["kind"] != "population" or emits_spikes(n["model"])]
    targets = [i for i, n in nodes.items() if n["kind"] == "population"]
    for proj in spec["projections"] if sources else ():
        src = nodes[sources[proj["source"] % len(sources)]]
        tgt = nodes[targets[proj["target"] % len(targets)]]
        current = src["model"] in CURRENT_ENCODERS
        doc, pid = edits.connect(doc, src["id"], tgt["id"])
        rule = proj["rule"]
        if rule == "one_to_one" and src["size"] != tgt["size"]:
            rule = "all_to_all"
        connectivity = {"rule": rule, "p": proj["p"], "k": min(proj["k"], src["size"])}
        plastic = proj["plasticity"] if not (current or proj["inhibitory"]) else None
        if current:
            delay = 0.0
        elif proj["delay_spread"]:
            delay = {"dist": "uniform", "low": 0.0, "high": 2.0 * dt * 10}
        else:
            delay = proj["delay_steps"] * dt
        # The weight goes first: switching the receptor flips a constant weight's sign.
        weight = proj["weight"] if not current else 5.0
        if plastic and isinstance(weight, float):
            weight = min(weight, plastic["w_max"])  # learning starts inside its bounds
        changes = {"weight": weight,
                   "connectivity": connectivity, "delay_ms": delay,
                   "receptor": "inh" if proj["inhibitory"] and not current else "exc",
                   "plasticity": plastic}
        for field, value in changes.items():
            doc = edits.set_projection_field(doc, pid, field, value)
        if changes["receptor"] == "inh" and isinstance(proj["weight"], dict):
            doc = edits.set_projection_field(doc, pid, "weight", {
                "dist": "uniform", "low": -5.0, "high": -0.5})
    doc, _ = edits.add_node(doc, "monitor", "state", target=targets[0])
    doc = edits.set_simulation(doc, "duration_ms", DURATION_MS)
    doc = edits.set_simulation(doc, "seed", spec["seed"])
    return doc


@pytest.mark.slow  # the longest of make test-fast; make test runs it
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=NETWORK)
def test_random_valid_networks_run_and_keep_their_invariants(spec):
    doc = _document(spec)
    assert validate_document(doc) == []  # built within the documented rules
    project = Project.from_dict(doc)
    result = simulate(project)
    again = simulate(project)
    assert result.status == "completed"
    spikes = result.spikes
    assert spikes.equals(again.spikes)
    dt = result.dt_ms
    times = spikes["time_ms"].to_numpy()
    assert np.all((times >= 0) & (times <= result.duration_ms + 1e-9))
    assert np.allclose(times / dt, np.round(times / dt), atol=1e-6)
    for pop, size in result.sizes.items():
        neurons = spikes.loc[spikes["population"] == pop, "neuron"].to_numpy()
        assert np.all((neurons >= 0) & (neurons < size))
    counted = result.counts.groupby("node", observed=True)["spikes"].sum()
    shown = spikes.groupby("population", observed=True).size()
    for pop, n in shown.items():
        assert counted[pop] == n
    for name, record in result.weights.items():
        assert np.all(record.hist.sum(axis=1) == len(record.pre)), name
        if record.snapshots is not None:
            proj = next(p for p in project.network.projections if p.id == name)
            if proj.plasticity:
                lo, hi = record.w_min, record.w_max
                assert np.all((record.snapshots >= lo - 1e-6) & (record.snapshots <= hi + 1e-6))
            np.testing.assert_array_equal(record.snapshots, again.weights[name].snapshots)
    for profile in PROFILES.values():
        breakdown = E.energy_of_result(result, profile)
        values = breakdown[list(E.ENERGY_COLUMNS)].to_numpy(float)
        assert np.isfinite(values).all() and (values >= 0).all(), profile.id
        totals = E.energy_totals(breakdown)
        assert totals["total_j"] == pytest.approx(totals["dynamic_j"] + totals["static_j"],
                                                  rel=1e-9, abs=1e-30)
    ann = next(p for p in PROFILES.values() if p.kind == "dense")
    comparison = E.snn_vs_ann(result.counts, result.network_info, result.node_info,
                              result.duration_ms, result.dt_ms, result.bin_ms, ann_profile=ann)
    assert comparison.snn_memory_j >= 0 and 0.0 <= comparison.activation_sparsity <= 1.0
    summary = population_summary(spikes, result.sizes, result.duration_ms)
    assert (summary["mean_rate_hz"] >= 0).all()
    rates = population_rates(spikes, result.sizes, result.duration_ms, bin_ms=1.0)
    assert np.isfinite(rates.select_dtypes("number").to_numpy(float)).all()
