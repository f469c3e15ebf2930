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

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import panel as pn
from bokeh.document import Document
from bokeh.document.events import (
    ColumnDataChangedEvent,
    ColumnsPatchedEvent,
    ColumnsStreamedEvent,
    ModelChangedEvent,
)
from panel.io.state import set_curdoc

from widgets import bokeh_curdoc

# Served sessions must not leak their document into other threads when a callback raises.
bokeh_curdoc.install()


@contextmanager
def held(doc: Document | None) -> Iterator[None]:
    """Collect every change to ``doc`` made in the block into one patch (served docs only).

    Outside a server session (notebook, static export, tests without a server) the block just
    runs: there is no websocket to keep in order.
    """
    if doc is None or doc.session_context is None:
        yield
        return
    if doc.callbacks.hold_value is not None:  # an outer block sends the patch
        with set_curdoc(doc):
            yield
        return
    with set_curdoc(doc), pn.io.hold(doc):
        try:
            yield
        finally:
            _drop_changes_of_detached_models(doc)


_MODEL_EVENTS = (ModelChangedEvent, ColumnDataChangedEvent, ColumnsStreamedEvent,
                 ColumnsPatchedEvent)


def _drop_changes_of_detached_models(doc: Document) -> None:
    """Forget held changes of models that left ``doc`` before the patch is sent.

    A held change is sent when the hold ends, after the block. If its model was replaced in
    the same block (a figure rebuilt after its save tool was renamed), the browser never
    received that model, and a patch naming it fails whole with "reference ... isn't known"
    (Bokeh 3.9 does not drop such events itself).
    """
    events = doc.callbacks._held_events
    kept = [e for e in events
            if not (isinstance(e, _MODEL_EVENTS) and e.model.document is not doc)]
    if len(kept) != len(events):
        doc.callbacks._held_events = kept


def change_is_held(doc: Document | None, model, attr: str) -> bool:
    """Is a replacement of ``model.attr`` waiting in ``doc``'s hold, not yet serialised?

    Such a change is serialised when the hold ends, from the value the model holds *then*.
    A ``ColumnDataSource.stream`` in the same hold changes that value in place and is also
    sent as a stream of its own, so the browser would receive the streamed rows twice.
    """
    if doc is None or doc.callbacks.hold_value is None:
        return False
    # A whole ColumnDataSource.data set is held as a ColumnDataChangedEvent, other
    # properties as a ModelChangedEvent.
    return any(isinstance(e, (ModelChangedEvent, ColumnDataChangedEvent))
               and e.model is model and e.attr == attr for e in doc.callbacks._held_events)


def run_in_session(doc: Document | None, fn: Callable[[], None]) -> None:
    """Call ``fn`` now, or on ``doc``'s next tick when called from outside its session.

    Either way its changes reach the browser as one patch (see :func:`held`).
    """
    if doc is not None and doc.session_context is not None and not in_session_callback(doc):
        doc.add_next_tick_callback(lambda: _apply_held(doc, fn))
    else:
        _apply_held(doc, fn)


def in_session_callback(doc: Document) -> bool:
    """Is this code a callback of ``doc``'s session, on the server's event loop?

    Bokeh's current document (``pn.state.curdoc``) is one list for the whole process: while
    the server thread runs a callback of ``doc``, a worker thread asking it would also get
    ``doc`` and change the session's models beside the server thread. Only a thread running
    an event loop (the server's; worker threads run none) can be in the callback.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return pn.state.curdoc is doc


def _apply_held(doc: Document | None, fn: Callable[[], None]) -> None:
    with held(doc):
        fn()
