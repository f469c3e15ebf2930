"""Tests of the energy model on hand-built counts (the contract of docs/architecture.md)."""

from __future__ import annotations

import copy
import json
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from engine.energy.model import (
    COUNT_COLUMNS,
    ENERGY_COLUMNS,
    FIGURE_NAMES,
    HardwareProfile,
    activation_sparsity,
    ann_baseline,
    clone_profile,
    edit_profile,
    energy_breakdown,
    energy_breakdowns,
    energy_of_result,
    energy_totals,
    idle_basis,
    load_profiles,
    profile_from_dict,
    profiles_from_document,
    profiles_to_document,
    recurrent_projections,
    snn_vs_ann,
    unpriced_operations,
)
from engine.errors import ProjectError

# Powers of two make every product and sum below exact in binary floating point, so
# "totals equal counts x per-op energies" can be asserted with ==.
E = {
    "synaptic_op": 2.0**-36, "neuron_update_active": 2.0**-34, "neuron_update_idle": 2.0**-35,
    "plasticity_update": 2.0**-33, "spike_out": 2.0**-38, "weight_read": 2.0**-37,
    "mac": 2.0**-37, "ac": 2.0**-39, "mac_memory": 2.0**-36, "static_power_w": 2.0**-10,
}


def make_profile(kind: str = "dense", **overrides: float | None) -> HardwareProfile:
    values = {**E, **overrides}
    data = {"name": "Test", "kind": kind}
    for name in FIGURE_NAMES:
        value = values[name]
        data[name] = {"value": value, "source": "test" if value is not None else "",
                      "note": "hand-made for tests"}
    return profile_from_dict(data, "test")


def make_counts(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (bin_start_ms, node, kind, size, spikes, updates, active, syn, plast)."""
    frame = pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
    frame["node"] = frame["node"].astype("category")
    return frame


def feed_forward_counts(scale: int = 1) -> pd.DataFrame:
    """Encoder inp (10) -> population hid (4), two 1 ms bins of 10 steps each."""
    return make_counts([
        (0.0, "inp", "encoder", 10, 6 * scale, 0, 0, 0, 0),
        (0.0, "hid", "population", 4, 2 * scale, 40, 8 * scale, 24 * scale, 3 * scale),
        (1.0, "inp", "encoder", 10, 3 * scale, 0, 0, 0, 0),
        (1.0, "hid", "population", 4, 1 * scale, 40, 5 * scale, 12 * scale, 0),
    ])


# ---------------------------------------------------------------- exact pricing
def test_breakdown_equals_counts_times_energies_exactly() -> None:
    counts = feed_forward_counts()
    out = energy_breakdown(counts, make_profile(), bin_ms=1.0, duration_ms=2.0)
    assert list(out.columns) == [*COUNT_COLUMNS[:4], *ENERGY_COLUMNS]
    hid = out[out["node"] == "hid"].reset_index(drop=True)
    assert hid.loc[0, "synaptic_j"] == 24 * E["synaptic_op"]
    assert hid.loc[0, "neuron_active_j"] == 8 * E["neuron_update_active"]
    assert hid.loc[0, "neuron_idle_j"] == 32 * E["neuron_update_idle"]
    assert hid.loc[0, "learning_j"] == 3 * E["plasticity_update"]
    assert hid.loc[0, "routing_j"] == 2 * E["spike_out"]
    assert hid.loc[0, "memory_j"] == 24 * E["weight_read"]
    # All static power goes to the only population; one bin is 1 ms.
    assert hid.loc[0, "static_j"] == E["static_power_w"] * 1e-3
    inp = out[out["node"] == "inp"]
    assert (inp["static_j"] == 0).all()
    assert inp["routing_j"].tolist() == [6 * E["spike_out"], 3 * E["spike_out"]]

    totals = energy_totals(out)
    expected_dynamic = (36 * E["synaptic_op"] + 13 * E["neuron_update_active"]
                        + 67 * E["neuron_update_idle"] + 3 * E["plasticity_update"]
                        + 12 * E["spike_out"] + 36 * E["weight_read"])
    assert totals["dynamic_j"] == expected_dynamic
    assert totals["static_j"] == E["static_power_w"] * 2e-3
    assert totals["total_j"] == expected_dynamic + E["static_power_w"] * 2e-3
    assert totals["dynamic_j"] == totals["event_driven_j"] + totals["neuron_idle_j"]


def test_breakdowns_of_several_profiles_equal_one_profile_at_a_time() -> None:
    counts = feed_forward_counts()
    cheap, dear = make_profile(), make_profile(synaptic_op=2 * E["synaptic_op"])
    both = energy_breakdowns(counts, {"cheap": cheap, "dear": dear}, 1.0, 2.0)
    assert list(both) == ["cheap", "dear"]
    # One shared grid, each profile priced on its own: the same frames as one call each.
    pd.testing.assert_frame_equal(both["cheap"], energy_breakdown(counts, cheap, 1.0, 2.0))
    pd.testing.assert_frame_equal(both["dear"], energy_breakdown(counts, dear, 1.0, 2.0))
    assert (both["dear"]["synaptic_j"] == 2 * both["cheap"]["synaptic_j"]).all()
    assert both["dear"]["synaptic_j"].sum() > 0


def test_weight_reads_can_be_left_out() -> None:
    with_reads = energy_breakdown(feed_forward_counts(), make_profile(), 1.0, 2.0)
    without = energy_breakdown(feed_forward_counts(), make_profile(), 1.0, 2.0,
                               weight_reads=False)
    assert without["memory_j"].sum() == 0
    assert with_reads["total_j"].sum() - without["total_j"].sum() == 36 * E["weight_read"]


def test_totals_by_node_and_bin_add_up() -> None:
    out = energy_breakdown(feed_forward_counts(), make_profile(), 1.0, 2.0)
    by_node = energy_totals(out, by="node")
    by_bin = energy_totals(out, by="bin")
    assert list(by_node.index) == ["inp", "hid"]
    assert by_node["total_j"].sum() == pytest.approx(out["total_j"].sum(), rel=1e-15)
    assert by_bin.index.tolist() == [0.0, 1.0]
    assert by_bin["total_j"].sum() == pytest.approx(out["total_j"].sum(), rel=1e-15)


def test_static_split_by_neurons_and_clipped_last_bin() -> None:
    counts = make_counts([
        (0.0, "a", "population", 1, 0, 10, 0, 0, 0),
        (0.0, "b", "population", 3, 0, 30, 0, 0, 0),
        (1.0, "a", "population", 1, 0, 5, 0, 0, 0),
        (1.0, "b", "population", 3, 0, 15, 0, 0, 0),
    ])
    out = energy_breakdown(counts, make_profile(), bin_ms=1.0, duration_ms=1.5)
    static = out.set_index(["bin_start_ms", "node"])["static_j"]
    p = E["static_power_w"]
    assert static[(0.0, "a")] == p * 1e-3 / 4
    assert static[(0.0, "b")] == p * 1e-3 * 3 / 4
    assert static[(1.0, "b")] == pytest.approx(p * 0.5e-3 * 3 / 4, rel=1e-15)
    equal = energy_breakdown(counts, make_profile(), 1.0, 1.5, static_split="nodes")
    assert equal["static_j"].iloc[0] == p * 1e-3 / 2


def test_missing_silent_bins_still_pay_static_power() -> None:
    counts = make_counts([(0.0, "a", "population", 2, 0, 20, 0, 0, 0)])
    out = energy_breakdown(counts, make_profile(), bin_ms=1.0, duration_ms=3.0)
    assert out["bin_start_ms"].tolist() == [0.0, 1.0, 2.0]
    assert out["static_j"].sum() == pytest.approx(E["static_power_w"] * 3e-3, rel=1e-15)


def test_counts_contract_is_checked() -> None:
    with pytest.raises(ValueError, match="syn_events"):
        energy_breakdown(feed_forward_counts().drop(columns="syn_events"), make_profile(), 1.0)
    bad = feed_forward_counts()
    bad.loc[1, "active_updates"] = 99
    with pytest.raises(ValueError, match="active_updates"):
        energy_breakdown(bad, make_profile(), 1.0)


# ---------------------------------------------------------------- silence and scaling
def silent_counts() -> pd.DataFrame:
    rows = []
    for b in range(5):
        rows.append((float(b), "inp", "encoder", 10, 0, 0, 0, 0, 0))
        rows.append((float(b), "hid", "population", 4, 0, 40, 0, 0, 0))
    return make_counts(rows)


def test_silent_input_costs_only_static_energy() -> None:
    speck = load_profiles()["speck"]  # static power only
    out = energy_breakdown(silent_counts(), speck, bin_ms=1.0, duration_ms=5.0)
    assert out["dynamic_j"].sum() == 0
    assert out["total_j"].sum() == pytest.approx(0.42e-3 * 5e-3, rel=1e-12)
    assert out["total_j"].sum() == out["static_j"].sum()


def test_silent_input_has_no_event_driven_energy_on_loihi() -> None:
    # Loihi still charges its idle neuron updates; "no input, no power" shows as zero
    # event-driven energy, not zero total.
    loihi = edit_profile(load_profiles()["loihi"], "static_power_w", 1e-3, source="test")
    out = energy_breakdown(silent_counts(), loihi, bin_ms=1.0, duration_ms=5.0)
    assert out["event_driven_j"].sum() == 0
    assert out["neuron_idle_j"].sum() == pytest.approx(200 * 52e-12, rel=1e-12)
    assert out["static_j"].sum() == pytest.approx(1e-3 * 5e-3, rel=1e-12)


@pytest.mark.parametrize("profile_id", ["loihi", "cmos45_fp32", "spinnaker2"])
def test_doubling_input_activity_doubles_event_driven_energy(profile_id: str) -> None:
    profile = load_profiles()[profile_id]
    once = energy_totals(energy_breakdown(feed_forward_counts(1), profile, 1.0, 2.0),
                         by="node").loc["hid"]
    twice = energy_totals(energy_breakdown(feed_forward_counts(2), profile, 1.0, 2.0),
                          by="node").loc["hid"]
    assert once["event_driven_j"] > 0
    assert twice["event_driven_j"] == pytest.approx(2 * once["event_driven_j"], rel=1e-12)
    assert twice["synaptic_j"] == pytest.approx(2 * once["synaptic_j"], rel=1e-12)
    # Static power and the idle floor do not scale with input: the model is not simply
    # multiplying everything.
    assert twice["static_j"] == once["static_j"]
    assert twice["neuron_idle_j"] < once["neuron_idle_j"]


def test_unpriced_operations_are_reported() -> None:
    truenorth = load_profiles()["truenorth"]
    assert unpriced_operations(feed_forward_counts(), truenorth) == {"plasticity_update": 3}
    assert unpriced_operations(feed_forward_counts(), make_profile()) == {}


# ---------------------------------------------------------------- profiles
def raw_profiles() -> dict:
    text = resources.files("engine").joinpath("data/hardware_profiles.json").read_text("utf-8")
    return json.loads(text)


def test_builtin_profiles_load() -> None:
    profiles = load_profiles()
    assert {"cmos45_fp32", "cmos45_int8", "loihi", "truenorth", "spinnaker", "spinnaker2",
            "speck", "gpu_system", "cpu_system"} <= set(profiles)
    assert profiles["loihi"].energy("synaptic_op") == 23.6e-12
    assert profiles["cmos45_fp32"].energy("mac") == 4.6e-12
    assert profiles["cmos45_fp32"].energy("ac") == 0.9e-12
    assert profiles["speck"].energy("static_power_w") == 0.42e-3


def test_every_profile_figure_has_a_source_or_says_why_not() -> None:
    for pid, profile in load_profiles().items():
        assert set(profile.figures) == set(FIGURE_NAMES), pid
        for name, fig in profile.figures.items():
            where = f"{pid}.{name}"
            if fig.value is None:
                assert fig.note.strip(), f"{where}: missing figure without a note"
            else:
                assert fig.source.strip(), f"{where}: value without a source"
                assert fig.note.strip(), f"{where}: value without a note"
            # Figures REFERENCES.md marks as taken from a secondary source must say so.
            # (Speck's static power is the paper's own figure: primary)
            if fig.value is not None and not (pid.startswith("speck") and
                                              name == "static_power_w"):
                assert "secondary" in fig.flags and "secondary" in fig.note, where
    loihi = load_profiles()["loihi"]
    for name in ("synaptic_op", "neuron_update_active", "plasticity_update", "spike_out"):
        assert "pre-silicon" in loihi.figures[name].flags


def test_round_trip_and_clone() -> None:
    profiles = load_profiles()
    again = profiles_from_document(profiles_to_document(profiles.values()))
    assert again == profiles
    mine = clone_profile(profiles["loihi"], "my_loihi", "My Loihi")
    mine = edit_profile(mine, "static_power_w", 0.03, source="own measurement",
                        note="board idle")
    assert mine.id == "my_loihi" and mine.energy("static_power_w") == 0.03
    assert mine.figures["static_power_w"].flags == ("user-edited",)
    assert profiles["loihi"].energy("static_power_w") == 0.0  # original untouched


def test_negative_energy_names_the_field() -> None:
    doc = raw_profiles()
    doc["profiles"]["loihi"]["synaptic_op"]["value"] = -1
    with pytest.raises(ProjectError) as info:
        profiles_from_document(doc)
    assert [str(p) for p in info.value.problems] == [
        "profiles.loihi.synaptic_op: must be >= 0 J, got -1"]


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda p: p["loihi"]["synaptic_op"].update(source=""),
     "profiles.loihi.synaptic_op.source: is required for a figure with a value"),
    (lambda p: p["loihi"]["mac"].update(note=""),
     "profiles.loihi.mac.note: must say why the figure is missing"),
    (lambda p: p["loihi"].pop("weight_read"), "profiles.loihi.weight_read: is required"),
    (lambda p: p["loihi"].update(speed=3), "profiles.loihi.speed: unknown key"),
    (lambda p: p["loihi"].update(kind="analog"), "profiles.loihi.kind: must be one of"),
    (lambda p: p["loihi"].update(spike_out=1.7e-12), "profiles.loihi.spike_out: must be an obj"),
    (lambda p: p["loihi"]["spike_out"].update(value=23.6),
     "profiles.loihi.spike_out: must be <= 0.001 J, got 23.6"),
    (lambda p: p["cmos45_fp32"]["mac"].update(value=None, note="gone"),
     "profiles.cmos45_fp32.mac: a dense profile needs a value"),
    (lambda p: p["loihi"]["weight_read"].update(included_in="mac"),
     "profiles.loihi.weight_read.included_in: names 'mac', which has no value"),
    (lambda p: p["loihi"]["synaptic_op"].update(flags=["guess"]),
     "profiles.loihi.synaptic_op.flags[0]: must be one of"),
    (lambda p: p["speck"]["static_power_w"].update(value="0.42 mW"),
     "profiles.speck.static_power_w: must be a number in W or null"),
])
def test_profile_validation_errors_name_the_field(edit, expected: str) -> None:
    doc = copy.deepcopy(raw_profiles())
    edit(doc["profiles"])
    with pytest.raises(ProjectError) as info:
        profiles_from_document(doc)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith(expected) for m in messages), messages


def test_edit_profile_validates() -> None:
    loihi = load_profiles()["loihi"]
    with pytest.raises(ProjectError, match=r"profiles.loihi.synaptic_op: must be >= 0 J"):
        edit_profile(loihi, "synaptic_op", -1.0, source="typo")
    with pytest.raises(ProjectError, match="source: is required"):
        edit_profile(loihi, "synaptic_op", 1e-11, source="")
    with pytest.raises(ProjectError, match="unknown figure"):
        edit_profile(loihi, "joules", 1.0, source="x")


# ---------------------------------------------------------------- ANN baseline and ratios
def network() -> tuple[pd.DataFrame, pd.DataFrame]:
    """inp (10, poisson) -> hid (5) all-to-all; hid -> hid recurrent; hid -> out (2)."""
    network_info = pd.DataFrame({
        "projection": ["p_in", "p_rec", "p_out"], "source": ["inp", "hid", "hid"],
        "target": ["hid", "hid", "out"], "n_synapses": [50, 20, 10], "n_pre": [10, 5, 5],
        "n_post": [5, 5, 2], "plastic": [False, False, False]})
    node_info = pd.DataFrame({"node": ["inp", "hid", "out"],
                              "kind": ["encoder", "population", "population"],
                              "model": ["poisson", "lif", "lif"], "size": [10, 5, 2]})
    return network_info, node_info


def test_recurrent_projections_include_cycles() -> None:
    info = pd.DataFrame({"projection": ["ab", "ba", "bc", "cc"], "source": ["a", "b", "b", "c"],
                         "target": ["b", "a", "c", "c"]})
    assert recurrent_projections(info) == {"ab", "ba", "cc"}


def test_ann_baseline_counts_feed_forward_once_and_recurrent_per_step() -> None:
    network_info, node_info = network()
    ann = ann_baseline(network_info, node_info, duration_ms=100.0, dt_ms=0.1,
                       window_ms=50.0, recurrent_step_ms=1.0)
    layers = ann.layers.set_index("projection")
    assert layers.loc["p_in", "macs_per_inference"] == 50
    assert layers.loc["p_rec", "macs_per_inference"] == 20 * 50
    assert layers.loc["p_in", "fan_in"] == 10
    assert ann.dense_macs == 50 + 1000 + 10
    assert ann.n_inferences == 2
    energies = ann.energies.set_index("profile")
    assert set(energies.index) == {"cmos45_fp32", "cmos45_int8", "gpu_system", "cpu_system"}
    assert energies.loc["cmos45_fp32", "compute_j"] == pytest.approx(1060 * 4.6e-12)
    assert energies.loc["cmos45_fp32", "memory_j"] == pytest.approx(1060 * 10e-12)
    dense = ann_baseline(network_info, node_info, 100.0, 0.1, dense_connectivity=True)
    assert dense.layers.set_index("projection").loc["p_rec", "n_synapses"] == 25


def run_counts(rate_scale: int = 1) -> pd.DataFrame:
    rows = []
    for b in range(10):  # 10 bins of 10 ms, dt 0.1 ms -> 100 steps per bin
        t = b * 10.0
        rows += [(t, "inp", "encoder", 10, 2 * rate_scale, 0, 0, 0, 0),
                 (t, "hid", "population", 5, 1, 500, 40, 10 * rate_scale + 4, 0),
                 (t, "out", "population", 2, 0, 200, 5, 1, 0)]
    return make_counts(rows)


def test_snn_vs_ann_literature_ratio_is_sops_eac_over_macs_emac() -> None:
    network_info, node_info = network()
    fp32 = load_profiles()["cmos45_fp32"]
    cmp = snn_vs_ann(run_counts(), network_info, node_info, duration_ms=100.0, dt_ms=0.1,
                     bin_ms=10.0, ann_profile=fp32, window_ms=100.0, recurrent_step_ms=1.0)
    sops = 10 * (14 + 1)
    dense = 50 + 20 * 100 + 10
    assert cmp.effective_acs == sops and cmp.synaptic_operations == sops
    assert cmp.effective_macs == 0
    assert cmp.dense_macs == dense
    assert cmp.ratio_literature == pytest.approx((sops * 0.9e-12) / (dense * 4.6e-12))
    # The memory-inclusive SNN side adds neuron updates (700 per bin) and a weight read per
    # event; the ANN side adds one weight read per MAC.
    snn = sops * (0.9e-12 + 10e-12) + 10 * 700 * 4.6e-12 + 10 * 1 * 0.0
    assert cmp.snn_memory_j == pytest.approx(snn)
    assert cmp.ann_memory_j == pytest.approx(dense * 14.6e-12)
    assert cmp.ratio_memory > cmp.ratio_literature
    assert cmp.activation_sparsity == pytest.approx(1 - 10 / 7000)
    assert set(cmp.metrics()) == {"synaptic_operations", "effective_acs", "effective_macs",
                                  "dense_macs", "activation_sparsity"}


def test_current_input_is_counted_as_effective_macs() -> None:
    network_info, node_info = network()
    node_info.loc[0, "model"] = "constant_current"
    fp32 = load_profiles()["cmos45_fp32"]
    cmp = snn_vs_ann(run_counts(), network_info, node_info, 100.0, 0.1, 10.0, ann_profile=fp32)
    assert cmp.effective_macs == 50 * 1000
    assert cmp.snn_literature_j == pytest.approx(150 * 0.9e-12 + 50_000 * 4.6e-12)


def test_snn_vs_ann_needs_a_dense_profile() -> None:
    network_info, node_info = network()
    with pytest.raises(ValueError, match="dense"):
        snn_vs_ann(run_counts(), network_info, node_info, 100.0, 0.1, 10.0,
                   ann_profile=load_profiles()["loihi"])


def test_activation_sparsity_of_silence_is_one() -> None:
    assert activation_sparsity(silent_counts()) == 1.0
    assert np.isnan(activation_sparsity(silent_counts()[lambda d: d["kind"] == "encoder"]))


# ---------------------------------------------------------------- with the real simulator
def _simulate_feed_forward(rate_hz: float):
    simulator = pytest.importorskip("engine.simulator")
    if not hasattr(simulator, "simulate"):
        pytest.skip("engine.simulator.simulate not available yet")
    from engine.project import Project

    document = {
        "format": "spikestudio-project", "version": 1,
        "network": {"nodes": [
            {"id": "inp", "kind": "encoder", "model": "poisson", "size": 100,
             "params": {"rate_hz": rate_hz}},
            {"id": "hid", "kind": "population", "model": "lif", "size": 50, "params": {}}],
            "projections": [{"id": "p", "source": "inp", "target": "hid", "weight": 0.5,
                             "connectivity": {"rule": "fixed_probability", "p": 0.2}}]},
        "simulation": {"duration_ms": 1000.0, "dt_ms": 0.1, "seed": 3, "count_bin_ms": 10.0},
    }
    return simulator.simulate(Project.from_dict(document))


def test_simulated_silence_and_doubled_rate() -> None:
    loihi = load_profiles()["loihi"]
    energies = {}
    for rate in (0.0, 20.0, 40.0):
        result = _simulate_feed_forward(rate)
        energies[rate] = energy_totals(energy_of_result(result, loihi), by="node").loc["hid"]
    assert energies[0.0]["event_driven_j"] == 0
    assert energies[0.0]["neuron_idle_j"] > 0
    ratio = energies[40.0]["synaptic_j"] / energies[20.0]["synaptic_j"]
    assert 1.8 < ratio < 2.2
    # Loihi updates a neuron once per 1 ms hardware step however many events it gets in it:
    # active updates grow less than the input (0.4 -> 0.8 events per neuron and step here).
    active = energies[40.0]["neuron_active_j"] / energies[20.0]["neuron_active_j"]
    assert 1.3 < active < 1.8


# ---------------------------------------------------------------- hardware time steps
def with_time_step(profile: HardwareProfile, value, source: str = "test") -> HardwareProfile:
    data = profile.to_dict()
    data["time_step_ms"] = {"value": value, "source": source, "note": "hand-made for tests"}
    return profile_from_dict(data, profile.id)


def hw_counts() -> pd.DataFrame:
    """feed_forward_counts plus 1 ms hardware-step columns: one hardware step per bin."""
    counts = feed_forward_counts()
    counts["hw_updates_1ms"] = [0, 4, 0, 4]
    counts["hw_active_1ms"] = [0, 3, 0, 1]
    return counts


def test_idle_updates_are_priced_per_hardware_step_exactly() -> None:
    profile = with_time_step(make_profile(), 1.0)
    out = energy_breakdown(hw_counts(), profile, bin_ms=1.0, duration_ms=2.0)
    hid = out[out["node"] == "hid"].reset_index(drop=True)
    assert hid["neuron_active_j"].tolist() == [3 * E["neuron_update_active"],
                                               1 * E["neuron_update_active"]]
    assert hid["neuron_idle_j"].tolist() == [1 * E["neuron_update_idle"],
                                             3 * E["neuron_update_idle"]]
    # Everything else is priced as before, per event.
    totals = energy_totals(out)
    assert totals["dynamic_j"] == (36 * E["synaptic_op"] + 4 * E["neuron_update_active"]
                                   + 4 * E["neuron_update_idle"] + 3 * E["plasticity_update"]
                                   + 12 * E["spike_out"] + 36 * E["weight_read"])
    assert idle_basis(profile, hw_counts()) == "per 1 ms hardware step"


def test_event_driven_and_per_simulation_step_profiles() -> None:
    counts = hw_counts()
    event = with_time_step(make_profile(), "event-driven")
    out = energy_totals(energy_breakdown(counts, event, 1.0, 2.0))
    assert out["neuron_idle_j"] == 0
    assert out["neuron_active_j"] == 13 * E["neuron_update_active"]  # simulation steps
    assert unpriced_operations(counts, with_time_step(
        make_profile(neuron_update_idle=None), "event-driven")) == {}
    per_step = with_time_step(make_profile(), None)
    out = energy_totals(energy_breakdown(counts, per_step, 1.0, 2.0))
    assert out["neuron_idle_j"] == 67 * E["neuron_update_idle"]
    assert idle_basis(per_step, counts) == "per simulation step"
    assert idle_basis(event, counts) == "event-driven (no idle updates)"


def test_a_hardware_step_the_run_did_not_count_falls_back_and_says_so() -> None:
    profile = with_time_step(make_profile(), 2.0)
    out = energy_totals(energy_breakdown(hw_counts(), profile, 1.0, 2.0))
    assert out["neuron_idle_j"] == 67 * E["neuron_update_idle"]
    assert idle_basis(profile, hw_counts()) == ("per simulation step (2 ms hardware steps "
                                                "not counted in this run)")
    assert unpriced_operations(hw_counts(), with_time_step(
        make_profile(neuron_update_idle=None), 1.0)) == {"neuron_update_idle": 4}


def test_hardware_step_counts_are_checked() -> None:
    bad = hw_counts()
    bad.loc[1, "hw_active_1ms"] = 5
    with pytest.raises(ValueError, match="hw_active_1ms exceeds hw_updates_1ms"):
        energy_breakdown(bad, make_profile(), 1.0)
    with pytest.raises(ValueError, match="not hw_active_1ms"):
        energy_breakdown(hw_counts().drop(columns="hw_active_1ms"), make_profile(), 1.0)


def test_builtin_time_steps_have_sources() -> None:
    profiles = load_profiles()
    assert {pid: p.time_step.idle_basis for pid, p in profiles.items()} == {
        "cmos45_fp32": "simulation step", "cmos45_int8": "simulation step",
        "loihi": "hardware step", "truenorth": "hardware step", "spinnaker": "hardware step",
        "spinnaker2": "hardware step", "speck": "event-driven", "speck_assumed": "event-driven",
        "gpu_system": "simulation step", "cpu_system": "simulation step"}
    assert profiles["loihi"].time_step_ms == 1.0
    for pid, p in profiles.items():
        assert p.time_step.note.strip(), pid
        if p.time_step.value is not None:
            assert p.time_step.source.strip(), pid


def test_profiles_saved_without_a_time_step_still_load_per_simulation_step() -> None:
    old = raw_profiles()["profiles"]["loihi"]
    old.pop("time_step_ms")
    profile = profile_from_dict(old, "old_loihi")
    assert profile.time_step.idle_basis == "simulation step"
    assert profile.to_dict()["time_step_ms"]["value"] is None  # saved with the default


@pytest.mark.parametrize(("value", "expected"), [
    (0, "profiles.loihi.time_step_ms: must be a time step in ms (> 0"),
    (-1.0, "profiles.loihi.time_step_ms: must be a time step in ms"),
    ("1 ms", "profiles.loihi.time_step_ms: must be a time step in ms"),
    (True, "profiles.loihi.time_step_ms: must be a time step in ms"),
    (float("inf"), "profiles.loihi.time_step_ms: must be a time step in ms"),
])
def test_time_step_validation_names_the_field(value, expected: str) -> None:
    doc = copy.deepcopy(raw_profiles())
    doc["profiles"]["loihi"]["time_step_ms"]["value"] = value
    with pytest.raises(ProjectError) as info:
        profiles_from_document(doc)
    assert any(str(p).startswith(expected) for p in info.value.problems)


def test_time_step_shape_errors_name_the_field() -> None:
    doc = copy.deepcopy(raw_profiles())
    doc["profiles"]["loihi"]["time_step_ms"] = 1.0
    doc["profiles"]["truenorth"]["time_step_ms"].update(source="", speed=2)
    doc["profiles"]["gpu_system"]["time_step_ms"].update(note="")
    with pytest.raises(ProjectError) as info:
        profiles_from_document(doc)
    messages = [str(p) for p in info.value.problems]
    for expected in ("profiles.loihi.time_step_ms: must be an object",
                     "profiles.truenorth.time_step_ms.speed: unknown key",
                     "profiles.truenorth.time_step_ms.source: is required",
                     "profiles.gpu_system.time_step_ms.note: must say why"):
        assert any(m.startswith(expected) for m in messages), (expected, messages)


def _one_input_project(duration_ms: float, energy: dict | None = None):
    """inp (1 spike source) -> a (2 LIF, never spike); b (1 LIF, no input); c (1 LIF that
    starts above threshold: one spike at the first step, no input); d (1 LIF with a
    subthreshold bias: input at every step). dt 0.1 ms, 2 ms count bins."""
    from tests.helpers import connection, document, encoder, lif

    doc = document(
        [encoder("inp", "spike_times", times_ms=[[0.5, 0.6, 3.0, 7.2, 10.2]]),
         lif("a", 2), lif("b", 1), lif("c", 1, v_init=-40.0), lif("d", 1, i_offset=1.0)],
        [connection("p", "inp", "a", weight=0.1)],
        duration_ms=duration_ms, count_bin_ms=2.0)
    if energy:
        doc["energy"] = energy
    from engine.project import Project
    from engine.simulator import simulate
    return simulate(Project.from_dict(doc))


def test_idle_updates_per_hardware_step_of_a_hand_computed_network() -> None:
    # 10.5 ms = 105 steps = 11 hardware steps of 1 ms (the last one partial: the chip still
    # steps once). Input spikes at 0.5, 0.6, 3.0, 7.2 and 10.2 ms reach `a` in hardware
    # steps 0, 0, 3, 7 and 10; `c` spikes in step 0 only; `d` has input in every step.
    result = _one_input_project(10.5)
    c = result.counts.assign(node=result.counts["node"].astype(str)).set_index(
        ["node", "bin_start_ms"])
    assert c.loc["a", "hw_updates_1ms"].tolist() == [4, 4, 4, 4, 4, 2]  # 2 neurons x steps
    assert c.loc["a", "hw_active_1ms"].tolist() == [2, 2, 0, 2, 0, 2]
    assert c.loc["b", "hw_active_1ms"].sum() == 0
    assert c.loc["c", "hw_active_1ms"].tolist() == [1, 0, 0, 0, 0, 0]
    assert c.loc["d", "hw_active_1ms"].tolist() == [2, 2, 2, 2, 2, 1]
    assert c.loc["inp", "hw_updates_1ms"].sum() == 0  # encoders are not neurons
    assert c.loc["c", "spikes"].sum() == 1 and c.loc["a", "spikes"].sum() == 0
    loihi = load_profiles()["loihi"]
    totals = energy_totals(energy_of_result(result, loihi), by="node")
    idle = {"a": 22 - 8, "b": 11, "c": 10, "d": 0}
    active = {"a": 8, "b": 0, "c": 1, "d": 11}
    for node in idle:
        assert totals.loc[node, "neuron_idle_j"] == pytest.approx(idle[node] * 52e-12,
                                                                  rel=1e-12), node
        assert totals.loc[node, "neuron_active_j"] == pytest.approx(active[node] * 81e-12,
                                                                    rel=1e-12), node


def test_a_hardware_step_of_one_simulation_step_counts_what_the_models_count() -> None:
    # A project profile with a 0.1 ms step (= dt): neurons with input per step are exactly
    # the models' active_updates when nobody spikes; a 2.5 ms step gets its own columns.
    loihi = load_profiles()["loihi"].to_dict()
    fine = {**loihi, "time_step_ms": {"value": 0.1, "source": "test", "note": "test"}}
    coarse = {**loihi, "time_step_ms": {"value": 2.5, "source": "test", "note": "test"}}
    result = _one_input_project(10.0, {"profiles": {"fine": fine, "coarse": coarse}})
    pops = result.counts[result.counts["node"].isin(["a", "b", "d"])]
    assert pops["hw_active_0.1ms"].sum() == pops["active_updates"].sum() > 0
    assert (pops["hw_updates_0.1ms"] == pops["neuron_updates"]).all()
    a = result.counts[result.counts["node"] == "a"]
    assert a["hw_active_2.5ms"].sum() == 2 * 3  # steps [0, 2.5), [2.5, 5), [5, 7.5)
    assert a["hw_updates_2.5ms"].sum() == 2 * 4


def test_hardware_step_flags_follow_every_delay_path_exactly() -> None:
    # Static and plastic projections, one delay and per-synapse delays (up to 8 ms, so the
    # ring of hardware steps in flight wraps): with a 0.1 ms hardware step and 0.1 ms bins,
    # the neurons flagged per step and node must be exactly the models' active_updates
    # (nobody spikes, all weights > 0).
    from engine.project import Project
    from engine.simulator import simulate
    from tests.helpers import connection, document, encoder, lif

    stdp = {"rule": "stdp", "a_plus": 0.001, "a_minus": 0.0012, "tau_plus": 16.8,
            "tau_minus": 33.7, "w_min": 0.0, "w_max": 0.1}
    spread = {"dist": "uniform", "low": 0.0, "high": 8.0}
    doc = document(
        [encoder("inp", "poisson", 20, rate_hz=50.0), lif("s1", 5), lif("s2", 5),
         lif("p1", 5), lif("p2", 5)],
        [connection("a", "inp", "s1", weight=0.05, delay_ms=1.5),
         connection("b", "inp", "s2", weight=0.05, delay_ms=spread),
         connection("c", "inp", "p1", weight=0.05, delay_ms=2.0, plasticity=stdp),
         connection("d", "inp", "p2", weight=0.05, delay_ms=spread, plasticity=stdp)],
        duration_ms=60.0, count_bin_ms=0.1)
    loihi = load_profiles()["loihi"].to_dict()
    doc["energy"] = {"profiles": {"fine": {
        **loihi, "time_step_ms": {"value": 0.1, "source": "test", "note": "test"}}}}
    result = simulate(Project.from_dict(doc))
    pops = result.counts[result.counts["kind"] == "population"]
    assert pops["spikes"].sum() == 0
    assert (pops.groupby("node", observed=True)["active_updates"].sum() > 100).all()
    assert (pops["hw_active_0.1ms"] == pops["active_updates"]).all()
    assert (pops["hw_active_1ms"] <= pops["hw_updates_1ms"]).all()
