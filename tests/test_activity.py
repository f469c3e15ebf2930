"""engine.analysis.activity: a run binned into playback frames, checked against hand counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.analysis.activity import activity_window_ms, network_activity, run_activity
from engine.simulator import simulate
from tests.helpers import connection, encoder, lif, project


def _counts(rows: dict[str, list[int]], bin_ms: float) -> pd.DataFrame:
    """A counts table (bin-major, as the simulator writes it) from per-node bin counts."""
    names = list(rows)
    n_bins = len(next(iter(rows.values())))
    return pd.DataFrame({
        "bin_start_ms": np.repeat(np.arange(n_bins) * bin_ms, len(names)),
        "node": pd.Categorical(np.tile(names, n_bins), categories=names),
        "spikes": np.array([rows[n][b] for b in range(n_bins) for n in names]),
    })


def _projection_counts(rows: dict[str, tuple[str, list[int]]], bin_ms: float) -> pd.DataFrame:
    ids = list(rows)
    n_bins = len(rows[ids[0]][1])
    return pd.DataFrame({
        "bin_start_ms": np.repeat(np.arange(n_bins) * bin_ms, len(ids)),
        "projection": np.tile(ids, n_bins),
        "source": np.tile([rows[p][0] for p in ids], n_bins),
        "syn_events": np.array([rows[p][1][b] for b in range(n_bins) for p in ids]),
    })


def test_window_default_is_at_least_10_ms_and_whole_bins():
    assert activity_window_ms(1000.0, 1.0) == 10.0
    assert activity_window_ms(10_000.0, 1.0) == 50.0      # duration / 200
    assert activity_window_ms(1000.0, 3.0) == 12.0        # an even number of 3 ms bins
    with pytest.raises(ValueError, match="bin_ms"):
        activity_window_ms(100.0, 0.0)


def test_frames_match_a_hand_count():
    # 20 bins of 1 ms; node "a" (2 neurons) spikes in bins 0, 4, 5, 5 and 19; "b" is silent.
    spikes_a = [0] * 20
    spikes_a[0], spikes_a[4], spikes_a[5], spikes_a[19] = 1, 1, 2, 1
    counts = _counts({"a": spikes_a, "b": [0] * 20}, 1.0)
    events = [3 * s for s in spikes_a]  # a -> b reaches 3 synapses per spike
    proj = _projection_counts({"ab": ("a", events)}, 1.0)
    act = network_activity(counts, proj, {"a": 2, "b": 5}, duration_ms=20.0, bin_ms=1.0,
                           window_ms=4.0)
    assert act.window_ms == 4.0 and act.step_ms == 1.0
    np.testing.assert_array_equal(act.times_ms, np.arange(21.0))
    # Frame at t = 5 ms: window [3, 7) holds bins 3..6 -> 1 + 2 = 3 spikes of 2 neurons in 4 ms.
    k = act.frame_at(5.0)
    assert k == 5
    assert act.rates_hz["a"][k] == pytest.approx(3 / 2 / 0.004)
    assert act.events["ab"][k] == 9 and act.spikes["ab"][k] == 3
    # Frame at t = 0: window clipped to [0, 2): one spike in 2 ms, not biased low.
    assert act.rates_hz["a"][0] == pytest.approx(1 / 2 / 0.002)
    # Frame at t = 20 (the end): [18, 20) holds the spike of bin 19.
    assert act.rates_hz["a"][20] == pytest.approx(1 / 2 / 0.002)
    # Frame at t = 12: nothing in [10, 14).
    assert act.rates_hz["a"][12] == 0.0
    np.testing.assert_array_equal(act.rates_hz["b"], 0.0)
    assert act.max_rate_hz == pytest.approx(375.0)  # 3 spikes of 2 neurons in 4 ms
    assert act.frame_at(-3.0) == 0 and act.frame_at(99.0) == 20 and act.frame_at(5.4) == 5


def test_nodes_without_count_rows_are_silent_and_windows_round_to_bins():
    counts = _counts({"a": [1, 0, 0, 0, 0, 0]}, 5.0)
    act = network_activity(counts, pd.DataFrame(columns=["bin_start_ms", "projection",
                                                         "source", "syn_events"]),
                           {"a": 1, "gone": 3}, duration_ms=30.0, bin_ms=5.0,
                           projection_sources={"p": "a"}, window_ms=12.0)
    assert act.window_ms == 20.0   # 12 ms rounded up to an even number of 5 ms bins
    assert act.step_ms == 5.0
    np.testing.assert_array_equal(act.rates_hz["gone"], 0.0)
    np.testing.assert_array_equal(act.events["p"], 0)      # no count rows: no events
    assert act.spikes["p"][0] == 1                          # but its source's spikes


@pytest.mark.slow
def test_a_simulated_run_agrees_with_its_spikes():
    """Spikes per window of a real run (counts) equal a count of the spikes table.

    The simulator counts a spike in the bin of the step that produced it, and stamps it with
    that step's end: a window ``[a, b)`` of bins holds the spikes with times in ``(a, b]``.
    """
    times = [[2.0, 3.0, 31.0, 32.0, 33.0, 34.0], [32.5, 70.0]]
    proj = project([encoder("src", "spike_times", size=2, times_ms=times), lif("dst", 3)],
                   [connection("p", "src", "dst", weight=0.5)], duration_ms=80.0,
                   count_bin_ms=1.0)
    result = simulate(proj)
    act = run_activity(result)
    assert act.window_ms == 10.0
    spikes = result.spikes
    for t in (0.0, 5.0, 32.5, 35.0, 70.0, 80.0):
        k = act.frame_at(t)
        t_k = act.times_ms[k]
        lo, hi = max(t_k - 5.0, 0.0), min(t_k + 5.0, result.duration_ms)
        inside = spikes[(spikes["time_ms"] > lo) & (spikes["time_ms"] <= hi)
                        & (spikes["population"] == "src")]
        assert act.spikes["p"][k] == len(inside), t
        assert act.rates_hz["src"][k] == pytest.approx(len(inside) / 2 / ((hi - lo) / 1000))
        # all_to_all onto 3 neurons: every presynaptic spike is 3 synaptic events.
        assert act.events["p"][k] == 3 * len(inside), t
    assert act.rates_hz["src"][act.frame_at(32.5)] > act.rates_hz["src"][act.frame_at(50.0)]
    assert act.sources == {"p": "src"}
