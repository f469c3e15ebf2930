"""The Lab notes tab: the project's lab (notes, or intro and steps with a Check each).

What it shows and how a Check runs is :class:`workbench.lab_panel.LabPanel`; this module makes
it one of the result views (``workbench.views.VIEWS``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import panel as pn

from workbench.lab_panel import LabPanel
from workbench.pattern_editor import PatternEditor
from workbench.view_protocol import ResultView, ViewContext


class LabNotesTab(ResultView):
    """The open project's lab: Markdown rendered and sanitised, never raw HTML."""

    title: ClassVar[str] = "Lab notes"
    key: ClassVar[str] = "lab"

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self._document: dict | None = None
        self._lab: Any = None  # the lab value shown (rebuilt only when it changes)
        shown = self.context.shown_run if self.context.shown_run is not None else lambda: None
        self.panel = LabPanel(lambda: self._document, shown)
        self.patterns = PatternEditor(self.context.apply)
        self.panel.tools.objects = [self.patterns.view]

    def __panel__(self):
        return pn.Column(self.panel, sizing_mode="stretch_width")

    def set_project(self, document: dict) -> None:
        self._document = document
        self.patterns.set_document(document)
        lab = document.get("lab")
        if self._lab is None or lab != self._lab:  # most edits leave the lab alone
            self._lab = lab if lab is not None else ""
            self.panel.show_document(document)
