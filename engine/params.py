"""Parameter specifications shared by neuron models, encoders and plasticity rules.

A :class:`ParamSpec` says everything the validator, the inspector form in the UI and the
exporters need to know about one parameter: its unit, default, valid range and meaning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.validation import short_repr as _repr

#: Largest magnitude of a parameter without its own maximum, so later arithmetic (times
#: divided by dt, sums over synapses, float32 state) cannot overflow.
MAX_PARAM_MAGNITUDE = 1e12
#: Largest time (ms) of a parameter without its own maximum: about 115 days of model time.
MAX_TIME_MS = 1e10
#: Most time steps a simulation may take (duration_ms / dt_ms): step counters and per-step
#: indices stay within int32, and steps x neurons within int64.
MAX_STEPS = 2**31 - 1

ParamKind = Literal[
    "float", "int", "bool", "choice", "float_list", "int_list", "str_list", "table",
    "spike_lists", "matrix",
]


@dataclass(frozen=True)
class ParamSpec:
    """Specification of one model parameter.

    Parameters
    ----------
    name
        Key used in project files.
    unit
        Unit the value is stored in ("ms", "mV", "Hz", "" for dimensionless).
    default
        Value used when the project omits the parameter.
    doc
        One-sentence explanation, shown as a tooltip.
    kind
        ``float``, ``int``, ``bool``, ``choice`` (one of ``choices``), ``float_list`` (a list of
        numbers), ``table`` (a list of ``[time_ms, value]`` rows), ``spike_lists`` (one list
        of times per neuron) or ``matrix`` (equal-length rows of numbers).
    minimum, maximum
        Inclusive bounds unless ``exclusive_minimum``/``exclusive_maximum`` is set.
    choices
        Allowed values for ``kind == "choice"``.
    label
        Human-readable label for forms; defaults to ``name``.
    """

    name: str
    unit: str
    default: Any
    doc: str
    kind: ParamKind = "float"
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    choices: tuple[str, ...] = ()
    label: str = ""

    @property
    def display_label(self) -> str:
        text = self.label or self.name.replace("_", " ")
        return f"{text} ({self.unit})" if self.unit else text

    def range_text(self) -> str:
        """Human-readable valid range, e.g. ``> 0 ms`` or ``[0, 1]``."""
        unit = f" {self.unit}" if self.unit else ""
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            left = "(" if self.exclusive_minimum else "["
            right = ")" if self.exclusive_maximum else "]"
            return f"{left}{lo:g}, {hi:g}{right}{unit}"
        if lo is not None:
            return f"{'>' if self.exclusive_minimum else '>='} {lo:g}{unit}"
        if hi is not None:
            return f"{'<' if self.exclusive_maximum else '<='} {hi:g}{unit}"
        return "any finite value"

    def check(self, value: Any) -> str | None:
        """Return an error message for ``value``, or ``None`` when it is valid."""
        if self.kind == "bool":
            return None if isinstance(value, bool) else f"must be true or false, got {_repr(value)}"
        if self.kind == "choice":
            if value in self.choices:
                return None
            return f"must be one of {', '.join(self.choices)}; got {_repr(value)}"
        if self.kind == "str_list":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            return None if ok else f"must be a list of names, got {_repr(value)}"
        if self.kind == "int_list":
            if not isinstance(value, list):
                return f"must be a list of whole numbers, got {type(value).__name__}"
            for i, item in enumerate(value):
                if isinstance(item, bool) or not isinstance(item, int):
                    return f"item {i}: must be a whole number, got {_repr(item)}"
                message = self._check_number(item)
                if message:
                    return f"item {i}: {message}"
            return None
        if self.kind == "float_list":
            if not isinstance(value, list):
                return f"must be a list of numbers, got {type(value).__name__}"
            for i, item in enumerate(value):
                message = self._check_number(item)
                if message:
                    return f"item {i}: {message}"
            return None
        if self.kind == "table":
            return _check_table(value, self)
        if self.kind in ("spike_lists", "matrix"):
            return self._check_rows(value)
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    return f"must be a whole number, got {_repr(value)}"
        return self._check_number(value)

    def _check_rows(self, value: Any) -> str | None:
        if not isinstance(value, list) or not value:
            return "must be a non-empty list of lists"
        width = None
        for i, row in enumerate(value):
            if not isinstance(row, list):
                return f"row {i}: must be a list, got {type(row).__name__}"
            if self.kind == "matrix":
                if width is not None and len(row) != width:
                    return f"row {i}: has {len(row)} columns, row 0 has {width}"
                width = len(row)
            for j, item in enumerate(row):
                message = self._check_number(item)
                if message:
                    return f"row {i}, item {j}: {message}"
        if self.kind == "matrix" and not width:
            return "must have at least one column"
        return None

    def _check_number(self, value: Any) -> str | None:
        unit = f" {self.unit}" if self.unit else ""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {_repr(value)}"
        if isinstance(value, int) and abs(value) > 1e300:
            return f"must be a finite number, got one with {len(str(abs(value)))} digits"
        if not math.isfinite(value):
            return f"must be a finite number, got {_repr(value)}"
        lo, hi = self.minimum, self.maximum
        if lo is not None and (value <= lo if self.exclusive_minimum else value < lo):
            bound = f"{'>' if self.exclusive_minimum else '>='} {lo:g}{unit}"
            return f"must be {bound}, got {value:g}{unit}"
        if hi is not None and (value >= hi if self.exclusive_maximum else value > hi):
            bound = f"{'<' if self.exclusive_maximum else '<='} {hi:g}{unit}"
            return f"must be {bound}, got {value:g}{unit}"
        if hi is None:
            limit = MAX_TIME_MS if self.unit == "ms" else MAX_PARAM_MAGNITUDE
            if abs(value) > limit:
                return f"must be at most {limit:g}{unit} in magnitude, got {value:g}{unit}"
        return None


def _check_table(value: Any, spec: ParamSpec) -> str | None:
    if not isinstance(value, list):
        return "must be a list of [time_ms, value] rows"
    if not value:
        # An empty table means "not used" only where that is the parameter's default.
        return None if spec.default == [] else "must have at least one [time_ms, value] row"
    previous = -math.inf
    for i, row in enumerate(value):
        if not isinstance(row, list) or len(row) != 2:
            return f"row {i}: must be [time_ms, value], got {_repr(row)}"
        t, v = row
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in row)
        if not numeric or not all(math.isfinite(x) for x in row):
            return f"row {i}: must hold two finite numbers, got {_repr(row)}"
        if t < 0 or t < previous:
            return f"row {i}: times must be >= 0 and increasing, got {t:g} ms after {previous:g} ms"
        previous = t
        value_error = spec._check_number(v)
        if value_error:
            return f"row {i}: value {value_error}"
    return None


@dataclass(frozen=True)
class ModelSpec:
    """A named model (neuron model, encoder or plasticity rule) and its parameters.

    Parameters
    ----------
    name
        Registry key, e.g. ``"lif"``.
    title
        Human-readable name for palettes.
    doc
        A paragraph describing the model (equations, conventions).
    params
        Parameter specs in display order.
    presets
        Named parameter sets (e.g. Izhikevich "regular_spiking").
    state_variables
        Names of recordable state variables with units.
    short
        Short label for a node in the graph editor (default: the name, capitalised).
    color
        CSS colour of the model's nodes in the graph editor ("" for the kind's colour).
    """

    name: str
    title: str
    doc: str
    params: tuple[ParamSpec, ...]
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    state_variables: dict[str, str] = field(default_factory=dict)
    short: str = ""
    color: str = ""

    @property
    def short_label(self) -> str:
        """``short``, or the name with spaces, capitalised."""
        text = self.short or self.name.replace("_", " ")
        return text[:1].upper() + text[1:]

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        """Default value of every parameter (lists copied so callers may mutate them)."""
        return {p.name: (list(p.default) if isinstance(p.default, list) else p.default)
                for p in self.params}

    def resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``params`` (after a preset, when one is named)."""
        values = self.defaults()
        preset = params.get("preset")
        if preset:
            values.update(self.presets[preset])
        values.update({k: v for k, v in params.items() if k != "preset"})
        return values
