"""Input encoders, one module per encoder (see :mod:`engine.encoders.base` for what a module
holds), and the functions the build step calls through this registry.

``from engine.encoders import ...`` keeps working for the names of the former single module.
"""

from __future__ import annotations

from types import ModuleType

from engine.encoders import (
    constant_current,
    current_table,
    dataset,
    dataset_current,
    delta,
    dvs,
    latency,
    poisson,
    regular,
    spike_times,
    step_current,
)
from engine.encoders.base import (
    BLOCK_STEPS,
    BlockSpikeSource,
    CurrentSchedule,
    EventBounds,
    FixedSpikeSource,
    SpikeSource,
    time_index,
)
from engine.encoders.delta import _delta_events
from engine.encoders.poisson import PoissonSource
from engine.encoders.regular import RegularSource
from engine.encoders.samples import DatasetWindows, dataset_windows
from engine.params import ModelSpec

__all__ = ["BLOCK_STEPS", "CURRENT_ENCODERS", "ENCODER_MODELS", "SPIKE_ENCODERS",
           "BlockSpikeSource", "CurrentSchedule", "DatasetWindows", "EventBounds",
           "FixedSpikeSource", "PoissonSource", "RegularSource", "SpikeSource", "_delta_events",
           "dataset_windows", "encoder", "event_bounds", "make_current_schedule",
           "make_spike_source", "time_index"]

#: Spike encoders and current encoders in palette order.
SPIKE_MODULES: tuple[ModuleType, ...] = (poisson, regular, spike_times, latency, delta, dataset,
                                          dvs)
CURRENT_MODULES: tuple[ModuleType, ...] = (constant_current, step_current, current_table,
                                           dataset_current)
BY_NAME: dict[str, ModuleType] = {m.SPEC.name: m for m in SPIKE_MODULES + CURRENT_MODULES}

SPIKE_ENCODERS: dict[str, ModelSpec] = {m.SPEC.name: m.SPEC for m in SPIKE_MODULES}
CURRENT_ENCODERS: dict[str, ModelSpec] = {m.SPEC.name: m.SPEC for m in CURRENT_MODULES}
ENCODER_MODELS: dict[str, ModelSpec] = {**SPIKE_ENCODERS, **CURRENT_ENCODERS}


def encoder(name: str) -> ModuleType:
    """The module of encoder ``name`` (KeyError when unknown)."""
    return BY_NAME[name]


def make_spike_source(model: ModelSpec, size: int, values: dict, dt_ms: float, seed: int,
                      k_end: int) -> SpikeSource:
    """Build the spike source of an encoder node.

    Parameters
    ----------
    model
        Registry entry of the encoder.
    size
        Number of neurons of the node.
    values
        Resolved parameters (defaults filled in).
    dt_ms, seed, k_end
        Time step, seed of this node's randomness, last time index of the run.
    """
    if model.name not in SPIKE_ENCODERS:
        raise KeyError(f"no spike source for encoder model {model.name!r}")
    return BY_NAME[model.name].source(size, values, dt_ms, seed, k_end)


def event_bounds(model: ModelSpec, size: int, values: dict, dt_ms: float,
                 n_steps: int) -> EventBounds:
    """Upper bounds on the events of a spike encoder, computed without generating them.

    Parameters
    ----------
    model
        Registry entry of the encoder.
    size, values, dt_ms
        Neurons, resolved parameters and time step, as for :func:`make_spike_source`.
    n_steps
        Last time index of the run.
    """
    if model.name not in SPIKE_ENCODERS:
        raise KeyError(f"no spike source for encoder model {model.name!r}")
    return BY_NAME[model.name].bounds(size, values, dt_ms, n_steps)


def make_current_schedule(model: ModelSpec, values: dict, dt_ms: float) -> CurrentSchedule:
    """The amplitude schedule (mV) of a current encoder."""
    if model.name not in CURRENT_ENCODERS:
        raise KeyError(f"no current schedule for encoder model {model.name!r}")
    return BY_NAME[model.name].schedule(values, dt_ms)
