"""A step / pulse of input current between two times."""

from __future__ import annotations

from engine.encoders.base import CurrentSchedule, schedule_from_rows, stop_after_start
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    "step_current", "Step / pulse current",
    "Input of the given amplitude between start_ms and stop_ms, zero otherwise.",
    (
        ParamSpec("amplitude", "mV", 20.0, "Input amplitude.", minimum=-1e4, maximum=1e4),
        ParamSpec("start_ms", "ms", 50.0, "Onset.", minimum=0.0),
        ParamSpec("stop_ms", "ms", 150.0, "Offset.", minimum=0.0),
    ),
)
check = stop_after_start


def schedule(values: dict, dt_ms: float) -> CurrentSchedule:
    return schedule_from_rows([(0.0, 0.0), (values["start_ms"], values["amplitude"]),
                               (values["stop_ms"], 0.0)], dt_ms)
