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
    """Press step ``step``'s Check and return the outcome's text once it is ``state``. A
    click the page lost (the outcome unchanged after 60 s) is repeated once; an outcome in
    another state fails with its text."""
    outcome = page.get_by_test_id(f"lab-outcome-{step}")
    wanted = page.locator(f"[data-testid='lab-outcome-{step}'][data-state='{state}']")
    before = outcome.get_attribute("data-state")
    for attempt in range(2):
        page.locator(f".ss-lab-check-{step} button").click()
        try:
            wanted.wait_for(timeout=60_000)
            return outcome.inner_text()
        except Exception:  # noqa: BLE001 - say what the page shows instead
            now = outcome.get_attribute("data-state")
            if attempt == 0 and now == before:
                continue  # the click never reached the server: press again
            if now == "running":
                pytest.fail(f"timed out after 60 s: step {step}'s Check still running")
            pytest.fail(f"step {step}'s Check: {now}, not {state}: {outcome.inner_text()}")
    raise AssertionError("unreachable")


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


# ---------------------------------------------------------------------------- screenshots
def _lab_cases():
    from engine.labs.catalogue import labs_in
    return [pytest.param(e.lab.id, id=e.lab.id) for e in labs_in()]


def _run_and_wait(page, app, wait_until, timeout: float = 300) -> None:
    before = app.run_bar.handle
    page.locator(".ss-run button").click()
    wait_until(lambda: app.run_bar.handle is not before and app.run_bar.handle.done and not
               app.run_bar.run_button.disabled, timeout=timeout, message="run finished")
    wait_until(lambda: app.run_bar.handle.result is not None and
               app.results.result is app.run_bar.handle.result, message="result shown")
    page.locator(f"[data-testid='result-header'][data-run='{app.results.stamp.run}']").wait_for()


@pytest.mark.parametrize("lab_id", _lab_cases())
def test_each_labs_last_step_checked_on_the_page(lab_id, served, goto_app, wait_until,
                                                 save_screenshot):
    """Open the lab's project, make it the last step's reference solution, run it when the
    check looks at a run, press that step's Check: it holds; a screenshot shows the outcome
    (and the step's figure, if it has one) for a person to look at."""
    from engine.labs.catalogue import find_lab
    from engine.labs.lab_file import solution_project

    entry = find_lab(lab_id)
    last = len(entry.lab.steps) - 1
    step = entry.lab.steps[last]
    reference = solution_project(entry.project(), entry.lab, last).to_dict()
    name = reference["name"]
    page = goto_app(served.url)
    page.get_by_test_id("project-name").wait_for()
    app = served.last
    page.locator(".ss-open-select select").select_option(label=f"Sample: {name}")
    page.locator(".ss-open button").click()
    wait_until(lambda: app.session.document.get("name") == name, message=f"opened {name}")
    app.session.apply(lambda _doc: reference)  # one edit: the steps' solutions so far
    if step.check.run:
        _run_and_wait(page, app, wait_until)
    _tab(page, "Lab notes")
    page.get_by_test_id(f"lab-step-{last}").scroll_into_view_if_needed()
    text = _check(page, last, "holds")
    assert text.strip()
    outcome = page.get_by_test_id(f"lab-outcome-{last}")
    outcome.scroll_into_view_if_needed()
    if page.locator(f".ss-lab-figure-{last} canvas").count():
        page.locator(f".ss-lab-figure-{last}").scroll_into_view_if_needed()
    save_screenshot(f"lab-{lab_id}")


def test_lif_fi_check_shows_the_measured_points_over_the_analytic_curve(
        served, goto_app, wait_until, save_screenshot):
    """The f-I step's Check draws its figure under the outcome (a Bokeh canvas)."""
    from engine.labs.catalogue import find_lab
    from engine.labs.lab_file import solution_project

    entry = find_lab("lif")
    index = [s.id for s in entry.lab.steps].index("fi-curve")
    reference = solution_project(entry.project(), entry.lab, index).to_dict()
    page = goto_app(served.url)
    page.get_by_test_id("project-name").filter(has_text="single").wait_for()  # the LIF lab
    app = served.last
    app.session.apply(lambda _doc: reference)
    _tab(page, "Lab notes")
    _check(page, index, "holds")
    figure = page.locator(f".ss-lab-figure-{index} canvas").first
    figure.wait_for(timeout=30_000)
    figure.scroll_into_view_if_needed()
    save_screenshot("lab-lif-fi-curve")
