"""Comparing two runs: synchrony, the comparison table, its HTML and the Compare tab's data."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.analysis.run_comparison import common_bin_ms, comparison_table, run_statistics
from engine.project import Project
from engine.simulator import simulate
from engine.spike_stats import population_synchrony
from widgets.run_comparison import comparison_table_html, format_stat, relative_change

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


def _spikes(times, neurons, pop="a") -> pd.DataFrame:
    order = np.argsort(times, kind="stable")
    return pd.DataFrame({"time_ms": np.asarray(times, float)[order],
                         "population": pd.Categorical([pop] * len(times)),
                         "neuron": np.asarray(neurons, np.int32)[order]})


# ---------------------------------------------------------------------------- synchrony
def test_synchrony_is_one_for_lockstep_and_small_for_independent_neurons():
    n, duration = 100, 2000.0
    beats = np.arange(10.0, duration, 100.0)
    lockstep = _spikes(np.repeat(beats, n), np.tile(np.arange(n), len(beats)))
    assert population_synchrony(lockstep, {"a": n}, duration)[0] == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    times, ids = [], []
    for i in range(n):
        t = rng.uniform(0, duration, rng.poisson(20))
        times += list(t)
        ids += [i] * len(t)
    chi = population_synchrony(_spikes(times, ids), {"a": n}, duration)[0]
    assert 0.5 / math.sqrt(n) < chi < 2.0 / math.sqrt(n)


def test_synchrony_is_undefined_when_silent_or_too_short():
    one = _spikes([5.0, 15.0], [0, 0])
    chi = population_synchrony(one, {"a": 1, "silent": 10}, 100.0)
    assert chi[0] == pytest.approx(1.0)  # one neuron is in step with itself
    assert math.isnan(chi[1])
    assert np.isnan(population_synchrony(one, {"a": 1}, 7.0)).all()  # one bin only
    with pytest.raises(ValueError, match="bin_ms"):
        population_synchrony(one, {"a": 1}, 100.0, bin_ms=0)


# ---------------------------------------------------------------------------- the table
def test_run_statistics_blanks_unrecorded_populations():
    spikes = _spikes([1.0, 2.0, 3.0], [0, 1, 0])
    stats = run_statistics(spikes, {"a": 2, "b": 3}, 100.0, recorded=["a"])
    assert list(stats["population"]) == ["a", "b"]
    assert stats.loc[0, "spikes"] == 3 and stats.loc[0, "mean_rate_hz"] == pytest.approx(15.0)
    assert list(stats["recorded"]) == [True, False]
    assert stats.loc[1, ["spikes", "mean_rate_hz", "cv_isi", "synchrony"]].isna().all()


def test_comparison_table_values_changes_and_missing_populations():
    pinned = run_statistics(_spikes([1.0, 2.0, 3.0, 4.0], [0, 1, 0, 1]),
                            {"a": 2, "gone": 1}, 100.0)
    current = run_statistics(_spikes([1.0], [0], pop="new"), {"new": 1, "a": 2}, 50.0)
    table = comparison_table(pinned, current)
    assert list(table["population"]) == ["new", "a", "gone"]
    a = table.set_index("population").loc["a"]
    assert (a["spikes_pinned"], a["spikes_current"], a["spikes_change"]) == (4, 0, -4)
    assert a["mean_rate_hz_pinned"] == pytest.approx(20.0)
    assert a["mean_rate_hz_change"] == pytest.approx(-20.0)
    new = table.set_index("population").loc["new"]
    assert math.isnan(new["spikes_pinned"]) and new["spikes_current"] == 1
    assert math.isnan(new["spikes_change"])
    assert math.isnan(table.set_index("population").loc["gone", "size_current"])


def test_common_bin_ms():
    assert common_bin_ms(1000.0, 500.0) == 5.0
    assert common_bin_ms(100.0) == 1.0
    assert common_bin_ms(0.0) == 1.0


def test_table_html_escapes_and_carries_values():
    pinned = run_statistics(_spikes([1.0, 2.0], [0, 0], pop="<b>x</b>"), {"<b>x</b>": 1}, 100.0)
    current = run_statistics(_spikes([1.0, 2.0, 3.0], [0, 0, 0], pop="<b>x</b>"),
                             {"<b>x</b>": 1}, 100.0)
    text = comparison_table_html(comparison_table(pinned, current), "run 1 <pinned>", "run 2")
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert "run 1 &lt;pinned&gt;" in text
    assert 'data-metric="spikes" data-side="change" data-value="1">+1 (+50 %)' in text
    assert 'data-metric="spikes" data-side="pinned" data-value="2">2<' in text


def test_number_formatting():
    assert format_stat(1234.0, 0) == "1,234"
    assert format_stat(-0.5, 2, signed=True) == "−0.50"
    assert format_stat(float("nan"), 2) == ""
    assert relative_change(10.0, 12.0) == " (+20 %)"
    assert relative_change(0.0, 12.0) == ""


# ---------------------------------------------------------------------------- the tab
def _cuba(duration_ms: float, **exc_params) -> dict:
    doc = json.loads((SAMPLES / "cuba_balanced.json").read_text())
    doc["simulation"]["duration_ms"] = duration_ms
    doc["network"]["nodes"][0]["params"].update(exc_params)
    return doc


@pytest.mark.slow
def test_compare_tab_pins_compares_and_drops_with_the_project():
    from workbench.compare_view import CompareTab
    from workbench.results_view import ResultsView
    from workbench.view_protocol import ViewContext

    results = ResultsView(views=[])
    tab = CompareTab(ViewContext(shown_run=results.shown_run))
    results.add_view(tab)
    assert tab.header_tools() in results._header_row.objects

    def run(doc: dict):
        results.run_started(doc)
        result = simulate(Project.from_dict(copy.deepcopy(doc)))
        assert results.show(result)
        tab.set_result(result)  # what opening the Compare tab does
        return result

    first = run(_cuba(300.0))
    tab.pin()
    assert tab.pinned is tab.current and 'data-run="1"' in tab.pin_status.object
    assert 'data-state="same"' in tab.status.object and tab.diff.object == ""
    second = run(_cuba(200.0, tau_m=10.0))
    assert tab.pinned.spikes is first.spikes and tab.current.spikes is second.spikes
    assert 'data-state="compared"' in tab.status.object
    assert "duration: 300 → 200 ms" in tab.diff.object
    assert "exc.tau_m: 20 → 10 ms" in tab.diff.object
    table = tab.table.table.set_index("population")
    assert table.loc["exc", "spikes_pinned"] == (first.spikes["population"] == "exc").sum()
    assert table.loc["exc", "spikes_current"] == (second.spikes["population"] == "exc").sum()
    assert tab.rates.pinned is not None and tab.rates.current is not None
    assert (tab.x_range.start, tab.x_range.end) == (0.0, 300.0)
    assert tab.pinned_raster.spikes is first.spikes
    # The pin survives another run; the pinned snapshot holds no traces or weights.
    run(_cuba(100.0))
    assert tab.pinned.stamp.run == 1 and tab.current.stamp.run == 3
    assert 0 < tab.pinned.nbytes <= first.spikes.memory_usage().sum()
    assert tab.download.filename == "CUBA_balanced_network-run3-comparison-vs-run1.csv"
    assert tab._table_csv().read().startswith("population,size_pinned,size_current,")
    # Another project: the pin is dropped, and the bar says so.
    results.clear()
    tab.clear()
    assert tab.pinned is None and "was dropped" in tab.pin_status.object
    assert tab.table.table is None and not tab._plots.visible
    tab.pin()
    assert "Nothing to pin yet" in tab.pin_status.object and tab.pinned is None
