"""The registry of neuron models: one module per model (see :mod:`engine.neurons.base` for
what a model module holds).

A model's type code, shared by :mod:`engine.core.build` and the kernel, is its position in
:data:`MODELS`: add a model by writing its file and appending it here (never reorder, or
compiled networks and numba caches of the old order would disagree; the order is checked
against :data:`engine.core.kernels.N_SLOTS`).
"""

from __future__ import annotations

from types import ModuleType

from engine.neurons import adaptive_lif, integrate_and_fire, izhikevich, leaky_integrator, lif
from engine.params import ModelSpec

MODELS: tuple[ModuleType, ...] = (lif, izhikevich, integrate_and_fire, adaptive_lif,
                                  leaky_integrator)

#: name -> ModelSpec, in registry order (the palette's order).
NEURON_MODELS: dict[str, ModelSpec] = {m.SPEC.name: m.SPEC for m in MODELS}
#: name -> model module.
BY_NAME: dict[str, ModuleType] = {m.SPEC.name: m for m in MODELS}
#: name -> type code (position in MODELS).
TYPE_CODES: dict[str, int] = {m.SPEC.name: code for code, m in enumerate(MODELS)}


def model(name: str) -> ModuleType:
    """The module of neuron model ``name`` (KeyError when unknown)."""
    return BY_NAME[name]


def emits_spikes(name: str) -> bool:
    """Whether neurons of model ``name`` can spike (a leaky integrator cannot)."""
    return bool(BY_NAME[name].EMITS_SPIKES)
