"""A lab in a real browser on a class server: follow step 1 of the LIF lab, Check passes; move
the input away, Check fails with a hint; the lecturer's table shows both attempts, another
student sees nobody's progress."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

USERS = {"sam": "Sam-pass-1", "bo": "Bo-pass-2", "lena": "Lena-pass-3"}


@pytest.fixture
def class_server(tmp_path):
    """``spikestudio serve --basic-auth users.json --lecturers lena`` in a subprocess."""
    users = tmp_path / "users.json"
    users.write_text(json.dumps(USERS))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, SPIKESTUDIO_HOME=str(tmp_path / "home"),
               PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port), "--basic-auth",
         str(users), "--cookie-secret", "a-long-random-cookie-secret-for-tests",
         "--lecturers", "lena"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/static/extensions/panel/css/loading.css",
                                       timeout=2)
                break
            except OSError:
                assert proc.poll() is None, "server exited"
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _login(page, url: str, user: str):
    page.goto(f"{url}/app")
    page.locator("input[name='username']").fill(user)
    page.locator("input[name='password']").fill(USERS[user])
    page.locator("input[name='password']").press("Enter")
    page.get_by_test_id("project-name").wait_for()
    return page


def _tab(page, title: str) -> None:
    page.locator(".bk-tab", has_text=re.compile(f"^{re.escape(title)}")).click()


def _run(page, run: int) -> None:
    page.locator(".ss-run button").click()
    page.locator(f"[data-testid='result-header'][data-run='{run}']"
                 f":not([data-live='true'])").wait_for(timeout=120_000)


def _check(page, step: int, state: str):
    page.locator(f".ss-lab-check-{step} button").click()
    outcome = page.locator(f"[data-testid='lab-outcome-{step}'][data-state='{state}']")
    outcome.wait_for(timeout=60_000)
    return outcome.inner_text()


def test_lif_lab_check_progress_and_the_lecturers_table(class_server, browser_page, ss_browser,
                                                        save_screenshot):
    url = class_server
    page = _login(browser_page, url, "sam")
    page.get_by_test_id("project-name").filter(has_text="single").wait_for()  # the LIF lab
    # Step 1: run the project as it is (2 mV) and check: the neuron stays silent.
    _run(page, 1)
    _tab(page, "Lab notes")
    page.get_by_test_id("lab-step-0").wait_for()
    assert "no spike" in _check(page, 0, "holds")
    page.locator("[data-testid='lab-step-0'][data-ticked='true']").wait_for()
    # Move the input far above the threshold: the same check now fails, with a hint.
    page.locator('[data-node-id="input"] .body').click()
    field = page.locator(".ss-inspector .param-amplitude input").first
    field.fill("15")
    field.press("Tab")
    _run(page, 2)
    _tab(page, "Lab notes")
    text = _check(page, 0, "missing")
    assert "fired" in text and "Hint:" in text
    save_screenshot("lab-check-fails-with-hint")
    assert page.get_by_test_id("class-progress").count() == 0  # a student: no class table

    context = ss_browser.new_context()
    try:
        other = _login(context.new_page(), url, "bo")  # another student: nothing of sam's
        _tab(other, "Lab notes")
        other.locator("[data-testid='lab-step-0'][data-ticked='false']").wait_for()
        assert other.get_by_test_id("class-progress").count() == 0
        assert "sam" not in other.locator("body").inner_text()
    finally:
        context.close()

    context = ss_browser.new_context()
    try:
        lecturer = _login(context.new_page(), url, "lena")
        _tab(lecturer, "Lab notes")
        table = lecturer.get_by_test_id("class-progress")
        table.wait_for()
        header = table.locator("thead th").all_inner_texts()
        row = table.locator("tbody tr", has_text="sam").locator("td").all_inner_texts()
        assert row[header.index("lif/below-threshold")] == "1/2"  # both attempts, one held
        users = [r.locator("td").first.inner_text() for r in table.locator("tbody tr").all()]
        assert users == ["sam"]  # bo checked nothing
    finally:
        context.close()
