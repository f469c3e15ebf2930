"""Browser test harness: serve a Panel app in-process and drive Debian's Chromium with Playwright.

Fixtures
--------
``serve_app(factory) -> url``
    Serves ``factory`` (a callable returning a Panel object, called once per browser session)
    and returns its URL. All the tests of a module share one Panel server (``app_server``, on
    a free ``127.0.0.1`` port in a background thread, stopped at the module's end); each call
    gets a route of its own (``/app3``), which answers only until its test ends. The server
    destroys a session a few seconds after its page closed (``AppServer.UNUSED_LIFETIME_MS``),
    so the run of an earlier test's page is stopped (``Workbench._on_session_destroyed``)
    instead of keeping a worker busy; a server stopped per test never destroyed its sessions.
``served``
    The real workbench (as ``create_app`` builds it) on its own route, with a fresh
    ``SPIKESTUDIO_HOME``: ``served.url``, ``served.home``, ``served.last`` (the Workbench of
    the latest session) and ``served.apps``. With the fresh context of ``browser_page`` (no
    workspace cookie) every test starts from an empty workspace and a new session.
``browser_page``
    A fresh Playwright ``Page`` (new context per test) of ``/usr/bin/chromium``. Every request
    to a host other than 127.0.0.1/localhost is aborted and recorded; console errors and
    uncaught page errors are recorded. The test FAILS if any were recorded. Opt out for a
    known benign message with ``@pytest.mark.allow_console_error(r"regex")`` (say why).
``goto_app(url)``
    ``browser_page.goto(url)`` and wait until Bokeh has rendered the document.
``wait_until(predicate, timeout=10, message=...)``
    Poll a Python-side condition (e.g. "the server callback ran") while Playwright keeps
    processing browser events; fails with ``message`` on timeout.
``browser_guard``
    The recorder behind ``browser_page`` (lists ``off_host``, ``console_errors``,
    ``page_errors``; ``reset()``), for tests that provoke a problem on purpose.
``save_screenshot(name) -> Path``
    Screenshot of ``browser_page`` into ``test-artifacts/`` (gitignored). A screenshot is also
    taken automatically when a test fails.

Every test in this directory is marked ``browser`` and is skipped (with the reason) only if
Chromium is missing. Playwright never downloads or looks up its own browsers here: we always
launch with ``executable_path``. If pytest-playwright is installed we reuse its session
``playwright`` instance (two sync Playwright instances cannot share a thread) and point its
``browser_type_launch_args`` at the same Chromium, so its ``page`` fixture works too, but
without the network/console guard: use ``browser_page``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORT = {"width": 1280, "height": 800}
# Waits for an element or a condition; a (re)load of the whole workbench gets longer: on a
# loaded 2-core machine (or with two test processes) its first load took over 15 s.
TIMEOUT_MS = 15_000
NAVIGATION_TIMEOUT_MS = 60_000

#: Regexes of console errors that are known to be harmless for every test. Keep this empty;
#: add an entry only with a comment explaining why the message is benign and cannot be fixed.
BENIGN_CONSOLE_ERRORS: tuple[str, ...] = ()

# Defence in depth: nothing in this process may fetch browsers.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

_HERE = Path(__file__).resolve().parent
_LOCAL_WS = re.compile(r"^wss?://(?!(?:127\.0\.0\.1|localhost)(?::\d+)?(?:/|$))")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_console_error(pattern): ignore browser console errors matching the "
        "regex (document why it is benign)")
    config.addinivalue_line("markers", "browser: tests that drive Debian's Chromium")


#: A browser test that *timed out* waiting for the page or the server runs once more (with
#: pytest-rerunfailures; the report lists it as rerun). On a loaded 2-core CI machine a page
#: that waits for a server round trip now and then misses its deadline (2 of ~130 in one CI
#: run, neither reproduced in 6 loaded reruns here); a wrong value, a failed assertion or a
#: browser-guard problem fails at once, and a test that times out twice fails.
RERUN_ON = (r"TimeoutError", r"^Failed: timed out after")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found: install Debian's chromium "
                                   "(apt-get install -y chromium) to run browser tests")
    rerun = config.pluginmanager.hasplugin("rerunfailures")
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)
            elif rerun and item.get_closest_marker("flaky") is None:
                item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2,
                                                  only_rerun=list(RERUN_ON)))


# ---------------------------------------------------------------------------- the guard
class BrowserGuard:
    """Records off-host requests, console errors and page errors of one browser context."""

    def __init__(self, allowed_console: list[str]) -> None:
        self.allowed = [re.compile(p) for p in allowed_console]
        self.off_host: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.log: list[str] = []  # every console message, printed when a test fails
        self._reported = 0

    def route(self, route: Any) -> None:
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.off_host.append(url)
            route.abort("blockedbyclient")

    def route_ws(self, ws: Any) -> None:
        self.off_host.append(ws.url)
        ws.close()

    def on_console(self, msg: Any) -> None:
        loc = msg.location or {}
        text = f"{msg.text} ({loc.get('url', '?')}:{loc.get('lineNumber', '?')})"
        self.log.append(f"[{msg.type}] {text}")
        if msg.type != "error":
            return
        if not any(p.search(msg.text) for p in self.allowed):
            self.console_errors.append(text)

    def on_page_error(self, error: Any) -> None:
        self.page_errors.append(str(error))

    def reset(self) -> None:
        """Forget everything recorded (for tests that provoke problems on purpose)."""
        self.off_host.clear()
        self.console_errors.clear()
        self.page_errors.clear()
        self._reported = 0

    def problems(self) -> list[str]:
        out = [f"off-host request attempted: {u}" for u in self.off_host]
        out += [f"console error: {m}" for m in self.console_errors]
        out += [f"uncaught page error: {m}" for m in self.page_errors]
        return out

    def take_new(self) -> list[str]:
        """Problems not reported yet (so call-phase and teardown checks do not repeat)."""
        found = self.problems()
        new, self._reported = found[self._reported:], len(found)
        return new


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Check the guard in the call phase so a stray request or console error fails the test
    # itself (a teardown error would be reported as an ERROR instead).
    result = yield
    guard: BrowserGuard | None = getattr(item, "_ss_guard", None)
    page = getattr(item, "_ss_page", None)
    if guard is not None:
        if page is not None and not page.is_closed():
            page.wait_for_timeout(100)  # let late console messages arrive
        problems = guard.take_new()
        if problems:
            pytest.fail("browser guard:\n  " + "\n  ".join(problems), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    report = yield
    if report.when == "call":
        item._ss_call_failed = report.failed  # type: ignore[attr-defined]
    return report


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Overrides pytest-playwright's fixture so its own ``page`` also uses Debian's Chromium."""
    return {"executable_path": str(CHROMIUM), "args": list(CHROMIUM_ARGS), "headless": True}


@pytest.fixture(scope="session")
def ss_playwright(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The session's sync Playwright instance (pytest-playwright's one when it is loaded)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found")
    if request.config.pluginmanager.hasplugin("playwright"):
        yield request.getfixturevalue("playwright")
        return
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()


@pytest.fixture(scope="session")
def ss_browser(ss_playwright: Any) -> Iterator[Any]:
    """Debian's Chromium, launched once per session with the flags from DESIGN.md."""
    browser = ss_playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def browser_page(ss_browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page in a fresh context, guarded against off-host requests and console errors."""
    allowed = list(BENIGN_CONSOLE_ERRORS)
    for marker in request.node.iter_markers("allow_console_error"):
        allowed.extend(marker.args)
    guard = BrowserGuard(allowed)
    # Note: service_workers="block" would also stop the blob: module imports of JSComponents.
    context = ss_browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.route("**/*", guard.route)
    context.route_web_socket(_LOCAL_WS, guard.route_ws)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page.on("console", guard.on_console)
    page.on("pageerror", guard.on_page_error)
    request.node._ss_guard = guard
    request.node._ss_page = page
    try:
        yield page
    finally:
        if getattr(request.node, "_ss_call_failed", False):
            print("browser console:\n  " + "\n  ".join(guard.log or ["(empty)"]))
            try:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=ARTIFACTS / f"{_safe(request.node.nodeid)}-FAILED.png")
            except Exception:  # a broken page must not hide the real failure
                pass
        problems = guard.take_new()
        request.node._ss_guard = None
        context.close()
        if problems:
            pytest.fail("browser guard (teardown):\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def browser_guard(browser_page: Any, request: pytest.FixtureRequest) -> BrowserGuard:
    """The :class:`BrowserGuard` of ``browser_page`` (``off_host``, ``console_errors``, ...)."""
    return request.node._ss_guard


class AppServer:
    """One threaded Panel server with ``ROUTES`` routes (``/app0`` ...), each bound on demand.

    A route serves the factory :meth:`bind` gave it until :meth:`release`; a page opened on a
    released or unbound route shows an error instead of another test's app.
    """

    ROUTES = 64
    # Bokeh keeps a session whose page has gone for ``unused_session_lifetime`` (default 15 s,
    # checked every 17 s); a test's closed pages would go on polling into the next tests.
    # 5 s still covers the gap between a loaded page and its websocket on a busy machine.
    CHECK_UNUSED_MS = 1000
    UNUSED_LIFETIME_MS = 5000

    def __init__(self, timeout: float = 30.0) -> None:
        import panel as pn

        self.port = _free_port()
        self._factories: dict[int, Callable[[], Any]] = {}
        self._next = 0
        routes = {f"/app{i}": self._route(i) for i in range(self.ROUTES)}
        origins = [f"127.0.0.1:{self.port}", f"localhost:{self.port}"]
        from workbench.server import TORNADO_SETTINGS  # the workspace cookie, as served

        self.server = pn.serve(
            routes, port=self.port, address="127.0.0.1", threaded=True, show=False,
            start=True, websocket_origin=origins, title="SpikeStudio test",
            check_unused_sessions_milliseconds=self.CHECK_UNUSED_MS,
            unused_session_lifetime_milliseconds=self.UNUSED_LIFETIME_MS, **TORNADO_SETTINGS)
        _wait_until_serving(self.port, timeout)

    def _route(self, index: int) -> Callable[[], Any]:
        def app() -> Any:
            # A plain function: Panel only calls *functions* per session; any other callable
            # (e.g. an object with __call__) would be rendered as a static object.
            factory = self._factories.get(index)
            if factory is None:
                raise RuntimeError(f"/app{index} is not bound to a test's app (any more)")
            return factory()

        return app

    @property
    def full(self) -> bool:
        return self._next >= self.ROUTES

    def bind(self, factory: Callable[[], Any]) -> tuple[int, str]:
        """Serve ``factory`` on the next free route; returns the route's index and URL."""
        index, self._next = self._next, self._next + 1
        self._factories[index] = factory
        return index, f"http://127.0.0.1:{self.port}/app{index}"

    def release(self, index: int) -> None:
        self._factories.pop(index, None)

    def stop(self) -> None:
        self.server.stop()
        self.server.join(timeout=10)


@pytest.fixture(scope="module")
def app_server() -> Iterator[Callable[[float], AppServer]]:
    """``app_server(timeout) -> AppServer``: the module's server, started on first use (a new
    one when it is full; ``timeout`` bounds its start)."""
    servers: list[AppServer] = []

    def current(timeout: float = 30.0) -> AppServer:
        if not servers or servers[-1].full:
            servers.append(AppServer(timeout))
        return servers[-1]

    try:
        yield current
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def serve_app(app_server: Callable[[float], AppServer]) -> Iterator[Callable[..., str]]:
    """``serve_app(factory, timeout=30) -> url``: serve a Panel app for this test.

    ``timeout`` bounds the start of the module's server when this is its first app.
    """
    bound: list[tuple[AppServer, int]] = []

    def serve(factory: Callable[[], Any], timeout: float = 30.0) -> str:
        if not callable(factory):
            raise TypeError("serve_app expects a callable returning a Panel object "
                            "(one fresh app per browser session)")
        server = app_server(timeout)
        index, url = server.bind(factory)
        bound.append((server, index))
        return url

    try:
        yield serve
    finally:
        for server, index in bound:
            server.release(index)


@pytest.fixture
def goto_app(browser_page: Any) -> Callable[[str], Any]:
    """``goto_app(url)``: open the app and wait until Bokeh has rendered its document."""

    def goto(url: str) -> Any:
        browser_page.goto(url)
        browser_page.wait_for_function(
            "() => window.Bokeh && Bokeh.documents.length > 0 && "
            "Bokeh.index && Object.keys(Bokeh.index).length > 0",
            timeout=NAVIGATION_TIMEOUT_MS)
        return browser_page

    return goto


@pytest.fixture
def wait_until(browser_page: Any) -> Callable[..., None]:
    """``wait_until(predicate, timeout=10, message="...")`` for server-side conditions."""

    def wait(predicate: Callable[[], Any], timeout: float = 10.0, message: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:g} s: {message or predicate}")
            # Waiting through Playwright keeps its event loop (and our guard) running.
            browser_page.wait_for_timeout(50)

    return wait


@pytest.fixture
def save_screenshot(browser_page: Any, request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``save_screenshot(name, full_page=False) -> Path`` into ``test-artifacts/``."""

    def save(name: str, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{_safe(request.node.name)}-{_safe(name)}.png"
        # A full-page screenshot of the whole app waits for every plot's next paint: on a
        # busy machine that takes longer than Playwright's default 15 s.
        browser_page.screenshot(path=path, full_page=full_page, timeout=60_000)
        return path

    return save


# ---------------------------------------------------------------------------- helpers
def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(port: int, timeout: float) -> None:
    # Probe a static file: requesting the app itself would create (and leak) a session.
    url = f"http://127.0.0.1:{port}/static/js/bokeh.min.js"
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except Exception as exc:  # not listening yet
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"Panel server on port {port} did not answer within {timeout} s: {last}")


# The app module configures Panel (pn.extension: notifications, design, Tabulator). `panel
# serve` runs it in every session; here one server process serves many sessions, and Panel
# keeps configuration set inside a session for that session only: import it outside any.


@contextlib.contextmanager
def spikestudio_server(home: Path, *serve_args: str) -> Iterator[tuple[str, int]]:
    """``spikestudio serve [serve_args]`` in its own process on 127.0.0.1, as a class runs
    it, with ``SPIKESTUDIO_HOME=home``; yields (url, the server's pid) and stops it after.

    ``serve`` becomes the server process (execve), so the pid is the server's own.
    """
    root = Path(__file__).resolve().parents[2]
    port = _free_port()
    env = dict(os.environ, SPIKESTUDIO_HOME=str(home),
               PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    log = open(home / "serve.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port), "--address",
         "127.0.0.1", *serve_args], cwd=root, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_serving(port, 60)
        yield f"http://127.0.0.1:{port}/", proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group only
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


import workbench.app  # noqa: E402,F401


class Served:
    """A workbench factory for ``serve_app`` that keeps each session's Workbench object, so a
    test can read server-side state (``served.last``) next to what the page shows.

    Each session is built as ``workbench.app.create_app`` builds it (without its housekeeping):
    the session id is checked against the workspace of the browser's own identity.
    """

    def __init__(self) -> None:
        self.apps: list[Any] = []
        self.url = ""
        self.home: Path | None = None

    def __call__(self):
        from workbench import identity
        from workbench.app import Workbench, session_id_from_url

        who = identity.current()
        app = Workbench(session_id=session_id_from_url(who.workspace), who=who)
        self.apps.append(app)
        return app.__panel__()

    @property
    def last(self):
        return self.apps[-1]


@pytest.fixture
def served(serve_app, tmp_path, monkeypatch) -> Served:
    """The workbench served with a fresh ``SPIKESTUDIO_HOME``; ``served.url`` is its address.

    The module's server is shared; this test's route, home and (with ``browser_page``) browser
    context are its own, so nothing of an earlier test's session reaches it.
    """
    home = tmp_path / "home"
    # The served sessions run in this process: they read the variable when they are built.
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(home))
    app = Served()
    app.home = home
    app.url = serve_app(app)
    return app
