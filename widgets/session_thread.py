"""Apply Bokeh model updates on the session's own thread.

Widgets may be handed new data from a worker thread (a finished simulation); Bokeh models of a
served document must then be changed from the session's event loop.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc


def run_in_session(doc: Document | None, fn: Callable[[], None]) -> None:
    """Call ``fn`` now, or on ``doc``'s next tick when called from outside its session."""
    if doc is not None and doc.session_context is not None and pn.state.curdoc is not doc:
        doc.add_next_tick_callback(lambda: _with_curdoc(doc, fn))
    else:
        fn()


def _with_curdoc(doc: Document, fn: Callable[[], None]) -> None:
    # Panel components built inside fn must know their session: without it their stylesheets
    # point at Panel's CDN (blocked offline) instead of the server's own copies.
    with set_curdoc(doc):
        fn()
