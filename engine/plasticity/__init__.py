"""The registry of plasticity rules: one module per rule (see :mod:`engine.plasticity.base`).

A rule's code in a compiled network (``CompiledNetwork.proj_rule``) is its position in
:data:`RULES` plus one; 0 is a static projection. Append new rules, never reorder.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from engine.params import ModelSpec
from engine.plasticity import stdp, teaching

RULES: tuple[ModuleType, ...] = (stdp, teaching)
NO_PLASTICITY = 0
#: name -> ModelSpec, in registry order.
PLASTICITY_RULES: dict[str, ModelSpec] = {m.SPEC.name: m.SPEC for m in RULES}
#: name -> rule code.
RULE_CODES: dict[str, int] = {m.SPEC.name: code + 1 for code, m in enumerate(RULES)}


def rule_module(code: int) -> ModuleType:
    """The module of the rule with code ``code`` (>= 1)."""
    return RULES[code - 1]


def resolved(plasticity: dict) -> dict:
    """A projection's ``plasticity`` object with every default filled in (no "rule")."""
    spec = PLASTICITY_RULES[plasticity["rule"]]
    return spec.resolve({k: v for k, v in plasticity.items() if k != "rule"})


def pack(plasticity: dict) -> tuple[int, np.ndarray]:
    """(rule code, packed parameters) of a projection's ``plasticity`` object."""
    name = plasticity["rule"]
    return RULE_CODES[name], RULES[RULE_CODES[name] - 1].pack(resolved(plasticity))


def bounds(plasticity: dict) -> tuple[float, float]:
    """(w_min, w_max) of a projection's plasticity rule (defaults filled in)."""
    values = resolved(plasticity)
    return float(values["w_min"]), float(values["w_max"])


def packed_bounds(code: int, par: np.ndarray) -> tuple[float, float]:
    """(w_min, w_max) from a packed parameter row of rule ``code``."""
    module = rule_module(code)
    return float(par[module.W_MIN]), float(par[module.W_MAX])
