"""Offline for real: every Panel resource URL of a session points at the serving host."""

from __future__ import annotations

import panel as pn


def serve_resources_locally() -> None:
    """Make every Panel stylesheet URL of this session point at our server from the start.

    Panel builds design, theme and widget stylesheet URLs on its CDN
    (``https://cdn.holoviz.org/...``) and rewrites them to the server's own copy only from
    the document's ``dist_url``, which it sets when it renders the HTML page. Models created
    before that, or reached by no root at that moment, kept CDN URLs (five CSS files of the
    Bootstrap design); a classroom without internet then lost its styling. Setting
    ``dist_url`` before any model exists makes every URL local.
    """
    from panel.io.resources import LOCAL_DIST, use_cdn

    doc = pn.state.curdoc
    if doc is None or use_cdn():
        return
    rel = pn.state.rel_path
    doc._template_variables.setdefault("dist_url", f"{rel}/{LOCAL_DIST}" if rel else LOCAL_DIST)
