"""The Lab notes tab: the project author's notes on what to try, as Markdown."""

from __future__ import annotations

from typing import Any, ClassVar

import panel as pn

from workbench.style import html_pane, markdown_html
from workbench.view_protocol import ResultView, ViewContext

NO_NOTES = "*This project has no lab notes.*"


class LabNotesTab(ResultView):
    """The open project's lab notes (rendered and sanitised, never raw HTML)."""

    title: ClassVar[str] = "Lab notes"
    key: ClassVar[str] = "lab"

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self.lab = html_pane("", sizing_mode="stretch_width", css_classes=["ss-lab"])
        self._notes: str | None = None

    def __panel__(self):
        return pn.Column(self.lab, sizing_mode="stretch_width")

    def set_project(self, document: dict) -> None:
        notes = document.get("lab") or NO_NOTES
        if notes != self._notes:  # most edits leave the notes alone: no re-render
            self._notes = notes
            self.lab.object = (f'<div class="ss-lab-notes" data-testid="lab-notes">'
                               f'{markdown_html(notes)}</div>')
