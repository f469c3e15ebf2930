"""Parameter form generated from :class:`engine.params.ParamSpec` sequences.

One input per parameter, chosen by ``ParamSpec.kind``: a text input for ``float``/``int`` (the
unit is in the label; parsed here, see :func:`parse_number`), a checkbox for ``bool``, a select
for ``choice`` and a JSON text area for lists, tables, spike lists and matrices. Each input
carries the CSS classes ``ss-param-input`` and ``param-<name>`` so tests and the app can find it.

Every edit is checked with ``ParamSpec.check`` before anything leaves the form: an invalid value
keeps the user's text in its input with the message shown inline below it (an element with
class ``ss-param-error``), is never replaced by another value and is not propagated. Such
texts are *pending*: ``form.pending`` holds them by name, callbacks registered with
:meth:`ParamForm.on_pending` hear about every change (so the app can refuse to run while one
exists), and an owner that rebuilds the form passes them back in ``pending``. A valid change
calls the callbacks registered with :meth:`ParamForm.on_change` as ``callback(name, value)``.
Problems found elsewhere (e.g. by the project validator) are shown the same way by setting
``form.problems = {"tau_m": "..."}``.

The form does not keep its own copy of the truth: the app applies the change and sets ``values``
back (a field holding a pending text keeps it; the others show the new values).
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import panel as pn
import param
from bokeh.models import Tooltip
from bokeh.models.dom import HTML

from engine.params import ParamSpec

__all__ = ["ParamForm", "format_number", "parse_number"]

log = logging.getLogger(__name__)

ChangeCallback = Callable[[str, Any], Any]
PendingCallback = Callable[[str, "str | None", "str | None"], Any]

_JSON_KINDS = ("float_list", "int_list", "str_list", "table", "spike_lists", "matrix")

_INPUT_CSS = """
:host(.ss-param-invalid) .bk-input { border-color: #d93025; box-shadow: 0 0 0 1px #d93025; }
"""
_ERROR_CSS = """
.ss-param-error { color: #c5221f; font-size: 12px; line-height: 1.3; margin: -2px 0 4px; }
"""
# Help tooltips open below their icon and Bokeh keeps them inside the window horizontally
# (and flips them above when there is no room below); "right" ran off a right-hand inspector.
_TOOLTIP_CSS = ":host { white-space: initial; max-width: min(300px, 90vw); }"

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
# A number followed by something that looks like a unit ("1s", "5 mV", "20 µs", "3%").
_WITH_UNIT = re.compile(rf"({_NUMBER.pattern})\s*((?:[^\W\d_]|[°%])[\w/^*·°%]*)")


def parse_number(text: Any, spec: ParamSpec) -> tuple[Any, str | None]:
    """Parse the text of a number field: ``(value, None)`` or ``(None, message)``.

    Accepts plain decimals and exponents (``"0.5"``, ``"-3"``, ``"1e-3"``); an ``int`` field
    also accepts a whole float (``"1e3"``). Refuses, saying why: an empty text, a decimal comma
    (``"10,5"``), a unit in the text (``"1s"``; the message names the field's unit), non-finite
    values and anything else. The range is checked separately with ``spec.check``.
    """
    raw = "" if text is None else str(text).strip()
    unit = spec.unit
    if not raw:
        return None, "a value is required"
    if not _NUMBER.fullmatch(raw):
        if _DECIMAL_COMMA.fullmatch(raw):
            return None, (f"{raw!r} is not a number: use a dot as decimal separator "
                          f"({raw.replace(',', '.')})")
        match = _WITH_UNIT.fullmatch(raw)
        if match:
            expected = (f"this field is in {unit}, type the number only"
                        if unit else "this field has no unit, type the number only")
            return None, f"{raw!r}: no units in the text; {expected} (e.g. {match.group(1)})"
        return None, f"{raw!r} is not a number"
    value = float(raw)
    if not math.isfinite(value):
        return None, f"{raw!r} is too large"
    if spec.kind == "int":
        if not value.is_integer():
            return None, f"must be a whole number, got {raw}"
        return int(value), None
    return value, None


def format_number(value: Any) -> str:
    """Short text of a number: ``0.022000000000000002`` shows as ``0.022`` (12 digits)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.12g}"


def _tooltip(text: str) -> Tooltip:
    return Tooltip(content=HTML(html.escape(text)), position="bottom", attachment="vertical",
                   stylesheets=[_TOOLTIP_CSS])


class _InsideWindowTips:
    """Mixin for widgets: open the ``description`` tooltip below, kept inside the window."""

    def _process_param_change(self, params: dict[str, Any]) -> dict[str, Any]:
        params = super()._process_param_change(params)  # type: ignore[misc]
        tip = params.get("description")
        if isinstance(tip, Tooltip):
            tip.update(position="bottom", attachment="vertical", stylesheets=[_TOOLTIP_CSS])
        return params


class _TextInput(_InsideWindowTips, pn.widgets.TextInput):
    pass


class _TextAreaInput(_InsideWindowTips, pn.widgets.TextAreaInput):
    pass


class _Select(_InsideWindowTips, pn.widgets.Select):
    pass


def _describe(spec: ParamSpec) -> str:
    """Tooltip text: the doc, the default and the valid range."""
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.kind in _JSON_KINDS:
        default = json.dumps(spec.default)
    elif spec.kind == "bool":
        default = "on" if spec.default else "off"
    elif spec.kind in ("float", "int"):
        default = f"{format_number(spec.default)}{unit}"
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
        if kind in ("float", "int"):
            # A text input, not a NumericInput: Bokeh's number input drops characters it does
            # not like ("10,5" became 105, "1s" became 1), so the user's text never arrived.
            self.widget = _TextInput(value=format_number(value), **common)
        elif kind == "bool":
            # Checkbox has no `description`; a tooltip icon beside it carries the same text.
            tip = _tooltip(common.pop("description"))
            del common["sizing_mode"]  # a checkbox sized by its label, not stretched
            self.widget = pn.widgets.Checkbox(value=bool(value), **common)
            self.tooltip = pn.widgets.TooltipIcon(value=tip, margin=(4, 0))
        elif kind == "choice":
            self.widget = _Select(options=list(spec.choices), value=value, **common)
        else:
            self.widget = _TextAreaInput(value=json.dumps(value), auto_grow=True,
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
            return parse_number(raw, self.spec)
        if kind in _JSON_KINDS:
            try:
                return json.loads(raw or ""), None
            except json.JSONDecodeError as exc:
                return None, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            except RecursionError:
                return None, "not valid JSON: nested too deeply"
        return raw, None

    def judge(self, raw: Any) -> tuple[Any, str | None]:
        """``(value, None)`` for a valid raw input, else ``(None, message)``."""
        value, error = self.parse(raw)
        if error is None:
            error = self.spec.check(value)
        return (None, error) if error else (value, None)

    def set_value(self, value: Any) -> None:
        if self.spec.kind in _JSON_KINDS:
            self.widget.value = json.dumps(value)
        elif self.spec.kind in ("float", "int"):
            self.widget.value = format_number(value)
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
    pending
        Texts typed by the user that are not valid values yet, by name. The form keeps them
        up to date; an owner rebuilding the form passes them back to restore them.
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
    pending = param.Dict(default={}, doc="User texts that are not valid values, by name.")
    title = param.String(default="", doc="Optional heading shown above the inputs.")

    def __init__(self, specs: Sequence[ParamSpec] | None = None,
                 values: dict[str, Any] | None = None, inline: bool = False,
                 **params: Any) -> None:
        if specs is not None:
            params["specs"] = list(specs)
        if values is not None:
            params["values"] = dict(values)
        super().__init__(**params)
        self._callbacks: list[ChangeCallback] = []
        self._pending_callbacks: list[PendingCallback] = []
        self._fields: dict[str, _Field] = {}
        # Set while the form itself writes widget values, so those writes are not user edits.
        self._syncing = False
        self._header = pn.pane.HTML("", visible=False, sizing_mode="stretch_width",
                                    margin=(4, 10, 0, 10))
        self._general = pn.pane.HTML("", visible=False, stylesheets=[_ERROR_CSS],
                                     sizing_mode="stretch_width", margin=(0, 10))
        self._layout = pn.Column(sizing_mode="stretch_width", css_classes=["ss-param-form"])
        # inline: the fields side by side, wrapping (a short form that must stay low).
        self._inline = inline
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

    def on_pending(self, callback: PendingCallback) -> PendingCallback:
        """Register ``callback(name, text, message)`` for changes of the pending texts.

        Called with the user's text and the reason whenever a field starts (or keeps) holding
        an invalid text, and with ``(name, None, None)`` when that field became valid again.
        """
        self._pending_callbacks.append(callback)
        return callback

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
        views = [fld.view for fld in self._fields.values()]
        if self._inline:
            for view in views:
                view.styles = {"flex": "1 1 90px", "min-width": "0"}
            views = [pn.FlexBox(*views, flex_wrap="wrap", sizing_mode="stretch_width")]
        self._layout[:] = [self._header, self._general, *views]
        self._sync_values()

    @param.depends("title", watch=True)
    def _retitle(self) -> None:
        self._header.object = f"<h4 style='margin:0'>{html.escape(self.title)}</h4>"
        self._header.visible = bool(self.title)

    @param.depends("values", "pending", watch=True)
    def _sync_values(self) -> None:
        self._syncing = True
        try:
            for name, fld in self._fields.items():
                if name in self.pending:
                    # The user's text stays until they fix it: never replaced silently.
                    text = self.pending[name]
                    fld.local_error = fld.judge(text)[1] or "not applied yet"
                    fld.widget.value = text
                else:
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

    def _set_pending(self, fld: _Field, text: Any, message: str | None) -> None:
        """Record (``message`` set) or drop a pending text, tell the listeners, show it."""
        name = fld.spec.name
        fld.local_error = message
        pending = dict(self.pending)
        changed = (pending.get(name) != text) if message else (name in pending)
        if message:
            pending[name] = text
        else:
            pending.pop(name, None)
        if changed:
            with param.discard_events(self):
                self.pending = pending
        fld.show(message or self.problems.get(name))
        if message or changed:
            for callback in list(self._pending_callbacks):
                try:
                    callback(name, text if message else None, message)
                except Exception:  # a broken listener must not break the form
                    log.exception("ParamForm pending callback failed for %s", name)

    def _on_input(self, fld: _Field, raw: Any) -> None:
        if self._syncing:
            return
        value, error = fld.judge(raw)
        if error is not None:
            self._set_pending(fld, raw, error)
            return
        self._set_pending(fld, None, None)
        if value == self._current(fld.spec):
            return  # typing the current value back (e.g. after an error): nothing to apply
        for callback in list(self._callbacks):
            try:
                callback(fld.spec.name, value)
            except Exception as exc:  # the app rejected it: keep the input, say why
                log.exception("ParamForm callback failed for %s=%r", fld.spec.name, value)
                self._set_pending(fld, raw, f"could not apply: {exc}")
                return
