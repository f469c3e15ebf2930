"""engine.energy.model.run_energy_totals: the whole-run totals a batch prices every run with must
equal, bit for bit, the totals of the full breakdown frames (sweep.csv stays byte-identical)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.energy import model as E
from engine.project import load_project
from engine.simulator import simulate

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


def breakdown_totals(result, profiles) -> dict[str, float]:
    """The totals the slow way: breakdown frames of the whole-run counts, then summed."""
    span_ms = max(result.duration_ms, 1e-9)
    frames = E.energy_breakdowns(E.whole_run_counts(result.counts), profiles, span_ms,
                                 result.duration_ms)
    return {k: float(E.energy_totals(f)["total_j"]) for k, f in frames.items()}


@pytest.mark.parametrize("name", ["cuba_balanced", "stdp_pattern", "energy_sparse_vs_dense",
                                  "lif_single_neuron"])
def test_run_totals_equal_breakdown_totals_exactly(name):
    project = load_project(SAMPLES / f"{name}.json")
    project.simulation.duration_ms = min(project.simulation.duration_ms, 60.0)
    result = simulate(project)
    profiles = E.load_profiles()
    fast = E.run_energy_totals(result.counts, profiles, result.duration_ms)
    assert fast == breakdown_totals(result, profiles)  # exact, not approximate
    assert any(v > 0 for v in fast.values())


def test_run_totals_honour_weight_reads_and_static_split():
    project = load_project(SAMPLES / "energy_sparse_vs_dense.json")
    project.simulation.duration_ms = 40.0
    result = simulate(project)
    profiles = E.load_profiles()
    span = result.duration_ms
    for kwargs in ({"weight_reads": False}, {"static_split": "nodes"}):
        frames = E.energy_breakdowns(E.whole_run_counts(result.counts), profiles, span,
                                     span, **kwargs)
        slow = {k: float(E.energy_totals(f)["total_j"]) for k, f in frames.items()}
        assert E.run_energy_totals(result.counts, profiles, span, **kwargs) == slow


def test_load_profiles_gives_each_caller_its_own_dict():
    first = E.load_profiles()
    first.pop(next(iter(first)))
    assert len(E.load_profiles()) == len(first) + 1
