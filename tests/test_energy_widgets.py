"""EnergyHeatmap and ScenarioMatrix built from real simulation results (no browser)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from bokeh.models import LinearColorMapper, LogColorMapper, Range1d

from engine.energy import model as E
from engine.energy.tables import energy_table, table_from_breakdown
from engine.evaluation.scenario_fit import (
    Thresholds,
    apply_scenario,
    matrices_from_csv,
    run_scenarios,
)
from engine.simulator import simulate
from tests.test_scenarios import DENSE, SPARSE, tiny_project
from widgets.energy_heatmap import EnergyHeatmap
from widgets.scenario_matrix import ScenarioMatrix


@pytest.fixture(scope="module")
def result():
    return simulate(apply_scenario(tiny_project(), DENSE))


@pytest.fixture(scope="module")
def report():
    return run_scenarios(tiny_project(), [SPARSE, DENSE], max_workers=2)


def _heatmap(result, **params) -> EnergyHeatmap:
    """A heatmap of ``result`` priced on every built-in profile (the workbench prices only
    the profiles shown, on demand)."""
    tables = {pid: energy_table(result.counts, profile, result.bin_ms, result.duration_ms)
              for pid, profile in E.load_profiles().items()}
    return EnergyHeatmap(tables=tables, bin_ms=result.bin_ms, duration_ms=result.duration_ms,
                         **params)


def _mapper(widget: EnergyHeatmap, key: str = "heatmap_a"):
    glyph = widget.figures[key].renderers[0].glyph
    return glyph.fill_color["transform"]


def test_heatmap_cells_sum_to_the_engine_totals(result):
    widget = _heatmap(result, window_ms=50.0)
    assert widget.profile == "loihi" and widget.layers() == ["hid", "out"]
    breakdown = E.energy_of_result(result, E.load_profiles()["loihi"])
    pops = breakdown[breakdown["kind"] == "population"]
    source = widget.heatmap_source.data
    assert np.sum(source["value"]) == pytest.approx(pops["total_j"].sum())
    assert set(source["layer"]) == {"hid", "out"}
    # Hover data: counts and breakdown text per cell.
    assert np.sum(source["spikes"]) == result.counts.query("kind == 'population'")["spikes"].sum()
    assert all(t.endswith("J") for t in source["synaptic_text"])
    totals = widget.totals()
    assert totals["total_j"] == pytest.approx(breakdown["total_j"].sum())
    assert totals["per_inference_j"] == pytest.approx(totals["total_j"] / 6.0)
    assert totals["power_w"] == pytest.approx(totals["total_j"] / 0.3)


def test_profile_switch_changes_the_plotted_values(result):
    widget = _heatmap(result)
    loihi = np.asarray(widget.heatmap_source.data["value"]).copy()
    widget.profile = "spinnaker"
    spinnaker = np.asarray(widget.heatmap_source.data["value"])
    assert spinnaker.sum() > 100 * loihi.sum()  # 13 nJ vs 23.6 pJ per synaptic event
    html = widget._body.objects[0].objects[0].object
    assert 'data-profile="spinnaker"' in html


def test_comparison_shares_one_colour_scale(result):
    widget = _heatmap(result, compare_profile="cmos45_fp32")
    assert widget.compare_source is not None
    a, b = _mapper(widget, "heatmap_a"), _mapper(widget, "heatmap_b")
    assert a is b
    both = np.concatenate([widget.heatmap_source.data["value"],
                           widget.compare_source.data["value"]])
    assert a.high == pytest.approx(both.max())
    texts = [p.objects[0].object for p in widget._body.objects]
    assert "ss-energy-ratio" in texts[1] and "not counted" in texts[1].lower()
    widget.compare_profile = ""
    assert widget.compare_source is None and len(widget._body.objects) == 1


def test_log_toggle_switches_the_colour_mapper(result):
    widget = _heatmap(result, log_scale=True)
    assert isinstance(_mapper(widget), LogColorMapper)
    widget.log_scale = False
    mapper = _mapper(widget)
    assert isinstance(mapper, LinearColorMapper) and not isinstance(mapper, LogColorMapper)
    assert mapper.low == 0.0


def test_component_and_shared_x_range(result):
    x_range = Range1d(0, 300)
    widget = _heatmap(result, x_range=x_range, component="static_j")
    assert widget.figures["heatmap_a"].x_range is x_range
    assert np.allclose(widget.heatmap_source.data["value"], 0.0)  # Loihi: no static figure
    widget.component = "synaptic_j"
    assert np.sum(widget.heatmap_source.data["value"]) > 0


def test_heatmap_from_a_precomputed_breakdown(result):
    profile = E.load_profiles()["loihi"]
    breakdown = E.energy_of_result(result, profile)
    widget = EnergyHeatmap(tables={"loihi": table_from_breakdown(breakdown, "loihi")},
                           bin_ms=result.bin_ms, duration_ms=result.duration_ms)
    assert widget.profile == "loihi"
    assert widget.totals()["total_j"] == pytest.approx(breakdown["total_j"].sum())


def test_scenario_matrix_renders_ratings_and_re_rates(report):
    widget = ScenarioMatrix(report=report)
    html = widget._tables.object
    cells = re.findall(r'data-testid="ss-fit-(criteria|hardware)-(\w+)-(\w+)" '
                       r'data-rating="(\w+)"', html)
    assert len(cells) == len(widget.criteria) + len(widget.hardware)
    expected = {(m, s, c): r for m, s, c, r in cells}
    for row in widget.criteria.itertuples():
        assert expected[("criteria", row.scenario, row.column)] == row.rating
    # Editing a threshold re-rates without simulating.
    before = widget.criteria.set_index(["scenario", "column"])["rating"]
    widget.threshold_widgets["ratio_recommended"].value = 1e6
    widget.threshold_widgets["ratio_cautious"].value = 1e7
    after = widget.criteria.set_index(["scenario", "column"])["rating"]
    assert (after.xs("snn_ann_ratio", level="column") == "recommended").all()
    assert widget.thresholds.ratio_cautious == 1e7
    assert not before.equals(after) or (before.xs("snn_ann_ratio", level="column")
                                        == "recommended").all()


def test_scenario_matrix_rejects_bad_thresholds_and_exports_csv(report):
    widget = ScenarioMatrix(report=report, thresholds=Thresholds())
    widget.threshold_widgets["sparsity_cautious"].value = 2.0
    assert "thresholds.sparsity_cautious" in widget.error
    assert widget.thresholds.sparsity_cautious == Thresholds().sparsity_cautious
    assert 'data-testid="ss-fit-error"' in widget._tables.object
    crit, hw = matrices_from_csv(widget._csv().getvalue())
    assert len(crit) == len(widget.criteria) and len(hw) == len(widget.hardware)
    empty = ScenarioMatrix()
    assert "No scenario run yet" in empty._tables.object
