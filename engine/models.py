"""Registries of neuron models, encoders, plasticity rules and connectivity rules.

Each entry is a :class:`~engine.params.ModelSpec`: the single source of truth for parameter
names, units, defaults, valid ranges and docs. The validator, the build step, the inspector form
and the exporters all read these registries; nothing else declares parameters. Neuron models
live one per file in :mod:`engine.neurons`, plasticity rules in :mod:`engine.plasticity`
(their registries are re-exported here as ``NEURON_MODELS`` and ``PLASTICITY_RULES``).

Units: times in ms, voltages in mV, rates in Hz. Input currents and synaptic weights are
expressed as R*I in mV (the depolarisation a current would hold at steady state), the convention
of Brian2's CUBA example and of NIR's LIF with r = 1.
"""

from __future__ import annotations

from engine.neurons import NEURON_MODELS, izhikevich, lif
from engine.params import ModelSpec, ParamSpec
from engine.plasticity import PLASTICITY_RULES

__all__ = ["CONNECTIVITY_RULES", "CURRENT_ENCODERS", "ENCODER_MODELS", "IZHIKEVICH", "LIF",
           "NEURON_MODELS", "PLASTICITY_RULES", "SPIKE_ENCODERS"]

# ---------------------------------------------------------------- neuron models
# One file per model in engine/neurons/; the registry there is the source of this dict.
LIF = lif.SPEC
IZHIKEVICH = izhikevich.SPEC

# ---------------------------------------------------------------- encoders (input nodes)
_START = ParamSpec("start_ms", "ms", 0.0, "Time the input switches on.", minimum=0.0)
_STOP = ParamSpec("stop_ms", "ms", 1e9, "Time the input switches off.", minimum=0.0)

SPIKE_ENCODERS: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec(
        "poisson", "Poisson spike trains",
        "Independent Bernoulli spike trains with probability rate*dt per step (Poisson in the "
        "limit dt -> 0). With a rate table the rate is piecewise constant between its rows.",
        (
            ParamSpec("rate_hz", "Hz", 10.0, "Firing rate of every neuron.", minimum=0.0,
                      maximum=10_000.0),
            ParamSpec("rate_table", "Hz", [], "Optional [time_ms, rate_hz] rows; overrides "
                      "rate_hz from the first row's time on.", kind="table", minimum=0.0,
                      maximum=10_000.0),
            _START, _STOP,
        ),
    ),
    ModelSpec(
        "regular", "Regular spike trains",
        "Every neuron fires at a fixed rate, the first spike at start_ms + phase_ms.",
        (
            ParamSpec("rate_hz", "Hz", 10.0, "Firing rate.", minimum=0.0,
                      exclusive_minimum=True, maximum=10_000.0),
            ParamSpec("phase_ms", "ms", 0.0, "Offset of the first spike.", minimum=0.0),
            ParamSpec("phase_step_ms", "ms", 0.0, "Extra offset per neuron index (a "
                      "travelling wave when > 0).", minimum=0.0),
            _START, _STOP,
        ),
    ),
    ModelSpec(
        "spike_times", "Spike times (data-driven)",
        "Explicit spike times, one list per neuron (e.g. loaded from a recording).",
        (
            ParamSpec("times_ms", "ms", [[10.0]], "One list of spike times per neuron.",
                      kind="spike_lists", minimum=0.0),
        ),
    ),
    ModelSpec(
        "latency", "Latency coding",
        "Each neuron encodes one value x in [0, 1] as the time of a single spike: "
        "t = t_max * (1 - x); values below x_min stay silent. Repeats every period_ms "
        "when period_ms > 0.",
        (
            ParamSpec("values", "", [1.0, 0.5, 0.25], "One value in [0, 1] per neuron.",
                      kind="float_list", minimum=0.0, maximum=1.0),
            ParamSpec("t_max_ms", "ms", 20.0, "Spike time of the smallest value.",
                      minimum=0.0, exclusive_minimum=True),
            ParamSpec("x_min", "", 0.0, "Values below this emit no spike.", minimum=0.0,
                      maximum=1.0),
            ParamSpec("period_ms", "ms", 0.0, "Repetition period (0 = once).", minimum=0.0),
        ),
    ),
    ModelSpec(
        "delta", "Delta (change) coding",
        "Emits an ON spike (neuron 2k) when channel k of the signal rises by threshold since "
        "the last spike of that channel, an OFF spike (neuron 2k+1) when it falls by "
        "threshold, like an event camera. The signal is sampled at its table rows and held.",
        (
            ParamSpec("signal", "", [[0.0, 0.0], [50.0, 1.0], [100.0, 0.0]],
                      "[time_ms, value] rows of one channel (the node has 2 neurons: ON, OFF).",
                      kind="table", minimum=-1e9, maximum=1e9),
            ParamSpec("threshold", "", 0.1, "Change that triggers a spike.", minimum=0.0,
                      exclusive_minimum=True),
            ParamSpec("sample_ms", "ms", 1.0, "Interval at which the held signal is compared.",
                      minimum=0.0, exclusive_minimum=True),
        ),
    ),
)}

CURRENT_ENCODERS: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec(
        "constant_current", "Constant current",
        "A constant input (as R*I, mV) to every target neuron, scaled by the projection weight.",
        (ParamSpec("amplitude", "mV", 20.0, "Input amplitude.", minimum=-1e4, maximum=1e4),),
    ),
    ModelSpec(
        "step_current", "Step / pulse current",
        "Input of the given amplitude between start_ms and stop_ms, zero otherwise.",
        (
            ParamSpec("amplitude", "mV", 20.0, "Input amplitude.", minimum=-1e4, maximum=1e4),
            ParamSpec("start_ms", "ms", 50.0, "Onset.", minimum=0.0),
            ParamSpec("stop_ms", "ms", 150.0, "Offset.", minimum=0.0),
        ),
    ),
    ModelSpec(
        "current_table", "Current from data",
        "Piecewise-constant input from [time_ms, amplitude_mV] rows (zero before the first).",
        (ParamSpec("table", "mV", [[0.0, 0.0], [50.0, 15.0]], "[time_ms, amplitude] rows.",
                   kind="table", minimum=-1e4, maximum=1e4),),
    ),
)}

ENCODER_MODELS: dict[str, ModelSpec] = {**SPIKE_ENCODERS, **CURRENT_ENCODERS}

# ---------------------------------------------------------------- plasticity rules
# One file per rule in engine/plasticity/; PLASTICITY_RULES is that registry's.

# ---------------------------------------------------------------- connectivity rules
CONNECTIVITY_RULES: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec("all_to_all", "All to all", "Every source neuron to every target neuron.", (
        ParamSpec("allow_autapses", "", True, "Allow i -> i when source is target.",
                  kind="bool"),)),
    ModelSpec("one_to_one", "One to one", "Neuron i to neuron i (sizes must match).", ()),
    ModelSpec("fixed_probability", "Fixed probability",
              "Each pair is connected independently with probability p.", (
                  ParamSpec("p", "", 0.1, "Connection probability.", minimum=0.0, maximum=1.0),
                  ParamSpec("allow_autapses", "", True, "Allow i -> i when source is target.",
                            kind="bool"),)),
    ModelSpec("fixed_indegree", "Fixed in-degree",
              "Each target neuron receives exactly k inputs drawn without replacement.", (
                  ParamSpec("k", "", 10, "Inputs per target neuron.", kind="int", minimum=1),
                  ParamSpec("allow_autapses", "", True, "Allow i -> i when source is target.",
                            kind="bool"),)),
    ModelSpec("matrix", "Explicit weight matrix",
              "A dense [source][target] matrix of weights; zero means no synapse. The "
              "projection's weight is ignored.", (
                  ParamSpec("weights", "mV", [[1.0]], "Rows = source neurons, columns = "
                            "target neurons.", kind="matrix", minimum=-1e6, maximum=1e6),)),
)}
