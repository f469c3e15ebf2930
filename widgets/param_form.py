"""Parameter form generated from :class:`engine.params.ParamSpec` sequences.

One input per parameter, chosen by ``ParamSpec.kind``: number inputs for ``float``/``int``
(the unit is in the label), a checkbox for ``bool``, a select for ``choice`` and a JSON text
area for lists, tables, spike lists and matrices. Each input carries the CSS classes
``ss-param-input`` and ``param-<name>`` so tests and the app can find it.

Every edit is checked with ``ParamSpec.check`` before anything leaves the form: an invalid value
stays visible in its input with the message shown inline below it (an element with class
``ss-param-error``) and is not propagated. A valid change calls the callbacks registered with
:meth:`ParamForm.on_change` as ``callback(name, value)``. Problems found elsewhere (e.g. by the
project validator) are shown the same way by setting ``form.problems = {"tau_m": "..."}``.

The form does not keep its own copy of the truth: the app applies the change and sets ``values``
back (which also clears a stale inline error for that field).
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import panel as pn
import param

from engine.params import ParamSpec

__all__ = ["ParamForm"]

log = logging.getLogger(__name__)

ChangeCallback = Callable[[str, Any], Any]

_JSON_KINDS = ("float_list", "int_list", "str_list", "table", "spike_lists", "matrix")

_INPUT_CSS = """
:host(.ss-param-invalid) .bk-input { border-color: #d93025; box-shadow: 0 0 0 1px #d93025; }
"""
_ERROR_CSS = """
.ss-param-error { color: #c5221f; font-size: 12px; line-height: 1.3; margin: -2px 0 4px; }
"""


def _step(default: Any) -> float:
    """A spinner step one decade below the default's magnitude (0.1 when the default is 0)."""
    if isinstance(default, (int, float)) and not isinstance(default, bool) and default:
        return 10.0 ** (math.floor(math.log10(abs(default))) - 1)
    return 0.1


def _describe(spec: ParamSpec) -> str:
    """Tooltip text: the doc, the default and the valid range."""
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.kind in _JSON_KINDS:
        default = json.dumps(spec.default)
    elif spec.kind == "bool":
        default = "on" if spec.default else "off"
    else:
        default = f"{spec.default}{unit}"
    parts = [spec.doc, f"Default: {default}."]
    if spec.kind == "choice":
        parts.append(f"One of: {', '.join(spec.choices)}.")
    elif spec.kind not in ("bool", "str_list"):
        parts.append(f"Valid: {spec.range_text()}.")
    return " ".join(parts)


class _Field:
    """One parameter: its input widget, its inline error and the parser for its raw value."""

    def __init__(self, spec: ParamSpec, value: Any, on_input: Callable[[_Field, Any], None]):
        self.spec = spec
        self.local_error: str | None = None
        common = {
            "label": spec.display_label,
            "description": _describe(spec),
            "css_classes": ["ss-param-input", f"param-{spec.name}"],
            "stylesheets": [_INPUT_CSS],
            "sizing_mode": "stretch_width",
            "margin": (4, 10, 2, 10),
        }
        kind = spec.kind
        if kind == "float":
            self.widget = pn.widgets.FloatInput(value=_as_number(value), step=_step(spec.default),
                                                **common)
        elif kind == "int":
            self.widget = pn.widgets.IntInput(value=_as_number(value), step=1, **common)
        elif kind == "bool":
            # Checkbox has no `description`; a tooltip icon beside it carries the same text.
            tip = common.pop("description")
            del common["sizing_mode"]  # a checkbox sized by its label, not stretched
            self.widget = pn.widgets.Checkbox(value=bool(value), **common)
            self.tooltip = pn.widgets.TooltipIcon(value=tip, margin=(4, 0))
        elif kind == "choice":
            self.widget = pn.widgets.Select(options=list(spec.choices), value=value, **common)
        else:
            self.widget = pn.widgets.TextAreaInput(value=json.dumps(value), auto_grow=True,
                                                   max_rows=8, rows=2, **common)
        self.error = pn.pane.HTML("", visible=False, stylesheets=[_ERROR_CSS],
                                  sizing_mode="stretch_width", margin=(0, 10, 4, 12))
        head = (pn.Row(self.widget, self.tooltip, margin=0) if kind == "bool" else self.widget)
        self.view = pn.Column(head, self.error, sizing_mode="stretch_width", margin=0)
        self.widget.param.watch(lambda event: on_input(self, event.new), "value")

    def parse(self, raw: Any) -> tuple[Any, str | None]:
        """Turn the widget's raw value into a parameter value, or return a parse error."""
        kind = self.spec.kind
        if kind in ("float", "int"):
            if raw is None:
                return None, "a value is required"
            return (float(raw) if kind == "float" else raw), None
        if kind in _JSON_KINDS:
            try:
                return json.loads(raw or ""), None
            except json.JSONDecodeError as exc:
                return None, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        return raw, None

    def set_value(self, value: Any) -> None:
        if self.spec.kind in _JSON_KINDS:
            self.widget.value = json.dumps(value)
        elif self.spec.kind in ("float", "int"):
            self.widget.value = _as_number(value)
        else:
            self.widget.value = value

    def show(self, message: str | None) -> None:
        """Show ``message`` inline (or hide the error) and flag the input as invalid."""
        self.error.object = (
            f'<div class="ss-param-error" role="alert" data-param="{self.spec.name}">'
            f"{html.escape(message)}</div>" if message else ""
        )
        self.error.visible = bool(message)
        classes = [c for c in self.widget.css_classes if c != "ss-param-invalid"]
        self.widget.css_classes = classes + (["ss-param-invalid"] if message else [])


def _as_number(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class ParamForm(pn.viewable.Viewer):
    """Inputs for a sequence of :class:`~engine.params.ParamSpec`, validated inline.

    Parameters
    ----------
    specs
        Parameter specs in display order (e.g. ``NEURON_MODELS["lif"].params``).
    values
        Current values by name; missing names show the spec's default.
    problems
        Externally found problems by parameter name, shown inline like local errors.
        Messages for names without a field are shown above the form.
    title
        Optional heading.

    Examples
    --------
    >>> form = ParamForm(specs=LIF.params, values={"tau_m": 20.0})  # doctest: +SKIP
    >>> form.on_change(lambda name, value: print(name, value))  # doctest: +SKIP
    """

    specs = param.List(default=[], doc="ParamSpecs in display order.")
    values = param.Dict(default={}, doc="Current values by parameter name.")
    problems = param.Dict(default={}, doc="External problems by parameter name.")
    title = param.String(default="", doc="Optional heading shown above the inputs.")

    def __init__(self, specs: Sequence[ParamSpec] | None = None,
                 values: dict[str, Any] | None = None, **params: Any) -> None:
        if specs is not None:
            params["specs"] = list(specs)
        if values is not None:
            params["values"] = dict(values)
        super().__init__(**params)
        self._callbacks: list[ChangeCallback] = []
        self._fields: dict[str, _Field] = {}
        # Set while the form itself writes widget values, so those writes are not user edits.
        self._syncing = False
        self._header = pn.pane.HTML("", visible=False, sizing_mode="stretch_width",
                                    margin=(4, 10, 0, 10))
        self._general = pn.pane.HTML("", visible=False, stylesheets=[_ERROR_CSS],
                                     sizing_mode="stretch_width", margin=(0, 10))
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["ss-param-form"])
        self._build()

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout

    # ------------------------------------------------------------------ public API
    def on_change(self, callback: ChangeCallback) -> ChangeCallback:
        """Register ``callback(name, value)`` for valid edits; returns ``callback``."""
        self._callbacks.append(callback)
        return callback

    def remove_on_change(self, callback: ChangeCallback) -> None:
        """Unregister a callback added with :meth:`on_change`."""
        self._callbacks = [cb for cb in self._callbacks if cb != callback]

    @property
    def errors(self) -> dict[str, str]:
        """Messages currently shown inline, local ones taking precedence over ``problems``."""
        out = {}
        for name, fld in self._fields.items():
            message = fld.local_error or self.problems.get(name)
            if message:
                out[name] = str(message)
        return out

    def widget(self, name: str) -> pn.widgets.Widget:
        """The input widget of parameter ``name`` (for layout tweaks and tests)."""
        return self._fields[name].widget

    # ------------------------------------------------------------------ internals
    def _current(self, spec: ParamSpec) -> Any:
        return self.values.get(spec.name, spec.default)

    @param.depends("specs", watch=True)
    def _build(self) -> None:
        self._fields = {}
        for spec in self.specs:
            self._fields[spec.name] = _Field(spec, self._current(spec), self._on_input)
        self._header.object = f"<h4 style='margin:0'>{html.escape(self.title)}</h4>"
        self._header.visible = bool(self.title)
        self._layout[:] = [self._header, self._general,
                           *(fld.view for fld in self._fields.values())]
        self._show_problems()

    @param.depends("title", watch=True)
    def _retitle(self) -> None:
        self._header.object = f"<h4 style='margin:0'>{html.escape(self.title)}</h4>"
        self._header.visible = bool(self.title)

    @param.depends("values", watch=True)
    def _sync_values(self) -> None:
        self._syncing = True
        try:
            for fld in self._fields.values():
                fld.local_error = None
                fld.set_value(self._current(fld.spec))
        finally:
            self._syncing = False
        self._show_problems()

    @param.depends("problems", watch=True)
    def _show_problems(self) -> None:
        for name, fld in self._fields.items():
            fld.show(fld.local_error or self.problems.get(name))
        extra = {k: v for k, v in self.problems.items() if k not in self._fields}
        self._general.object = "".join(
            f'<div class="ss-param-error" role="alert">{html.escape(f"{k}: {v}")}</div>'
            for k, v in extra.items())
        self._general.visible = bool(extra)

    def _on_input(self, fld: _Field, raw: Any) -> None:
        if self._syncing:
            return
        value, error = fld.parse(raw)
        if error is None:
            error = fld.spec.check(value)
        fld.local_error = error
        if error is None and value == self._current(fld.spec):
            # Typing the current value back after an error: nothing to apply.
            fld.show(self.problems.get(fld.spec.name))
            return
        fld.show(error or self.problems.get(fld.spec.name))
        if error is not None:
            return
        for callback in list(self._callbacks):
            try:
                callback(fld.spec.name, value)
            except Exception as exc:  # the app rejected it: keep the input, say why
                log.exception("ParamForm callback failed for %s=%r", fld.spec.name, value)
                fld.local_error = f"could not apply: {exc}"
                fld.show(fld.local_error)
                return
