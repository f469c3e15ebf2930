"""Whose page this is: the workspace of a browser session and the id of its tab.

With Panel's authentication on (``spikestudio serve --basic-auth ...`` or OAuth) the workspace
is the logged-in user (``pn.state.user``). Without it, the server issues each browser a random
workspace id, signed, in a cookie it sets itself on the page's HTTP response
(:class:`WorkspaceCookie`: HttpOnly, so no script of the page can read it; SameSite=Lax;
Secure over https); a cookie the server did not sign is ignored (the browser gets a new, empty
workspace). Tab ids (``?session=``) are issued by the
server too and signed for their workspace, so a forged or copied id never opens another
person's autosave.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import panel as pn
from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.web import OutputTransform

from workbench import storage

COOKIE = "spikestudio_workspace"
COOKIE_MAX_AGE_S = 400 * 86400  # the longest that browsers keep a cookie


@dataclass(frozen=True)
class Identity:
    """The workspace of one browser session."""

    workspace: storage.Workspace


_by_document: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def auth_enabled() -> bool:
    """True when the server authenticates users (then ``pn.state.user`` can be trusted)."""
    if pn.config.basic_auth or pn.config.oauth_provider:
        return True
    # pn.serve(basic_auth=...) keeps it per application instead of in pn.config.
    server_config = getattr(pn.state, "_server_config", {}) or {}
    return any(isinstance(c, dict) and c.get("basic_auth") for c in server_config.values())


def current() -> Identity:
    """The identity of the session being built (the same object for the whole session).

    Outside a server session (scripts, tests) it is the ``local`` workspace.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return Identity(storage.Workspace.local())
    found = _by_document.get(doc)
    if found is None:
        found = _by_document[doc] = _resolve()
    return found


def _resolve() -> Identity:
    user = pn.state.user if auth_enabled() else None
    # Panel's "guest" comes from an unsigned cookie: never a workspace of its own.
    if user and user != "guest":
        return Identity(storage.Workspace.for_user(user))
    ident = storage.browser_id_from_token((pn.state.cookies or {}).get(COOKIE))
    if ident is None:
        # Served without WorkspaceCookie (a plain ``pn.serve``): a workspace for this session
        # only, as nothing stores it in the browser.
        ident, _ = storage.issue_browser_token()
    return Identity(storage.Workspace.for_browser(ident))


def session_id(workspace: storage.Workspace) -> str:
    """This tab's ``?session=`` id if the server issued it for ``workspace``; else a new one.

    A new id is written into the page's URL (after load) so a reload keeps the tab's autosave.
    """
    args = pn.state.session_args or {}
    raw = args.get("session", [b""])[0]
    sid = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if workspace.valid_session_id(sid):
        return sid
    sid = workspace.issue_session_id()
    location = pn.state.location
    if location is not None:
        # After load: the browser's own location would overwrite an earlier change.
        pn.state.onload(lambda: location.update_query(session=sid))
    return sid


class WorkspaceCookie(OutputTransform):
    """Sets the workspace cookie from the server, on the HTTP response of a page request.

    Installed in the Tornado application (``transforms=[WorkspaceCookie]``, see
    :func:`workbench.server.serve`); Tornado makes one per request, before the request's
    handler runs. A page request without a valid signed token gets a new one: it is put into
    the request's cookies, so the session built for this very request finds the workspace as
    a returning browser's would, and sent back in ``Set-Cookie`` with HttpOnly, SameSite=Lax
    (not Strict: a Strict cookie is not sent when a student follows a link from another site,
    and the server would hand out a new, empty workspace) and Secure when served over https.
    """

    def __init__(self, request: HTTPServerRequest):
        super().__init__(request)
        self.token: str | None = None
        self.secure = False
        if request.method != "GET" or "upgrade" in request.headers.get("Connection", "").lower():
            return  # websockets and form posts: the page request sets the cookie
        if "/static/" in request.path or auth_enabled():
            return
        held = request.cookies.get(COOKIE)
        if storage.browser_id_from_token(held.value if held else None) is not None:
            return
        _, self.token = storage.issue_browser_token()
        request.cookies[COOKIE] = self.token
        self.secure = (request.protocol == "https"
                       or request.headers.get("X-Forwarded-Proto", "") == "https")

    def transform_first_chunk(self, status_code: int, headers: HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, HTTPHeaders, bytes]:
        if self.token is not None:
            headers.add("Set-Cookie", cookie_header(self.token, self.secure))
        return status_code, headers, chunk


def cookie_header(token: str, secure: bool) -> str:
    """The ``Set-Cookie`` value that stores ``token`` in the browser."""
    return (f"{COOKIE}={token}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Lax"
            + ("; Secure" if secure else ""))
