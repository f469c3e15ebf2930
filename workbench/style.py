"""The workbench's stylesheet and a helper for HTML panes that use it.

Panel renders each component in its own shadow root, so a stylesheet must be attached to every
pane whose HTML uses the ``ss-*`` classes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import panel as pn

CSS = Path(__file__).with_name("workbench.css").read_text()


def html_pane(text: str = "", **params: Any) -> pn.pane.HTML:
    """An HTML pane styled by workbench.css."""
    params.setdefault("sizing_mode", "stretch_width")
    return pn.pane.HTML(text, stylesheets=[CSS], **params)
