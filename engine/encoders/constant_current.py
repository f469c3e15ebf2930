"""A constant input current (as R*I, mV)."""

from __future__ import annotations

from engine.encoders.base import CurrentSchedule, schedule_from_rows
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    "constant_current", "Constant current",
    "A constant input (as R*I, mV) to every target neuron, scaled by the projection weight.",
    (ParamSpec("amplitude", "mV", 20.0, "Input amplitude.", minimum=-1e4, maximum=1e4),),
)


def schedule(values: dict, dt_ms: float) -> CurrentSchedule:
    return schedule_from_rows([(0.0, values["amplitude"])], dt_ms)
