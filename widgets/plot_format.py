"""Pure decisions behind readable result plots: time units, axis ends, row heights, labels.

No Bokeh here: the widgets ask these functions what a result needs and apply the answer, so
the rules are unit-tested without a browser (tests/test_result_views.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Runs longer than this are labelled in seconds (``50000 ms`` reads badly as ``5.000e+4``).
SECONDS_ABOVE_MS = 10_000.0


@dataclass(frozen=True)
class TimeAxis:
    """How to label a time axis whose data are in ms.

    Attributes
    ----------
    unit
        ``"ms"`` or ``"s"``.
    divisor
        Divide a tick (in ms) by this to get the label's number.
    label
        The axis title, e.g. ``"time (s)"``.
    """

    unit: str
    divisor: float

    @property
    def label(self) -> str:
        return f"time ({self.unit})"

    def format(self, t_ms: float) -> str:
        """A tick label for ``t_ms`` without scientific notation."""
        value = t_ms / self.divisor
        text = f"{value:,.3f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text


def time_axis(duration_ms: float | None) -> TimeAxis:
    """Seconds for runs longer than :data:`SECONDS_ABOVE_MS`, else milliseconds."""
    if duration_ms is not None and math.isfinite(duration_ms) and duration_ms > SECONDS_ABOVE_MS:
        return TimeAxis("s", 1000.0)
    return TimeAxis("ms", 1.0)


def value_axis_end(values: Iterable[float], minimum: float = 1.0, headroom: float = 1.08
                   ) -> float:
    """Top of a non-negative axis (rates, counts): the data's maximum with headroom.

    A silent network (all zeros, or no data) gets ``[0, minimum]`` instead of Bokeh's
    ``-1..1`` auto-range around zero.
    """
    top = 0.0
    for v in values:
        if v is not None and math.isfinite(v) and v > top:
            top = float(v)
    return max(top * headroom, minimum)


def recorded_populations(record_spikes: str | Sequence[str] | None,
                         nodes: Iterable[str]) -> set[str]:
    """Nodes whose spikes a run recorded (``simulation.record_spikes``: "all" or a list)."""
    nodes = list(nodes)
    if record_spikes is None or record_spikes == "all":
        return set(nodes)
    return {n for n in nodes if n in set(record_spikes)}


def spike_count_text(count: int, recorded: bool) -> str:
    """A population's spike count for the status line: ``not recorded`` rather than 0."""
    return f"{int(count):,}" if recorded else "not recorded"


def file_stem(project: str | None, run: int | None, what: str) -> str:
    """A download's file name (no extension) after the project and the run.

    ``file_stem("CUBA balanced network", 3, "raster") == "CUBA_balanced_network-run3-raster"``
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(project or "project")).strip("._-") or "project"
    what = re.sub(r"[^A-Za-z0-9_.-]+", "_", what).strip("._-")
    parts = [name[:60]] + ([f"run{int(run)}"] if run else []) + ([what] if what else [])
    return "-".join(parts)


def trace_group(variable: str) -> str:
    """The axis a recorded variable is drawn on: voltage and currents never share one."""
    if variable == "v":
        return "membrane potential"
    if variable.startswith("i_") or variable in ("i", "I"):
        return "synaptic / input currents"
    return variable


def group_traces(variables: Sequence[str]) -> dict[str, list[int]]:
    """Group trace indices by :func:`trace_group`, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for k, var in enumerate(variables):
        groups.setdefault(trace_group(var), []).append(k)
    return groups
