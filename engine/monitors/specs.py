"""The state monitor node: its models and parameters (what it records, of which neurons, how
often)."""

from __future__ import annotations

from engine.params import ParamSpec

#: Monitor models a project may use.
MONITOR_MODELS = ("state",)
MONITOR_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("variables", "", ["v"], "State variables to record.", kind="str_list"),
    ParamSpec("neurons", "", [0], "Indices of the neurons to record.", kind="int_list",
              minimum=0),
    ParamSpec("interval_ms", "ms", 0.1, "Sampling interval, rounded to a whole number of "
              "steps (at least one).", minimum=0.0, exclusive_minimum=True),
)
