"""The kernel's cheaper loops (no external input, no refractoriness) compute what the general
loop computes, bit for bit (issue 23: a feature costs only where it is used)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.simulator import simulate
from tests.helpers import connection, encoder, lif, monitor, project

MODELS = {
    "lif": dict(t_ref=2.0),
    "if": dict(t_ref=2.0),
    "adaptive_lif": dict(t_ref=2.0),
    "izhikevich": {},
    "li": {},
}


def network(model: str, params: dict, bias: float):
    """A population driven by Poisson spikes (exc and inh), and an unconnected LIF whose
    constant input is ``bias``: a non-zero bias makes the run have external input, so
    every population goes through the general loop (with an input of 0 for the first)."""
    population = {"id": "n", "kind": "population", "model": model, "size": 20,
                  "params": params}
    return project(
        [encoder("drive", "poisson", size=50, rate_hz=200.0), population,
         encoder("bias", "constant_current", amplitude=bias), lif("other"),
         monitor("vm", "n", variables=("v", "i_exc", "i_inh"), neurons=tuple(range(20)))],
        [connection("e", "drive", "n", weight=2.0, rule="fixed_probability",
                   connectivity={"p": 0.5}),
         connection("i", "drive", "n", weight=-1.5, rule="fixed_probability",
                   connectivity={"p": 0.3}, receptor="inh"),
         connection("b", "bias", "other")],
        duration_ms=200.0)


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("refractory", [False, True])
def test_loops_without_input_or_refractoriness_match_the_general_loop(model, refractory):
    params = MODELS[model] if refractory else {}
    if refractory and not params:
        pytest.skip(f"{model} has no refractory period")
    if not refractory and "t_ref" in MODELS[model]:
        params = {"t_ref": 0.0}
    cheap = simulate(network(model, params, bias=0.0))
    general = simulate(network(model, params, bias=5.0))
    mine = cheap.spikes[cheap.spikes["population"] == "n"]
    theirs = general.spikes[general.spikes["population"] == "n"]
    assert len(mine) > 0 or model == "li"  # the leaky integrator, the only model that never spikes
    assert np.array_equal(mine["time_ms"].to_numpy(), theirs["time_ms"].to_numpy())
    assert np.array_equal(mine["neuron"].to_numpy(), theirs["neuron"].to_numpy())
    for var in ("v", "i_exc", "i_inh"):
        assert np.array_equal(cheap.traces["vm"].values[var], general.traces["vm"].values[var])
    counts = [r.counts[r.counts["node"] == "n"]["active_updates"].to_numpy()
              for r in (cheap, general)]
    assert np.array_equal(*counts)
