"""Apply Bokeh model updates on the session's own thread, as one atomic document patch.

Widgets may be handed new data from a worker thread (a finished simulation); Bokeh models of a
served document must then be changed from the session's event loop.

Why one patch: a served document reaches the browser through two writers. Changes Panel makes
(a pane's new object, a widget's value) are serialised and written by Panel itself, at once or
as soon as the websocket is free; changes made directly on Bokeh models (a data source, a
range) are serialised when they happen and written by Bokeh's session after the callback.
Each writer sends a model's full definition only the first time it sees the model, so when
the two are interleaved under load (many sessions, a busy websocket) a patch that only
*refers* to a model can overtake the patch that *defines* it: BokehJS then rejects it with
"reference pNNNN isn't known" and the page silently keeps its old state. Collecting all
changes under one document hold makes them a single patch, serialised and written in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc


@contextmanager
def held(doc: Document | None) -> Iterator[None]:
    """Collect every change to ``doc`` made in the block into one patch (served docs only).

    Outside a server session (notebook, static export, tests without a server) the block just
    runs: there is no websocket to keep in order.
    """
    if doc is None or doc.session_context is None:
        yield
        return
    with set_curdoc(doc), pn.io.hold(doc):
        yield


def run_in_session(doc: Document | None, fn: Callable[[], None]) -> None:
    """Call ``fn`` now, or on ``doc``'s next tick when called from outside its session.

    Either way its changes reach the browser as one patch (see :func:`held`).
    """
    if doc is not None and doc.session_context is not None and pn.state.curdoc is not doc:
        doc.add_next_tick_callback(lambda: _apply_held(doc, fn))
    else:
        _apply_held(doc, fn)


def _apply_held(doc: Document | None, fn: Callable[[], None]) -> None:
    with held(doc):
        fn()
