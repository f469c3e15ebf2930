"""The server ``spikestudio serve`` becomes: the workbench page, one per browser session.

Built with ``pn.serve`` rather than the ``panel serve`` command so that the Tornado application
can be given :class:`workbench.identity.WorkspaceCookie`, which sets the workspace cookie on
the page's HTTP response (HttpOnly: no script of the page can read it). Run as
``python -m workbench.server`` by :mod:`workbench.cli`, which checks the options and puts the
secrets in the environment (``PANEL_COOKIE_SECRET``, ``PANEL_OAUTH_KEY``,
``PANEL_OAUTH_SECRET``) so they never show in the process list.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from workbench.identity import WorkspaceCookie

#: Tornado settings every SpikeStudio server needs (the test servers too).
TORNADO_SETTINGS: dict[str, Any] = {"transforms": [WorkspaceCookie]}


def serve(port: int, address: str, origins: list[str], *, show: bool = False,
          basic_auth: str | None = None, login_template: str | None = None,
          oauth_provider: str | None = None) -> None:
    """Serve the workbench at ``/app`` until the process is stopped."""
    import panel as pn

    from workbench.app import create_app

    auth: dict[str, Any] = {}
    if basic_auth or oauth_provider:
        auth["cookie_secret"] = os.environ["PANEL_COOKIE_SECRET"]
    if basic_auth:
        auth.update(basic_auth=basic_auth, login_template=login_template)
    if oauth_provider:
        auth.update(oauth_provider=oauth_provider, oauth_key=os.environ.get("PANEL_OAUTH_KEY"),
                    oauth_secret=os.environ.get("PANEL_OAUTH_SECRET"))
    pn.serve({"app": create_app}, port=port, address=address, websocket_origin=origins,
             show=show, title="SpikeStudio", **auth, **TORNADO_SETTINGS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--allow-websocket-origin", action="append", default=[])
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--basic-auth", default=None)
    parser.add_argument("--basic-login-template", default=None)
    parser.add_argument("--oauth-provider", default=None)
    args = parser.parse_args(argv)
    serve(args.port, args.address, args.allow_websocket_origin, show=args.show,
          basic_auth=args.basic_auth, login_template=args.basic_login_template,
          oauth_provider=args.oauth_provider)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
