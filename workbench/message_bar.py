"""The page's message banner, and user actions whose errors become messages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import panel as pn
from panel.io.notifications import NotificationAreaBase

from engine.errors import SpikeStudioError
from workbench import edits
from workbench.lifetimes import Lifetimes
from workbench.style import html_pane, lines_html, text_html

log = logging.getLogger(__name__)
# Bottom-right toasts covered the inspector and the results' CSV button.
TOAST_POSITION = "bottom-left"


def release_toast_area(document: Any) -> None:
    """Let the toast area of a closed page go, and with it the page.

    Panel (1.9.4) keeps every rendered view in ``pn.state._views`` until its session ends
    and removes them then, but not the notification area it adds to each page: by the time
    the session's end is handled, the area is no longer listed under its document, so the
    destroyed document, its Bokeh models and every Python callback they hold (the whole
    page) stayed in the server's memory.
    """
    for ref, (view, root, doc, _comm) in list(pn.state._views.items()):
        if doc is document and isinstance(view, NotificationAreaBase):
            try:
                view._cleanup(root)
            except Exception:  # a half-torn-down model: it is dropped all the same
                log.debug("toast area cleanup failed", exc_info=True)
            pn.state._views.pop(ref, None)


class MessageBar(pn.viewable.Viewer):
    """One banner (with Dismiss) plus a brief toast per message.

    Parameters
    ----------
    lifetimes : Lifetimes
        A banner lasts as long as the state it describes (see :meth:`message`).
    error_text : callable
        ``error_text(exc)``: an engine or edit error in words (field names as the page shows
        them).
    """

    def __init__(self, lifetimes: Lifetimes, error_text: Callable[[Exception], str],
                 **params: Any):
        super().__init__(**params)
        self.lifetimes, self._error_text = lifetimes, error_text
        self.level: str | None = None  # of the banner shown
        self.messages = html_pane("", sizing_mode="stretch_width", css_classes=["ss-messages"])
        self.dismiss_button = pn.widgets.Button(label="\u2715", width=34, visible=False,
                                                color="light", margin=(6, 4),
                                                description="Dismiss this message",
                                                css_classes=["ss-dismiss"])
        self.dismiss_button.on_click(lambda e: self.clear_message())

    def __panel__(self):
        return pn.Row(self.messages, self.dismiss_button, sizing_mode="stretch_width",
                      margin=0)

    def message(self, text: str, level: str = "info", lasts: str = "run") -> None:
        """Show a notification and keep it readable in the page.

        The banner stays until a later message, Dismiss, or the end of the state ``lasts``
        (``"pause"``, ``"run"`` or ``"project"``, see :mod:`workbench.lifetimes`) it describes:
        by default the next run (or project) makes it stale.
        """
        level = level if level in ("info", "warning", "error") else "info"
        self.messages.object = (f'<div class="ss-msg ss-msg-{level}" data-testid="message" '
                                f'data-level="{level}" data-lasts="{text_html(lasts)}">'
                                f'{lines_html(text)}</div>')
        self.level = level
        self.lifetimes.hold("banner", lasts, self.clear_message)
        self.dismiss_button.visible = True
        notifications = pn.state.notifications
        if notifications is not None:
            # Brief toasts; the banner keeps the full text (errors until dismissed or a
            # later success). Notifications insert their message as HTML: escaped text.
            notifications.position = TOAST_POSITION
            getattr(notifications, "error" if level == "error" else "info")(
                text_html(" ".join(str(text).splitlines()[:2])[:200]),
                duration=5000 if level == "error" else 2500)

    def clear_message(self) -> None:
        """Remove the message banner."""
        self.messages.object = ""
        self.level = None
        self.dismiss_button.visible = False

    def guard(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a user action; its result, or None when it failed (the error is shown)."""
        return self.attempt(fn, *args)[1]

    def succeeds(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run a user action whose result may be None; False when it failed."""
        return self.attempt(fn, *args)[0]

    def attempt(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """(ok, result) of a user action; errors become messages, never tracebacks."""
        try:
            result = fn(*args)
        except (SpikeStudioError, edits.EditError) as exc:
            self.message(self._error_text(exc), "error")
        except Exception as exc:  # noqa: BLE001 - a UI action must never kill the session
            log.exception("workbench action failed")
            self.message(f"Something went wrong ({type(exc).__name__}: {exc}); your project "
                         f"is unchanged.", "error")
        else:
            if self.level == "error":
                self.clear_message()  # an old error must not outlive a later success
            return True, result
        return False, None
