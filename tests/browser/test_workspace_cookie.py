"""The workspace cookie is set by the server (HttpOnly, SameSite=Lax, Secure over https):
no script of the page can read it, and the workspace still holds across reloads."""

from __future__ import annotations

import re
import urllib.request

from workbench import identity, storage


def _get(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers={"Accept": "text/html", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.headers.get_all("Set-Cookie") or []


def _flags(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")]
    name, value = parts[0].split("=", 1)
    flags = {p.split("=", 1)[0].lower(): (p.split("=", 1) + [""])[1] for p in parts[1:]}
    return {"name": name, "value": value, **flags}


def test_the_page_response_sets_an_httponly_lax_cookie_the_session_uses(served):
    status, cookies = _get(served.url)
    assert status == 200 and len(cookies) == 1
    cookie = _flags(cookies[0])
    assert cookie["name"] == identity.COOKIE
    assert "httponly" in cookie and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back
    assert int(cookie["max-age"]) == identity.COOKIE_MAX_AGE_S
    # The session built for this very request is the workspace the cookie names.
    ident = storage.browser_id_from_token(cookie["value"])
    assert ident is not None and served.last.workspace == storage.Workspace.for_browser(ident)
    # A browser that sends it back keeps its workspace and gets no new cookie.
    status, again = _get(served.url, {"Cookie": f"{identity.COOKIE}={cookie['value']}"})
    assert status == 200 and again == []
    assert served.last.workspace == storage.Workspace.for_browser(ident)


def test_behind_an_https_proxy_the_cookie_is_secure_and_a_forged_one_is_replaced(served):
    forged = f"{identity.COOKIE}={'0' * 32}.forged"
    _, cookies = _get(served.url, {"X-Forwarded-Proto": "https", "Cookie": forged})
    cookie = _flags(cookies[0])
    assert "secure" in cookie and "httponly" in cookie
    assert storage.browser_id_from_token(cookie["value"]) is not None


def test_page_scripts_cannot_read_the_cookie_and_the_workspace_survives_a_reload(
        served, goto_app, browser_page):
    page = goto_app(served.url)
    page.get_by_test_id("project-name").wait_for()
    first = served.last
    assert identity.COOKIE not in page.evaluate("() => document.cookie")
    stored = [c for c in page.context.cookies() if c["name"] == identity.COOKIE]
    assert len(stored) == 1 and stored[0]["httpOnly"] and stored[0]["sameSite"] == "Lax"
    page.locator(".ss-save-as-name input").fill("Kept lab")
    page.locator(".ss-save-as-name input").press("Tab")
    page.locator(".ss-save-as button").click()
    page.get_by_test_id("save-state").filter(has_text=re.compile(r"^saved$")).wait_for()
    page.locator(".ss-open-select select option", has_text="Mine: Kept lab").wait_for(
        state="attached")  # the server has finished the save
    page.reload(wait_until="commit")  # the page, not every resource it loads
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0", timeout=60_000)
    page.get_by_test_id("project-name").wait_for()
    assert served.last is not first and served.last.workspace == first.workspace
    assert [e.name for e in served.last.workspace.list_projects()] == ["Kept lab"]
    assert identity.COOKIE not in page.evaluate("() => document.cookie")
