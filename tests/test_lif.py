"""LIF neuron against its analytic solution."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.simulator import simulate
from tests.helpers import connection, encoder, lif, monitor, project

TEACHING = dict(tau_m=10.0, v_rest=-60.0, v_reset=-60.0, v_thresh=-50.0, t_ref=5.0,
                v_init=-60.0)


def single_neuron(amplitude: float, duration_ms: float = 500.0, dt_ms: float = 0.1, **params):
    values = {**TEACHING, **params}
    return project(
        [encoder("drive", "constant_current", amplitude=amplitude), lif("n", **values),
         monitor("vm", "n")],
        [connection("in", "drive", "n")], duration_ms=duration_ms, dt_ms=dt_ms)


@pytest.mark.parametrize("amplitude", [10.5, 12.0, 15.0, 25.0, 60.0])
@pytest.mark.parametrize("dt_ms", [0.1, 0.01])
def test_period_matches_analytic_solution(amplitude, dt_ms):
    result = simulate(single_neuron(amplitude, dt_ms=dt_ms))
    times = result.spikes["time_ms"].to_numpy()
    first = 10.0 * math.log(amplitude / (amplitude - 10.0))
    period = 5.0 + first
    assert len(times) >= 3
    # The spike is labelled on the first grid point after the crossing.
    assert first <= times[0] + 1e-9 < first + dt_ms + 1e-9
    assert np.all(np.abs(np.diff(times) - period) <= dt_ms + 1e-9)
    expected = 1 + math.floor((500.0 - times[0]) / (math.ceil(period / dt_ms - 1e-9) * dt_ms))
    assert len(times) == expected


@pytest.mark.parametrize("amplitude", [2.0, 9.9, 10.0])
def test_no_spike_at_or_below_rheobase(amplitude):
    result = simulate(single_neuron(amplitude))
    assert result.spikes.empty


def test_membrane_relaxes_to_rest_plus_input():
    result = simulate(single_neuron(2.0, duration_ms=200.0))
    v = result.traces["vm"].values["v"][:, 0]
    t = result.traces["vm"].time_ms
    expected = -60.0 + 2.0 * (1.0 - np.exp(-t / 10.0))
    np.testing.assert_allclose(v, expected, atol=1e-9)
    assert abs(v[-1] - (-58.0)) < 1e-6


def test_exponential_synaptic_current_psp_is_exact():
    """One input spike: v(t) follows the closed-form PSP of an exponential current."""
    tau_m, tau_s, w = 10.0, 5.0, 3.0
    p = project(
        [encoder("pre", "spike_times", times_ms=[[10.0]]),
         lif("n", tau_m=tau_m, v_rest=-70.0, v_init=-70.0, tau_syn_exc=tau_s),
         monitor("vm", "n", variables=("v", "i_exc"))],
        [connection("syn", "pre", "n", weight=w)], duration_ms=60.0)
    rec = simulate(p).traces["vm"]
    t = rec.time_ms - 10.0
    after = t > 0
    psp = w * tau_s / (tau_s - tau_m) * (np.exp(-t / tau_s) - np.exp(-t / tau_m))
    np.testing.assert_allclose(rec.values["v"][after, 0], -70.0 + psp[after], atol=1e-9)
    np.testing.assert_allclose(rec.values["v"][~after, 0], -70.0, atol=1e-12)


def test_refractory_clamps_membrane():
    result = simulate(single_neuron(40.0, duration_ms=100.0))
    rec = result.traces["vm"]
    first = result.spikes["time_ms"].iloc[0]
    clamp = (rec.time_ms >= first) & (rec.time_ms <= first + 5.0 + 1e-9)
    assert np.all(rec.values["v"][clamp, 0] == -60.0)
    assert rec.values["v"][np.searchsorted(rec.time_ms, first + 5.1 - 1e-9), 0] > -60.0
