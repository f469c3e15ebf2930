"""A served session's callbacks: their document stays theirs (widgets.session_thread)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.request

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.io import doc as bokeh_doc

from widgets import bokeh_curdoc
from widgets.session_thread import in_session_callback, run_in_session


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_raising_callback_leaves_no_current_document_behind():
    """Bokeh 3.9 kept the document of a callback that raised as every thread's curdoc()."""
    ran = threading.Event()

    def app():
        def fails():
            ran.set()
            raise RuntimeError("this callback fails on purpose")

        pn.state.curdoc.add_next_tick_callback(fails)
        return pn.pane.Markdown("a page")

    port = _free_port()
    server = pn.serve({"/app": app}, port=port, address="127.0.0.1", threaded=True,
                      show=False, start=True, websocket_origin=[f"127.0.0.1:{port}"])
    try:
        # A plain GET builds the session (no client event loop: this thread may already run
        # one, e.g. Playwright's in the single-process suite).
        deadline = time.monotonic() + 30
        while True:  # the server thread may need a moment before it accepts
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=30).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert ran.wait(30), "the session's callback never ran"
        time.sleep(0.5)  # let the failing callback's task finish
        assert bokeh_doc._PATCHED_CURDOCS == []
        assert pn.state.curdoc is None
    finally:
        server.stop()


def test_patch_curdoc_pops_its_document_when_the_block_raises():
    doc = Document()
    with pytest.raises(ValueError), bokeh_doc.patch_curdoc(doc):
        assert bokeh_doc.curdoc() is doc
        raise ValueError("raised in the block")
    assert bokeh_doc._PATCHED_CURDOCS == []
    assert bokeh_doc.patch_curdoc is bokeh_curdoc.patch_curdoc


class _Served(Document):
    """A document that looks served (a session context) without a server."""

    @property
    def session_context(self):
        return object()


def test_a_worker_thread_is_not_in_the_callback_the_server_thread_runs():
    """While the server thread runs a callback of ``doc`` (curdoc() is ``doc`` for every
    thread), a worker thread's change must go to the session's next tick."""
    doc = _Served()
    scheduled: list = []
    doc.add_next_tick_callback = scheduled.append
    called: list = []
    with bokeh_doc.patch_curdoc(doc):  # as the server thread does around a callback
        seen = {}

        def worker():
            seen["in_callback"] = in_session_callback(doc)
            run_in_session(doc, lambda: called.append("worker"))

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen["in_callback"] is False
    assert called == [] and len(scheduled) == 1


def test_the_servers_own_callback_applies_its_change_at_once():
    doc = _Served()
    called: list = []

    seen = {}

    async def callback():  # runs on an event loop, as the server's callbacks do
        with bokeh_doc.patch_curdoc(doc):
            seen["in_callback"] = in_session_callback(doc)
            run_in_session(doc, lambda: called.append("now"))

    # On a thread of its own, like the server's (this thread may already run a loop).
    thread = threading.Thread(target=lambda: asyncio.run(callback()))
    thread.start()
    thread.join()
    assert seen["in_callback"] is True
    assert called == ["now"]
