"""The run bar's "Pause when" fields: one breakpoint, as engine data, and in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from engine.core.breakpoints import Breakpoint, breakpoint_targets, resolve_target
from engine.errors import SpikeStudioError

#: "Pause when" choices -> engine.core.breakpoints kinds, and what the two number fields mean for
#: each.
BREAK_KINDS = {"(no breakpoint)": "", "neuron spikes": "spike", "rate above": "rate_above",
               "rate below": "rate_below", "weight leaves range": "weight_range"}
BREAK_FIELDS = {"spike": ("neuron", None), "rate_above": ("rate Hz", "window ms"),
                "rate_below": ("rate Hz", "window ms"), "weight_range": ("w min", "w max")}


class BreakpointForm(pn.viewable.Viewer):
    """A condition that pauses a run: its kind, its population or projection, two numbers.

    Parameters
    ----------
    say : callable
        ``say(text, level)`` shows a message (why a breakpoint is refused).
    """

    def __init__(self, say: Callable[[str, str], Any], **params: Any):
        super().__init__(**params)
        self._say = say
        self.break_kind = pn.widgets.Select(label="Pause when", options=BREAK_KINDS, value="",
                                            width=170, css_classes=["ss-break-kind"])
        self.break_target = pn.widgets.TextInput(
            label="population / projection", width=150, css_classes=["ss-break-target"],
            description="Its label (as in the editor) or its id")
        self.break_a = pn.widgets.FloatInput(label="neuron", value=0.0, width=90,
                                             css_classes=["ss-break-a"])
        self.break_b = pn.widgets.FloatInput(label="window ms", value=10.0, width=90,
                                             css_classes=["ss-break-b"])
        self.break_kind.param.watch(lambda e: self._label_fields(), "value")
        self._label_fields()

    def __panel__(self):
        return pn.Row(self.break_kind, self.break_target, self.break_a, self.break_b,
                      sizing_mode="stretch_width", css_classes=["ss-breakpoints"])

    def _label_fields(self) -> None:
        first, second = BREAK_FIELDS.get(self.break_kind.value, (None, None))
        for widget, label in ((self.break_a, first), (self.break_b, second)):
            widget.visible = label is not None
            if label is not None:
                widget.label = label
        self.break_target.visible = bool(self.break_kind.value)
        self.break_target.label = ("projection" if self.break_kind.value == "weight_range"
                                  else "population")

    def breakpoints(self, document: dict) -> list[dict] | None:
        """The form's breakpoint as engine data ([] for none; None after a message).

        The target may be typed as a label or an id of ``document``'s network.
        """
        kind = self.break_kind.value
        if not kind:
            return []
        what = "projection" if kind == "weight_range" else "population"
        a, b = self.break_a.value, self.break_b.value
        try:
            # Labels (what the editor shows) and ids both name a target.
            target = resolve_target(self.break_target.value,
                                    breakpoint_targets(document, kind), what, "Pause when")
            if kind == "spike":
                data = {"kind": kind, "population": target, "neuron": int(a or 0)}
            elif kind == "weight_range":
                data = {"kind": kind, "projection": target, "w_min": a, "w_max": b}
            else:
                data = {"kind": kind, "population": target, "rate_hz": a, "window_ms": b}
            Breakpoint.from_dict(data, "Pause when")
        except SpikeStudioError as exc:
            self._say(str(exc), "error")
            return None
        return [data]


def breakpoint_words(data: dict, document: dict) -> str:
    """A breakpoint in words, naming its population or projection by its label in
    ``document``."""
    kind = data.get("kind", "")
    labels = {i: (label or i) for i, label in breakpoint_targets(document, kind)}
    key = "projection" if kind == "weight_range" else "population"
    named = {**data, key: labels.get(data.get(key), data.get(key, ""))}
    return f"“{Breakpoint.from_dict(named).describe()}”"
