"""Offline for real: every Panel resource URL of a session points at the serving host."""

from __future__ import annotations

import panel as pn
import panel.reactive
from panel.io.resources import LOCAL_DIST, use_cdn


def _local_fallback_for_detached_models() -> None:
    """Panel patches a stylesheet to its CDN when the model has no document (yet).

    ``Reactive._get_properties`` / ``_update_model`` fall back to ``CDN_DIST`` when a pane is
    updated while its model is detached, which happens to every HTML pane in a hidden dynamic
    tab: its ``loading.css`` then points at cdn.holoviz.org and the browser asks the internet
    for it when the tab is shown (Panel 1.9.4). The fallback of a server that serves its own
    resources is its own copy, so that is what this module sets for ``panel.reactive``.
    """
    if not use_cdn():
        panel.reactive.CDN_DIST = LOCAL_DIST


_local_fallback_for_detached_models()


def serve_resources_locally() -> None:
    """Make every Panel stylesheet URL of this session point at our server from the start.

    Panel builds design, theme and widget stylesheet URLs on its CDN
    (``https://cdn.holoviz.org/...``) and rewrites them to the server's own copy only from
    the document's ``dist_url``, which it sets when it renders the HTML page. Models created
    before that, or reached by no root at that moment, kept CDN URLs (five CSS files of the
    Bootstrap design); a classroom without internet then lost its styling. Setting
    ``dist_url`` before any model exists makes every URL local.
    """
    doc = pn.state.curdoc
    if doc is None or use_cdn():
        return
    rel = pn.state.rel_path
    doc._template_variables.setdefault("dist_url", f"{rel}/{LOCAL_DIST}" if rel else LOCAL_DIST)
