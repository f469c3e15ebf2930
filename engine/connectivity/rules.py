"""The connectivity rules a projection may use, and their parameters (data only, no numba).

Each entry is a :class:`~engine.params.ModelSpec`; :mod:`engine.connectivity.generate` draws
the synapses. Weights are R*I in mV, as everywhere in the engine.
"""

from __future__ import annotations

from engine.params import ModelSpec, ParamSpec

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
