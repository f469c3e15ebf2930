"""A piecewise-constant input current from [time_ms, amplitude] rows."""

from __future__ import annotations

from engine.encoders.base import CurrentSchedule, schedule_from_rows
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    "current_table", "Current from data",
    "Piecewise-constant input from [time_ms, amplitude_mV] rows (zero before the first).",
    (ParamSpec("table", "mV", [[0.0, 0.0], [50.0, 15.0]], "[time_ms, amplitude] rows.",
               kind="table", minimum=-1e4, maximum=1e4),),
)


def schedule(values: dict, dt_ms: float) -> CurrentSchedule:
    return schedule_from_rows([(0.0, 0.0)] + [(t, a) for t, a in values["table"]], dt_ms)
