"""The confirm bar: asks before anything unsaved is discarded or a project is replaced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from workbench.session import ProjectSession
from workbench.style import html_pane, text_html


class ConfirmDialog(pn.viewable.Viewer):
    """A question with a confirm and a Cancel button, shown above the page.

    Parameters
    ----------
    session : ProjectSession
        Whose unsaved changes :meth:`unless_unsaved` protects.
    say : callable
        ``say(text)``: the app's message banner (Cancel says nothing changed).
    """

    def __init__(self, session: ProjectSession, say: Callable[[str], Any], **params: Any):
        super().__init__(**params)
        self.session, self._say = session, say
        #: What confirming does (None: nothing asked).
        self.pending: Callable[[], Any] | None = None
        self.confirm_text = html_pane("", sizing_mode=None)
        self.confirm_yes = pn.widgets.Button(label="Discard changes", color="danger",
                                             css_classes=["ss-confirm-yes"])
        self.confirm_no = pn.widgets.Button(label="Cancel", css_classes=["ss-confirm-no"])
        self.confirm_yes.on_click(lambda e: self.confirm())
        self.confirm_no.on_click(lambda e: self.cancel())
        self.confirm_bar = pn.Row(self.confirm_text, self.confirm_yes, self.confirm_no,
                                  visible=False, css_classes=["ss-confirm"],
                                  styles={"background": "#fff4e5", "border-radius": "6px",
                                          "align-items": "center", "padding": "0 8px"})

    def __panel__(self):
        return self.confirm_bar

    def ask(self, question: str, confirm_label: str, action: Callable[[], Any]) -> None:
        """Show ``question`` (plain text); ``action`` runs on confirm."""
        self.pending = action
        self.confirm_text.object = (f'<span class="ss-confirm-text" data-testid="confirm">'
                                    f'{text_html(question)}</span>')
        self.confirm_yes.label = confirm_label
        self.confirm_bar.visible = True

    def confirm(self) -> None:
        """Do what was asked."""
        action, self.pending = self.pending, None
        self.confirm_bar.visible = False
        if action is not None:
            action()

    def cancel(self) -> None:
        """Drop what was asked."""
        self.pending = None
        self.confirm_bar.visible = False
        self._say("Cancelled: nothing was changed.")

    def unless_unsaved(self, what: str, action: Callable[[], Any]) -> None:
        """Run ``action`` now, or after asking when it would discard unsaved changes."""
        if not self.session.dirty:
            self.pending = None
            self.confirm_bar.visible = False
            action()
            return
        name = self.session.document.get("name", "Untitled")
        self.ask(f"“{name}” has unsaved changes. {what} and discard them?",
                 f"Discard changes and {what[0].lower()}{what[1:]}", action)
