"""Offline for real: the workbench served by ``spikestudio serve`` never reaches off the host.

The other browser tests serve the app in-process with ``pn.serve``; this one starts the real
command (``python -m workbench.cli serve``, which becomes ``python -m workbench.server``) in a
subprocess, because resources are resolved differently there. Chromium then opens the page and
uses every control and tab (Open, Save, Upload, Download, the inspector, Run, every result tab,
a cloned energy profile, the scenario editor and a scenario run). The harness aborts and
records every request to a host other than 127.0.0.1 and fails the test on any of them; the
test also lists every stylesheet URL the page's models refer to (a stylesheet that is never
fetched in this session would still be fetched in another) and the server's HTML pages.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LOCAL = {"127.0.0.1", "localhost"}

#: Every stylesheet URL held by the page's Bokeh models and every <link>/<img>/<script> URL in
#: the page, shadow roots included, resolved against the page.
_URLS = """() => {
  const out = new Set();
  for (const doc of Bokeh.documents)
    for (const m of doc.all_models)
      if (typeof m.url === "string" && m.type && m.type.includes("StyleSheet"))
        out.add(new URL(m.url, document.baseURI).href);
  const visit = (root) => {
    for (const el of root.querySelectorAll("link[href], img[src], script[src], iframe[src]"))
      out.add(new URL(el.getAttribute("href") || el.getAttribute("src"), document.baseURI).href);
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) visit(el.shadowRoot);
  };
  visit(document);
  return [...out];
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[str]:
    """``spikestudio serve`` on a free port (the real command, in its own process)."""
    port = _free_port()
    env = dict(os.environ, SPIKESTUDIO_HOME=str(tmp_path / "home"),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/static/js/bokeh.min.js", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("spikestudio serve did not start:\n"
                                + (tmp_path / "server.log").read_text()[-3000:])
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _off_host(urls, base: str = "http://127.0.0.1/") -> list[str]:
    """The URLs (relative ones resolved against ``base``) that point to another host."""
    return sorted(u for u in urls if not u.startswith(("data:", "blob:", "about:"))
                  and urlparse(urljoin(base, u)).hostname not in LOCAL)


def _tab(page, title: str) -> None:
    page.locator(".bk-tab", has_text=re.compile(f"^{re.escape(title)}$")).click()
    page.wait_for_timeout(400)


def test_real_server_pages_make_no_off_host_request(real_server, browser_page, browser_guard,
                                                    tmp_path, save_screenshot):
    # The server's own HTML (the app page, the index redirect, a 404) names no other host.
    for path in ("/app", "/", "/no-such-page"):
        try:
            with urllib.request.urlopen(real_server + path, timeout=10) as response:
                body = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
        refs = re.findall(r'(?:href|src)\s*=\s*["\']([^"\']+)', body)
        assert refs or path != "/app", "no resource found in the app page: the check is broken"
        assert _off_host(refs, real_server + path) == [], f"{path} refers to another host"

    page = browser_page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(real_server + "/app")
    page.get_by_test_id("project-name").wait_for(timeout=60_000)

    # File controls: open a sample, save, download, upload.
    # A network with spike inputs, so the Scenarios tab can rate it.
    page.locator(".ss-open-select select").select_option(
        label="Sample: Energy: sparse events vs dense frames")
    page.locator(".ss-open button").click()
    page.get_by_test_id("message").filter(has_text="Opened").wait_for()
    page.locator(".ss-save button").click()
    page.get_by_test_id("message").filter(has_text="Saved").wait_for()
    with page.expect_download() as download:
        page.locator(".ss-download button, .ss-download a").first.click()
    uploaded = tmp_path / "again.json"
    uploaded.write_bytes(Path(download.value.path()).read_bytes())
    page.locator(".ss-upload input[type='file']").set_input_files(str(uploaded))
    page.get_by_test_id("message").filter(has_text="Opened again.json").wait_for()

    # The inspector for a node; Run; every result tab.
    page.locator('[data-node-id="hidden"] .body').click()
    page.locator(".ss-inspector [data-testid='inspector-title']", has_text="hidden").wait_for()
    page.locator(".ss-run button").click()
    page.locator("[data-testid='result-status'][data-status='completed']").wait_for(
        timeout=120_000)
    for title in ("Activity", "Traces", "Summary", "Weights (STDP)", "Lab notes"):
        _tab(page, title)
    _tab(page, "Energy")
    page.locator(".ss-profile-clone button").click()
    page.locator("[data-testid='ss-energy-totals'][data-profile='loihi_custom']").first.wait_for(
        timeout=90_000)  # the Energy tab prices the run when it opens
    _tab(page, "Scenarios")
    page.get_by_text("Scenario definitions", exact=True).click()
    page.locator(".ss-scenarios-json textarea").wait_for()
    page.locator(".ss-scenarios-run button").click()
    page.locator("[data-testid='scenario-state'][data-state='completed'], "
                 "[data-testid='scenario-state'][data-state='error']").wait_for(timeout=120_000)
    page.wait_for_timeout(500)
    save_screenshot("real-server")

    referenced = page.evaluate(_URLS)
    assert referenced, "the page's models list no stylesheet at all: the check is broken"
    assert _off_host(referenced) == [], "stylesheets or resources on another host"
    assert _off_host(requests) == [], "requests to another host"
    assert browser_guard.off_host == []
    assert any("/static/" in u for u in requests), "the page loaded nothing from our server"
