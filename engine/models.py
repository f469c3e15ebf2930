"""Registries of neuron models, encoders, plasticity rules and connectivity rules.

Each entry is a :class:`~engine.params.ModelSpec`: the single source of truth for parameter
names, units, defaults, valid ranges and docs. The validator, the build step, the inspector form
and the exporters all read these registries; nothing else declares parameters. Neuron models
live one per file in :mod:`engine.neurons`, encoders in :mod:`engine.encoders`, plasticity
rules in :mod:`engine.plasticity`; their registries are re-exported here.

Units: times in ms, voltages in mV, rates in Hz. Input currents and synaptic weights are
expressed as R*I in mV (the depolarisation a current would hold at steady state), the convention
of Brian2's CUBA example and of NIR's LIF with r = 1.
"""

from __future__ import annotations

from engine.encoders import CURRENT_ENCODERS, ENCODER_MODELS, SPIKE_ENCODERS
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
# One file per encoder in engine/encoders/; these are that registry's.

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
