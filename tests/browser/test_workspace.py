"""Workspaces in a real browser: each browser keeps its own projects and autosaves, forged
ids are ignored, nothing is discarded without asking, undo survives a reload."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from workbench import storage

pytestmark = pytest.mark.browser


# ``served`` (tests/browser/conftest.py): the workbench as create_app builds it, with
# ``served.home`` its fresh SPIKESTUDIO_HOME.


def _ready(page):
    page.get_by_test_id("project-name").wait_for()
    return page


def _session_of(page) -> str:
    return parse_qs(urlparse(page.url).query).get("session", [""])[0]


def _wait_for_session_in_url(page, wait_until) -> str:
    wait_until(lambda: _session_of(page), message="session id in the URL")
    return _session_of(page)


def _has_izhikevich(app) -> bool:
    return any(n["id"] == "izhikevich" for n in app.session.document["network"]["nodes"])


def _add_izhikevich(page, app, wait_until) -> None:
    page.get_by_test_id("palette-population-izhikevich").click()
    page.locator('[data-node-id="izhikevich"]').wait_for()
    wait_until(lambda: _has_izhikevich(app), message="the server applied the edit")


def _open_labels(page) -> list[str]:
    return page.locator(".ss-open-select select option").all_inner_texts()


def _save_as(page, name: str) -> None:
    page.locator(".ss-save-as-name input").fill(name)
    page.locator(".ss-save-as-name input").press("Tab")
    page.locator(".ss-save-as button").click()
    page.get_by_test_id("save-state").filter(has_text=re.compile(r"^saved$")).wait_for()


def test_two_browsers_do_not_see_each_others_projects(served, goto_app, ss_browser,
                                                      wait_until):
    page_a = _ready(goto_app(served.url))
    _save_as(page_a, "Alpha lab ☃")
    page_a.locator(".ss-open-select select option", has_text="Mine: Alpha lab ☃").wait_for(
        state="attached")
    app_a = served.last
    context = ss_browser.new_context()
    try:
        page_b = _ready(_goto(context.new_page(), served.url))
        app_b = served.last
        assert app_b is not app_a and app_b.workspace != app_a.workspace
        assert not [label for label in _open_labels(page_b) if label.startswith("Mine")]
        # The same name in B is B's own project, not a replacement of A's.
        _save_as(page_b, "Alpha lab ☃")
        assert app_b.session.path != app_a.session.path
        assert storage.read_document(app_a.session.path)["name"] == "Alpha lab ☃"
    finally:
        context.close()
    # A's browser keeps its workspace across a reload (the cookie) and still lists its project.
    page_a.reload()
    _ready(page_a)
    assert served.last.workspace == app_a.workspace
    assert [label for label in _open_labels(page_a) if label.startswith("Mine")] == [
        "Mine: Alpha lab ☃"]


def _goto(page, url):
    page.goto(url)
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")
    return page


def test_a_forged_session_cannot_load_anothers_autosave(served, goto_app, ss_browser,
                                                        wait_until):
    page_a = _ready(goto_app(served.url))
    app_a = served.last
    _add_izhikevich(page_a, app_a, wait_until)
    sid_a = _wait_for_session_in_url(page_a, wait_until)
    wait_until(lambda: app_a.workspace.load_autosave(sid_a) is not None, message="autosave")
    context = ss_browser.new_context()
    try:
        page_b = _ready(_goto(context.new_page(), f"{served.url}?session={sid_a}"))
        app_b = served.last
        assert app_b.session_id != sid_a
        assert not _has_izhikevich(app_b)
        wait_until(lambda: _session_of(page_b) not in ("", sid_a), message="a new session id")
        assert page_b.locator('[data-node-id="izhikevich"]').count() == 0
        # User-chosen ids are never adopted either.
        for forged in ("ééé", "üüü"):
            _ready(_goto(page_b, f"{served.url}?session={forged}"))
            assert served.last.session_id not in (forged, sid_a)
        # A forged workspace cookie is ignored: a fresh, empty workspace.
        context.add_cookies([{"name": "spikestudio_workspace", "value": "0" * 32 + ".forged",
                              "url": served.url}])
        _ready(_goto(page_b, served.url))
        assert served.last.workspace not in (app_b.workspace, served.apps[0].workspace)
    finally:
        context.close()


def test_looking_writes_nothing_and_the_first_edit_autosaves(served, goto_app, wait_until):
    page = _ready(goto_app(served.url))
    _wait_for_session_in_url(page, wait_until)
    page.reload()
    _ready(page)
    page.wait_for_timeout(300)
    assert not (served.home / "workspaces").exists()
    app = served.last
    _add_izhikevich(page, app, wait_until)
    wait_until(lambda: app.workspace.load_autosave(app.session_id) is not None,
               message="autosave after the first edit")


def test_new_over_unsaved_changes_asks_and_cancel_keeps_the_work(served, goto_app, wait_until,
                                                                 save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _add_izhikevich(page, app, wait_until)
    page.locator(".ss-new button").click()
    question = page.get_by_test_id("confirm")
    question.wait_for()
    assert "unsaved changes" in question.inner_text()
    save_screenshot("asks")
    page.locator(".ss-confirm-no button").click()
    question.wait_for(state="hidden")
    page.locator('[data-node-id="izhikevich"]').wait_for()
    assert _has_izhikevich(app)
    page.locator(".ss-new button").click()
    page.locator(".ss-confirm-yes button").click()
    page.get_by_test_id("project-name").filter(has_text="Untitled").wait_for()
    page.locator('[data-node-id="izhikevich"]').wait_for(state="detached")
    wait_until(lambda: page.locator(".ss-open-select select").input_value() == "Open...",
               message='the Open list shows "Open..."')


def test_undo_works_after_reload(served, goto_app, wait_until):
    page = _ready(goto_app(served.url))
    _add_izhikevich(page, served.last, wait_until)
    _wait_for_session_in_url(page, wait_until)
    page.reload()
    _ready(page)
    page.locator('[data-node-id="izhikevich"]').wait_for()
    page.locator(".ss-undo button:not([disabled])").wait_for()
    page.locator(".ss-undo button").click()
    page.locator('[data-node-id="izhikevich"]').wait_for(state="detached")
    assert not _has_izhikevich(served.last)


def test_the_open_list_shows_the_open_project(served, goto_app):
    page = _ready(goto_app(served.url))
    assert page.locator(".ss-open-select select option:checked").inner_text() == (
        "Sample: Single LIF neuron")
    page.locator(".ss-open-select select").select_option(label="Sample: CUBA balanced network")
    page.locator(".ss-open button").click()
    page.get_by_test_id("project-name").filter(has_text="CUBA").wait_for()
    assert page.locator(".ss-open-select select option:checked").inner_text() == (
        "Sample: CUBA balanced network")


@pytest.fixture
def class_server(tmp_path):
    """``spikestudio serve --basic-auth users.json --cookie-secret ...`` on a free port."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    users = tmp_path / "users.json"
    users.write_text(json.dumps({"ana": "Ana-pass-1", "bo": "Bo-pass-2"}))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, SPIKESTUDIO_HOME=str(tmp_path / "home"),
               PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "serve", "--port", str(port), "--basic-auth",
         str(users), "--cookie-secret", "a-long-random-cookie-secret-for-tests"],
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
        yield url, tmp_path / "home"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _login(page, url: str, user: str, password: str):
    page.goto(f"{url}/app")
    page.locator("input[name='username']").fill(user)
    page.locator("input[name='password']").fill(password)
    page.locator("input[name='password']").press("Enter")
    return _ready(page)


@pytest.mark.slow
def test_logged_in_users_each_get_their_own_workspace(class_server, browser_page, ss_browser):
    url, home = class_server
    page_a = _login(browser_page, url, "ana", "Ana-pass-1")
    assert page_a.get_by_test_id("workspace").inner_text() == "Workspace: ana"
    _save_as(page_a, "Ana's lab")
    context = ss_browser.new_context()
    try:
        page_b = context.new_page()
        page_b.goto(f"{url}/app")
        page_b.locator("input[name='username']").fill("ana")
        page_b.locator("input[name='password']").fill("Bo-pass-2")
        page_b.locator("input[name='password']").press("Enter")
        page_b.get_by_role("alert").filter(has_text="Invalid username or password").wait_for()
        page_b = _login(page_b, url, "bo", "Bo-pass-2")
        assert page_b.get_by_test_id("workspace").inner_text() == "Workspace: bo"
        assert not [label for label in _open_labels(page_b) if label.startswith("Mine")]
    finally:
        context.close()
    owners = [json.loads(p.read_text())["label"]
              for p in (home / "workspaces").glob("*/workspace.json")]
    assert owners == ["ana"]


def test_upload_over_unsaved_changes_asks_and_the_same_file_can_be_chosen_again(
        served, goto_app, wait_until, tmp_path):
    page = _ready(goto_app(served.url))
    app = served.last
    _add_izhikevich(page, app, wait_until)
    doc = storage.read_document(storage.SAMPLES_DIR / "cuba_balanced.json")
    doc["name"] = "Uploaded CUBA"
    path = tmp_path / "up.json"
    path.write_text(json.dumps(doc))
    upload = page.locator(".ss-upload input[type='file']")
    upload.set_input_files(str(path))
    page.get_by_test_id("confirm").wait_for()
    page.locator(".ss-confirm-no button").click()
    page.get_by_test_id("confirm").wait_for(state="hidden")
    assert _has_izhikevich(app)
    upload.set_input_files(str(path))  # the same file again: asked again
    page.get_by_test_id("confirm").wait_for()
    page.locator(".ss-confirm-yes button").click()
    page.get_by_test_id("project-name").filter(has_text="Uploaded CUBA").wait_for()
    assert not _has_izhikevich(app)


def test_class_projects_are_listed_for_everyone_and_saved_as_a_copy(served, goto_app, tmp_path,
                                                                   save_screenshot):
    doc = storage.read_document(storage.SAMPLES_DIR / "cuba_balanced.json")
    doc["name"] = "Lab 2: 平衡网络"
    source = tmp_path / "lab2.json"
    source.write_text(json.dumps(doc, ensure_ascii=False))
    published = storage.publish(source)
    page = _ready(goto_app(served.url))
    app = served.last
    page.locator(".ss-open-select select").select_option(label="Class: Lab 2: 平衡网络")
    page.locator(".ss-open button").click()
    page.get_by_test_id("project-name").filter(has_text="平衡网络").wait_for()
    assert app.session.path is None  # read-only: Save makes the student's own copy
    page.locator(".ss-save button").click()
    page.get_by_test_id("save-state").filter(has_text=re.compile(r"^saved$")).wait_for()
    assert app.workspace.owns(app.session.path)
    assert storage.read_document(published) == storage.read_document(source)
    page.locator(".ss-open-select select option", has_text="Mine: Lab 2: 平衡网络").wait_for(
        state="attached")
    save_screenshot("class-copy-saved")
