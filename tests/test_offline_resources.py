"""The workbench's session document never refers to Panel's CDN (offline classrooms)."""

from __future__ import annotations

from urllib.parse import urlparse

from bokeh.document import Document
from bokeh.models import ImportedStyleSheet


def test_session_stylesheets_are_local_from_the_first_model(tmp_path, monkeypatch):
    # Panel rewrites CDN stylesheet URLs only when it renders the page; a model that misses
    # that pass must still not send the browser to cdn.holoviz.org.
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path))
    from panel.io.state import set_curdoc

    from workbench.app import create_app
    from workbench.offline import serve_resources_locally

    doc = Document()
    with set_curdoc(doc):
        serve_resources_locally()  # what workbench/app.py does before create_app()
        doc.add_root(create_app().get_root(doc))
    urls = {m.url for m in doc.models if isinstance(m, ImportedStyleSheet)}
    assert urls, "no stylesheet found: the check is broken"
    remote = sorted(u for u in urls if urlparse(u).scheme or u.startswith("//"))
    assert remote == []
    assert all("static/extensions/panel/" in u for u in urls), urls


def test_a_pane_updated_while_detached_keeps_local_stylesheets():
    """A pane in a hidden dynamic tab is updated with no document: Panel fell back to its CDN."""
    import panel as pn

    import workbench.offline  # noqa: F401 - sets the local fallback on import

    pane = pn.pane.HTML("<p>before</p>")
    model = pane.get_root(Document())  # a root that is in no document: detached, as in a
    assert model.document is None      # dynamic tab that is not shown
    pane.object = "<p>after</p>"  # Panel re-resolves the stylesheets without a document
    urls = [s.url for s in model.stylesheets if isinstance(s, ImportedStyleSheet)]
    assert urls, "no stylesheet found: the check is broken"
    assert not [u for u in urls if urlparse(u).scheme or u.startswith("//")], urls
