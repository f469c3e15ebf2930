"""The offer a fresh tab makes: unsaved work of other tabs of this workspace, to restore.

A bookmark opens a new tab (a new ``?session=``), which starts with the default sample; the
unsaved edits of earlier tabs are still in the workspace's ``autosave/`` folder
(:meth:`workbench.storage.Workspace.unsaved_work`). This bar lists them, one button each
("Restore unsaved work of <project>, edited <time>"); Dismiss hides the bar and keeps the
files. Project names are shown as text (button labels), never as HTML.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import panel as pn

from workbench.storage import UnsavedWork
from workbench.style import html_pane


def edited_ago(modified: float, now: float | None = None) -> str:
    """When an autosave was written, in words: ``just now``, ``5 minutes ago``, ...

    Relative, so it needs no time zone (the server's is not the reader's).
    """
    seconds = max(0.0, (time.time() if now is None else now) - modified)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return "just now"


class RestoreOffer(pn.viewable.Viewer):
    """One button per autosave with unsaved work; invisible when there is none.

    Parameters
    ----------
    on_restore
        Called with the chosen :class:`~workbench.storage.UnsavedWork`.
    """

    def __init__(self, on_restore: Callable[[UnsavedWork], None]):
        super().__init__()
        self._on_restore = on_restore
        self.dismiss_button = pn.widgets.Button(label="Dismiss", width=90,
                                                css_classes=["ss-restore-dismiss"],
                                                description="Hide this; the autosaves stay")
        self.dismiss_button.on_click(lambda e: self.hide())
        self._buttons = pn.FlexBox(flex_wrap="wrap", align_items="center", margin=0,
                                   sizing_mode="stretch_width")
        self._layout = pn.Row(
            html_pane('<span class="ss-restore-text">Unsaved work from another tab:</span>',
                      sizing_mode=None, align="center"),
            self._buttons, self.dismiss_button, visible=False,
            css_classes=["ss-restore-offer"], sizing_mode="stretch_width",
            styles={"background": "#eef4ff", "border-radius": "6px", "align-items": "center",
                    "padding": "0 8px"})

    def __panel__(self):
        return self._layout

    def offer(self, found: list[UnsavedWork], now: float | None = None) -> None:
        """Show a button for each of ``found`` (hidden when it is empty)."""
        buttons = []
        for work in found:
            button = pn.widgets.Button(
                label=f"Restore unsaved work of {work.name}, edited "
                      f"{edited_ago(work.modified, now)}",
                color="primary", variant="outline", margin=(4, 4),
                css_classes=["ss-restore"])
            button.on_click(lambda e, w=work: self._on_restore(w))
            buttons.append(button)
        self._buttons.objects = buttons
        self._layout.visible = bool(buttons)

    def hide(self) -> None:
        """Hide the offer (the autosaves stay on disk)."""
        self._layout.visible = False
        self._buttons.objects = []
