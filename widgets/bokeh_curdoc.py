"""Make Bokeh's ``patch_curdoc`` forget its document when the patched block raises.

Bokeh 3.9's ``bokeh.io.doc.patch_curdoc`` pushes a document on a process-wide list and pops
it only when the block returns. The server runs every session callback inside it
(``invoke_with_curdoc``), so one callback that raises (any session's) leaves that session's
document as ``curdoc()`` of *every* thread for the rest of the process: code outside any
callback (a worker thread, a script, the next test) then believes it runs in that session,
and Panel caches that document's stylesheet models for widgets built elsewhere
("Models must be owned by only a single document"). The replacement pops in ``finally``;
everything else is Bokeh's.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import bokeh.io.doc as bokeh_doc

_MODULES_THAT_IMPORTED_IT = ("panel.io.handlers", "bokeh.application.handlers.code")


@contextmanager
def patch_curdoc(doc) -> Iterator[None]:
    """``bokeh.io.doc.patch_curdoc``, popping the document however the block ends."""
    bokeh_doc._PATCHED_CURDOCS.append(weakref.ref(doc))
    del doc
    try:
        yield
    finally:
        bokeh_doc._PATCHED_CURDOCS.pop()


def install() -> None:
    """Put :func:`patch_curdoc` where Bokeh and Panel look it up (idempotent)."""
    import importlib

    bokeh_doc.patch_curdoc = patch_curdoc  # bokeh.document.callbacks imports it per call
    for name in _MODULES_THAT_IMPORTED_IT:
        module = importlib.import_module(name)
        if hasattr(module, "patch_curdoc"):
            module.patch_curdoc = patch_curdoc
