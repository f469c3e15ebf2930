"""Workspaces: private projects, faithful Unicode names, no silent overwrite, class folder,
signed ids, housekeeping, autosave with undo history, and asking before discarding work."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from engine.errors import ProjectError, SpikeStudioError
from engine.project import MAX_NAME_CHARS, name_problem
from workbench import edits, storage
from workbench.session import SAVED_HISTORY, ProjectSession

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SPIKESTUDIO_SECRET", raising=False)
    monkeypatch.delenv("SPIKESTUDIO_AUTOSAVE_DAYS", raising=False)
    return tmp_path / "home"


def _doc(name: str, size: int = 1) -> dict:
    doc = storage.read_document(SAMPLES / storage.DEFAULT_SAMPLE)
    doc["name"] = name
    doc["network"]["nodes"][1]["size"] = size
    return doc


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------------------- names
@pytest.mark.parametrize("name, stem", [
    ("été ☃", "été"),
    ("神经网络", "神经网络"),
    ("My lab", "My_lab"),
    ("../../etc/passwd", "etc_passwd"),
    ("☃", "project"),
    ("Cafe\u0301", "Café"),  # decomposed accent: NFC keeps one letter
])
def test_file_stems_keep_unicode_letters_and_are_safe(name, stem):
    assert storage.file_stem(name) == stem
    assert "/" not in storage.file_stem(name) and not storage.file_stem(name).startswith(".")


def test_distinct_unicode_names_never_share_a_file():
    ws = storage.Workspace.for_user("ana")
    names = ["été ☃", "été", "été!", "神经网络", "ニューロン", "☃", "☃☃", "My lab", "My_lab"]
    paths = [ws.save_project(_doc(n, size=i + 1)) for i, n in enumerate(names)]
    assert len(set(paths)) == len(names)
    listed = {e.name: e.path for e in ws.list_projects()}
    assert set(listed) == set(names)
    for i, name in enumerate(names):  # each file holds its own project
        assert storage.read_document(listed[name])["network"]["nodes"][1]["size"] == i + 1


def test_a_very_long_name_gives_a_short_file_name():
    ws = storage.Workspace.for_user("ana")
    longest = "é" * MAX_NAME_CHARS  # 400 bytes of UTF-8
    path = ws.save_project(_doc(longest))
    assert len(path.name.encode()) <= 100
    assert ws.list_projects()[0].name == longest


BAD_NAMES = {
    "a\x00b": "U+0000",
    "x" * 5000: "at most 200 characters, got 5,000",
    "Lab\u202e1 bal": "U+202E RIGHT-TO-LEFT OVERRIDE",
    "Lab\u2066x\u2069": "U+2066 LEFT-TO-RIGHT ISOLATE",
    "a\u200eb": "U+200E LEFT-TO-RIGHT MARK",
    "a\u061cb": "U+061C ARABIC LETTER MARK",
    "\u200b": "U+200B ZERO WIDTH SPACE",
    "a\u200db": "U+200D ZERO WIDTH JOINER",
    "a\u2060b": "U+2060 WORD JOINER",
    "\ufeffLab": "U+FEFF ZERO WIDTH NO-BREAK SPACE",
    "a\x85b": "U+0085",
    "a\u2028b": "U+2028 LINE SEPARATOR",
}


@pytest.mark.parametrize("name", list(BAD_NAMES), ids=lambda n: repr(n[:12]))
def test_save_as_refuses_every_name_that_open_refuses_with_the_same_reason(name, tmp_path):
    ws = storage.Workspace.for_user("ana")
    session = ProjectSession("s", ws)
    session.new()
    with pytest.raises(SpikeStudioError) as refused:
        session.save(name)
    reason = name_problem(name)
    assert reason and BAD_NAMES[name] in reason
    assert str(refused.value) == f"Save as: the name {reason}."
    with pytest.raises(SpikeStudioError, match="Project name: "):
        ws.save_project(_doc(name))
    assert ws.list_projects() == [] and not ws.projects_dir.exists()
    # Open refuses a file holding that name for the very same reason.
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(_doc(name)), encoding="utf-8")
    with pytest.raises(ProjectError) as opened:
        storage.read_document(path)
    assert f"name: {reason}" in str(opened.value)


@pytest.mark.parametrize("name", ["été ☃", "神经网络", "שלום עולם", "مرحبا", "a - b (2)",
                                  "👩‍🔬"[:1] + " lab", "é" * MAX_NAME_CHARS])
def test_names_in_any_script_save_and_open_again(name):
    ws = storage.Workspace.for_user("ana")
    session = ProjectSession("s", ws)
    session.new()
    path = session.save(name)
    assert storage.read_document(path)["name"] == name


# ---------------------------------------------------------------------------- no overwrite
def test_saving_under_a_taken_name_asks_and_replace_is_explicit():
    ws = storage.Workspace.for_user("ana")
    first = ws.save_project(_doc("Lab 1", size=1))
    with pytest.raises(storage.NameTaken) as taken:
        ws.save_project(_doc("Lab 1", size=2))
    assert taken.value.path == first and taken.value.suggestion == "Lab 1 (2)"
    assert "already exists" in str(taken.value)
    assert storage.read_document(first)["network"]["nodes"][1]["size"] == 1
    assert ws.save_project(_doc("Lab 1", size=3), replace=True) == first
    assert storage.read_document(first)["network"]["nodes"][1]["size"] == 3
    assert len(ws.list_projects()) == 1


def test_session_save_as_never_overwrites_another_project():
    ws = storage.Workspace.for_user("ana")
    a = ProjectSession("a", ws)
    a.new()
    a.apply(edits.add_node, "population", "lif", 100.0, 100.0)
    path_a = a.save("Shared name")
    b = ProjectSession("b", ws)
    b.new()
    with pytest.raises(storage.NameTaken):
        b.save("Shared name")
    assert storage.read_document(path_a)["network"]["nodes"]  # A's work is intact
    assert b.path is None and b.document["name"] == "Untitled"
    # Save to its own file is fine, as is save as its own name.
    a.apply(edits.add_node, "population", "lif", 200.0, 100.0)
    assert a.save() == path_a and a.save("Shared name") == path_a
    assert len(storage.read_document(path_a)["network"]["nodes"]) == 2


def test_save_as_an_empty_name_is_refused():
    session = ProjectSession("s", storage.Workspace.for_user("ana"))
    session.new()
    with pytest.raises(SpikeStudioError, match="type a name"):
        session.save("   ")


# ---------------------------------------------------------------------------- privacy
def test_saved_projects_are_private_to_their_workspace():
    ana, bo = storage.Workspace.for_user("ana"), storage.Workspace.for_user("bo")
    path = ana.save_project(_doc("Secret lab"))
    assert [e.name for e in ana.list_projects()] == ["Secret lab"]
    assert bo.list_projects() == [] and bo.find("Secret lab") is None
    assert bo.save_project(_doc("Secret lab")) != path  # same name: another file
    with pytest.raises(SpikeStudioError, match="not a project of your workspace"):
        bo.save_project(_doc("x"), path=path)
    assert not bo.owns(path) and ana.owns(path)


def test_workspace_folders_are_hashes_not_user_names(home):
    ws = storage.Workspace.for_user("../../evil")
    ws.save_project(_doc("x"))
    assert ws.root.parent == home / "workspaces" and "evil" not in ws.root.name
    assert ws.root.resolve().is_relative_to(home.resolve())


# ---------------------------------------------------------------------------- class folder
def test_published_projects_are_listed_for_everyone_and_opened_read_only(tmp_path):
    source = tmp_path / "lab.json"
    source.write_text(json.dumps(_doc("Lab 3: STDP")))
    target = storage.publish(source)
    assert [e.name for e in storage.list_class_projects()] == ["Lab 3: STDP"]
    with pytest.raises(SpikeStudioError, match="--replace"):
        storage.publish(source)
    assert storage.publish(source, replace=True) == target

    published = storage.read_document(target)
    student = ProjectSession("s", storage.Workspace.for_user("ana"))
    student.open_path(target)
    assert student.path is None and student.source == str(target)
    student.apply(edits.add_node, "population", "lif", 100.0, 100.0)
    saved = student.save()
    assert saved.parent == student.workspace.projects_dir
    assert storage.read_document(target) == published  # the class copy is unchanged
    assert len(storage.read_document(saved)["network"]["nodes"]) == len(
        published["network"]["nodes"]) + 1


def test_publish_command(tmp_path, capsys):
    from workbench.cli import main

    source = tmp_path / "lab.json"
    source.write_text(json.dumps(_doc("Lab ☃")))
    assert main(["publish", str(source)]) == 0
    assert "published" in capsys.readouterr().out
    assert main(["publish", str(source)]) == 2
    assert "--replace" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["publish", str(bad)]) == 2
    assert "not a valid JSON document" in capsys.readouterr().err
    assert [e.name for e in storage.list_class_projects()] == ["Lab ☃"]


# ---------------------------------------------------------------------------- signed ids
def test_session_ids_are_signed_for_their_workspace():
    ana, bo = storage.Workspace.for_user("ana"), storage.Workspace.for_user("bo")
    sid = ana.issue_session_id()
    assert ana.valid_session_id(sid) and sid != ana.issue_session_id()
    assert not bo.valid_session_id(sid)  # another person's tab id is not accepted
    for forged in ["ééé", "üüü", "", None, "0" * len(sid), sid[:-1] + "x", sid + "0",
                   "headless-test"]:
        assert not ana.valid_session_id(forged)


def test_browser_tokens_are_accepted_only_when_issued_here(monkeypatch):
    ident, token = storage.issue_browser_token()
    assert storage.browser_id_from_token(token) == ident
    other_ident, _ = storage.issue_browser_token()
    assert other_ident != ident
    for forged in [ident, f"{ident}.{'0' * 16}", f"{other_ident}.{token.split('.')[1]}",
                   "", None, "a.b.c", token + "0"]:
        assert storage.browser_id_from_token(forged) is None
    # A new secret (another server) does not accept the old tokens.
    monkeypatch.setenv("SPIKESTUDIO_SECRET", "another server")
    assert storage.browser_id_from_token(token) is None


def test_the_secret_is_private_and_stable(home):
    key = storage.secret()
    assert storage.secret() == key and len(key) == 32
    assert (home / "secret.key").stat().st_mode & 0o077 == 0


# ---------------------------------------------------------------------------- autosave
def test_opening_the_page_writes_nothing_until_the_first_edit(home):
    ws = storage.Workspace.for_browser("a" * 32)
    session = ProjectSession(ws.issue_session_id(), ws)
    assert session.restore_or_open_default() is False
    assert not ws.root.exists()
    session.apply(edits.add_node, "population", "lif", 100.0, 100.0)
    assert [p.name for p in ws.autosave_dir.iterdir()] == [f"{session.session_id}.json"]


def test_undo_history_survives_a_reload():
    ws = storage.Workspace.for_user("ana")
    first = ProjectSession("tab", ws)
    first.restore_or_open_default()
    states = [first.document]
    for i in range(3):
        first.apply(edits.add_node, "population", "lif", 100.0 + 50 * i, 100.0)
        states.append(first.document)
    assert first.undo()
    reloaded = ProjectSession("tab", ws)
    assert reloaded.restore_or_open_default() is True
    assert reloaded.document == states[2] and reloaded.can_undo and reloaded.can_redo
    assert reloaded.redo() and reloaded.document == states[3]
    for expected in reversed(states[:3]):
        assert reloaded.undo() and reloaded.document == expected
    assert not reloaded.undo()


def test_saved_history_is_bounded():
    ws = storage.Workspace.for_user("ana")
    session = ProjectSession("tab", ws)
    session.new()
    for i in range(SAVED_HISTORY + 10):
        session.apply(edits.set_simulation, "duration_ms", 100.0 + i)
    state = ws.load_autosave("tab")
    assert len(state["history"]["undo"]) == SAVED_HISTORY
    reloaded = ProjectSession("tab", ws)
    reloaded.restore_or_open_default()
    steps = 0
    while reloaded.undo():
        steps += 1
    assert steps == SAVED_HISTORY


def test_a_damaged_autosave_opens_the_default_project():
    ws = storage.Workspace.for_user("ana")
    ws.autosave("tab", {"document": {"network": {"nodes": "nope"}}, "history": 5})
    session = ProjectSession("tab", ws)
    assert session.restore_or_open_default() is False
    assert session.document["name"] == "Single LIF neuron"


def test_autosaves_are_per_workspace():
    ana, bo = storage.Workspace.for_user("ana"), storage.Workspace.for_user("bo")
    session = ProjectSession("same-id", ana)
    session.new()
    session.apply(edits.add_node, "population", "lif", 100.0, 100.0)
    assert bo.load_autosave("same-id") is None
    assert ProjectSession("same-id", bo).restore_or_open_default() is False


# ---------------------------------------------------------------------------- housekeeping
def test_cleanup_removes_stale_autosaves_and_leftover_tmp_files(home):
    ws = storage.Workspace.for_user("ana")
    ws.autosave("old", {"document": {}})
    ws.autosave("new", {"document": {}})
    project = ws.save_project(_doc("Kept"))
    legacy = home / "autosave" / "legacy.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text("{}")
    killed = ws.projects_dir / ".Kept.json.abc.tmp"
    killed.write_text("half")
    writing = ws.autosave_dir / ".new.json.def.tmp"
    writing.write_text("in progress")
    now = time.time()
    month = 31 * 86400
    for path in (ws.autosave_dir / "old.json", legacy, project):
        os.utime(path, (now - month, now - month))
    os.utime(killed, (now - 600, now - 600))
    assert storage.cleanup(now=now) == {"autosaves": 2, "tmp": 1}
    assert not (ws.autosave_dir / "old.json").exists() and not legacy.exists()
    assert not killed.exists()
    assert (ws.autosave_dir / "new.json").exists() and writing.exists()
    assert project.exists()  # saved projects are never cleaned, however old
    assert storage.cleanup(autosave_days=0.001, now=now + 3600)["autosaves"] == 1


# ---------------------------------------------------------------------------- the workbench
@pytest.fixture
def workbench():
    from workbench.app import Workbench

    return Workbench(session_id="headless-test")


def test_new_over_unsaved_changes_asks_and_cancel_keeps_the_work(workbench):
    workbench.edit(edits.add_node, "population", "izhikevich", 100.0, 100.0)
    before = workbench.session.document
    workbench.file_menu.new()
    dialog = workbench.dialog
    assert dialog.confirm_bar.visible and "unsaved changes" in dialog.confirm_text.object
    assert workbench.session.document == before
    workbench.dialog.cancel()
    assert not workbench.dialog.confirm_bar.visible and workbench.session.document == before
    assert workbench.session.can_undo
    workbench.file_menu.new()
    workbench.dialog.confirm()
    assert workbench.session.document["name"] == "Untitled"
    assert not workbench.session.document["network"]["nodes"]
    assert "Untitled" in workbench.file_menu.title.object  # the header follows New
    assert workbench.file_menu.open_select.value == ""  # the neutral "Open..." entry


def test_open_and_upload_over_unsaved_changes_ask_first(workbench):
    workbench.edit(edits.add_node, "population", "izhikevich", 100.0, 100.0)
    before = workbench.session.document
    cuba = str(SAMPLES / "cuba_balanced.json")
    workbench.file_menu.open_select.value = cuba
    workbench.file_menu.open_selected()
    assert workbench.dialog.confirm_bar.visible and workbench.session.document == before
    workbench.dialog.cancel()
    upload = _doc("Uploaded")
    workbench.file_menu.upload.param.update(filename="up.json", value=json.dumps(upload).encode())
    assert workbench.dialog.confirm_bar.visible and workbench.session.document == before
    workbench.dialog.confirm()
    assert workbench.session.document["name"] == "Uploaded"


def test_not_dirty_opens_at_once_and_the_list_shows_the_open_project(workbench):
    assert workbench.file_menu.open_select.value == str(SAMPLES / storage.DEFAULT_SAMPLE)
    cuba = str(SAMPLES / "cuba_balanced.json")
    workbench.file_menu.open_select.value = cuba
    workbench.file_menu.open_selected()
    assert not workbench.dialog.confirm_bar.visible
    assert workbench.session.document["name"].startswith("CUBA")
    assert workbench.file_menu.open_select.value == cuba


def test_save_as_a_taken_name_asks_before_replacing(workbench):
    workbench.file_menu.save("Lab")
    workbench.file_menu.new()
    workbench.edit(edits.add_node, "population", "lif", 100.0, 100.0)
    workbench.file_menu.save("Lab")
    dialog = workbench.dialog
    assert dialog.confirm_bar.visible and "already exists" in dialog.confirm_text.object
    assert workbench.file_menu.save_as_name.value == "Lab (2)"
    assert workbench.session.path is None
    workbench.dialog.confirm()  # Replace it
    path = Path(workbench.session.path)
    assert len(storage.read_document(path)["network"]["nodes"]) == 1
    options = workbench.file_menu.open_select.options
    assert [label for label in options if label.startswith("Mine")] == [
        "Mine: Lab"]
    assert workbench.file_menu.open_select.value == str(path)


# ---------------------------------------------------------------------------- serve flags
def _serve_command(monkeypatch, argv):
    from workbench import cli

    calls = []
    monkeypatch.setattr(cli.os, "execve", lambda exe, cmd, env: calls.append((cmd, env)))
    code = cli.main(["serve", *argv])
    return code, calls


def test_serve_passes_authentication_to_panel(monkeypatch, tmp_path):
    users = tmp_path / "users.json"
    users.write_text('{"ana": "Secret1", "bo": "Secret2"}')
    code, calls = _serve_command(monkeypatch, ["--basic-auth", str(users),
                                               "--cookie-secret", "Long-Random-1234"])
    assert code == 0
    command, env = calls[0]
    assert command[command.index("--basic-auth") + 1] == str(users)
    assert env["PANEL_COOKIE_SECRET"] == "Long-Random-1234"
    assert "Long-Random-1234" not in command  # secrets stay out of the process list


def test_serve_refuses_authentication_without_a_cookie_secret(monkeypatch, capsys):
    monkeypatch.delenv("PANEL_COOKIE_SECRET", raising=False)
    code, calls = _serve_command(monkeypatch, ["--basic-auth", "classpassword"])
    assert code == 2 and not calls
    assert "--cookie-secret" in capsys.readouterr().err
    code, calls = _serve_command(monkeypatch, ["--autosave-days", "0"])
    assert code == 2 and "--autosave-days" in capsys.readouterr().err
    code, calls = _serve_command(monkeypatch, ["--autosave-days", "7"])
    assert code == 0 and calls[0][1]["SPIKESTUDIO_AUTOSAVE_DAYS"] == "7.0"


def test_housekeeping_runs_at_the_first_session_and_then_daily(monkeypatch, home):
    monkeypatch.setattr(storage, "_last_cleanup", float("-inf"))
    ws = storage.Workspace.for_user("ana")
    ws.autosave("old", {"document": {}})
    old = time.time() - 40 * 86400
    os.utime(ws.autosave_dir / "old.json", (old, old))
    now = time.time()
    assert storage.housekeeping(now) is True
    assert not (ws.autosave_dir / "old.json").exists()
    assert storage.housekeeping(now + 3600) is False
    assert storage.housekeeping(now + 86401) is True


def test_create_app_cleans_up_and_writes_no_autosave(monkeypatch, home):
    import workbench.app as app_module

    monkeypatch.setattr(storage, "_last_cleanup", float("-inf"))
    ws = storage.Workspace.local()
    ws.autosave("stale", {"document": {}})
    old = time.time() - 40 * 86400
    os.utime(ws.autosave_dir / "stale.json", (old, old))
    app_module.create_app()
    assert list(home.rglob("autosave/*.json")) == []
