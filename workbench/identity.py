"""Whose page this is: the workspace of a browser session and the id of its tab.

With Panel's authentication on (``spikestudio serve --basic-auth ...`` or OAuth) the workspace
is the logged-in user (``pn.state.user``). Without it, the server issues each browser a random
workspace id, signed, which the page keeps in a cookie; a cookie the server did not sign is
ignored (the browser gets a new, empty workspace). Tab ids (``?session=``) are issued by the
server too and signed for their workspace, so a forged or copied id never opens another
person's autosave.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import panel as pn
import param

from workbench import storage

COOKIE = "spikestudio_workspace"
COOKIE_MAX_AGE_S = 400 * 86400  # the longest that browsers keep a cookie


@dataclass(frozen=True)
class Identity:
    """The workspace of one browser session and the cookie token to (re)store, if any."""

    workspace: storage.Workspace
    cookie_token: str = ""


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
    token = (pn.state.cookies or {}).get(COOKIE)
    ident = storage.browser_id_from_token(token)
    if ident is None:
        ident, token = storage.issue_browser_token()
    return Identity(storage.Workspace.for_browser(ident), token)


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


class CookieWriter(pn.custom.JSComponent):
    """Stores the workspace token in the browser (an invisible element of the page).

    The token is signed by the server, so the browser can keep it but not invent one.
    """

    token = param.String(default="", doc="Signed workspace token ('' writes nothing).")
    max_age_s = param.Integer(default=COOKIE_MAX_AGE_S)

    _esm = """
export function render({ model }) {
  // Lax, not Strict: a Strict cookie is not sent when a student follows a link from another
  // site, and the server would then hand out (and store) a new, empty workspace.
  const write = () => {
    if (!model.token) return;
    const secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `__COOKIE__=${model.token}; path=/; max-age=${model.max_age_s}` +
                      `; SameSite=Lax${secure}`;
  };
  write();
  model.on("token", write);
  const el = document.createElement("span");
  el.className = "ss-workspace-cookie";
  return el;
}
""".replace("__COOKIE__", COOKIE)

    def __init__(self, **params):
        params.setdefault("width", 0)
        params.setdefault("height", 0)
        params.setdefault("margin", 0)
        super().__init__(**params)
