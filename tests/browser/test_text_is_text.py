"""Text is text: no HTML or script from a project, a file name or an error reaches the page.

A project carrying script payloads in every free-text field (name, description, lab notes, node
labels, an energy profile's name and description, a scenario's name, description and tags) is
uploaded under a file name that is itself a payload; a second upload with a payload as node id
provokes validation messages. The test then opens the inspector for every node and projection,
runs the network, opens every result tab (selecting the payload profile and running the payload
scenario) and checks after every step that

* no script ran (``window.__xss`` stays undefined, no ``alert``/``confirm`` dialog opened);
* no element anywhere (shadow roots included) carries an event-handler attribute or a
  ``javascript:`` URL, and no image or link points off the host (the harness also fails the
  test on any off-host request);
* the payload is visible *as text* where the field is shown.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.energy import model as E
from engine.evaluation.scenario_fit import default_scenarios, scenario_to_dict
from engine.project import validate_document

pytestmark = pytest.mark.browser
SAMPLES = Path(__file__).resolve().parents[2] / "sample_projects"

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = '<svg onload="window.__xss=1"></svg>'
LINK = '<a href="javascript:window.__xss=1">raw link</a>'
MD = "[md link](javascript:window.__xss=1) and ![remote](http://evil.example/x.png)"
ALL = f"{IMG} {SCRIPT} {SVG} {LINK}"

NAME = f"Name {IMG}"
LABELS = {"input": f"Input {SVG}", "neuron": f"Neuron {IMG}", "membrane": f"Monitor {SCRIPT}",
          "noise": f"Noise {LINK}"}
PROFILE = f"Profile {IMG}"
SCENARIO = f"Scenario {SVG}"
FILE_NAME = f'up{IMG}.json'
BAD_ID = IMG
BAD_PROJECTION = f"p{SVG}"
BAD_PROFILE = f"q{SCRIPT}"
BAD_SCENARIO = f"s{LINK}"

#: Finds anything in the page (shadow roots included) that could run script.
_SCAN = """() => {
  const bad = [];
  const urlAttrs = new Set(["href", "src", "xlink:href", "action", "formaction", "data"]);
  const visit = (root, inShadow) => {
    for (const el of root.querySelectorAll("*")) {
      for (const a of el.attributes) {
        const n = a.name.toLowerCase(), v = (a.value || "").replace(/\\s+/g, "").toLowerCase();
        if (n.startsWith("on")) bad.push(`${el.tagName} ${n}=${a.value}`);
        if (urlAttrs.has(n) && (v.startsWith("javascript:") || v.startsWith("vbscript:")))
          bad.push(`${el.tagName} ${n}=${a.value}`);
        const remote = /^(https?:)?\\/\\//.test(v) &&
          !/^(https?:)?\\/\\/(127\\.0\\.0\\.1|localhost)[:/]/.test(v);
        if (urlAttrs.has(n) && remote && ["IMG", "IFRAME", "SCRIPT"].includes(el.tagName))
          bad.push(`${el.tagName} ${n}=${a.value}`);
      }
      if (inShadow && ["SCRIPT", "IFRAME", "OBJECT", "EMBED"].includes(el.tagName))
        bad.push(`${el.tagName} in a component: ${el.outerHTML.slice(0, 120)}`);
      if (el.shadowRoot) visit(el.shadowRoot, true);
    }
  };
  visit(document, false);
  return {xss: window.__xss === undefined ? null : String(window.__xss), bad};
}"""


def payload_project() -> dict[str, Any]:
    """A valid project with a payload in every free-text field."""
    doc = json.loads((SAMPLES / "lif_single_neuron.json").read_text())
    doc["name"] = NAME
    doc["description"] = f"Description {ALL} {MD}"
    doc["lab"] = (f"# Lab {IMG}\n\n## Part {SCRIPT}\n\n* item {SVG}\n* {LINK}\n\n{MD}\n\n"
                  "`code <b>` and math $v_{th} = -50$ mV\n")
    net = doc["network"]
    net["nodes"].append({"id": "noise", "kind": "encoder", "model": "poisson", "size": 5,
                         "label": "", "params": {}})
    net["projections"].append({"id": "noise_drive", "source": "noise", "target": "neuron",
                               "connectivity": {"rule": "all_to_all"}, "weight": 2.0,
                               "delay_ms": 1.0, "receptor": "exc", "plasticity": None})
    doc["layout"]["positions"]["noise"] = [80, 300]
    for node in net["nodes"]:
        node["label"] = LABELS[node["id"]]
    profile = E.clone_profile(E.load_profiles()["loihi"], "evil_profile").to_dict()
    profile.update(name=PROFILE, description=f"Profile description {ALL}")
    doc["energy"] = {"profiles": {"evil_profile": profile}}
    scenario = scenario_to_dict(default_scenarios()[0])
    scenario.update(id="evil_scenario", name=SCENARIO, description=f"About {ALL}",
                    duration_ms=100.0, window_ms=50.0, tags={"data": f"tag {IMG}"})
    doc["scenarios"] = [scenario]
    doc["simulation"]["duration_ms"] = 100.0
    assert validate_document(doc) == [], "the payload project must be valid to be opened"
    return doc


class Watch:
    """Dialogs opened by a page, and the check that nothing ran."""

    def __init__(self, page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def check(self, step: str) -> None:
        self.page.wait_for_timeout(150)  # let an injected onerror/onload fire first
        found = self.page.evaluate(_SCAN)
        assert found["xss"] is None, f"{step}: a payload ran (window.__xss = {found['xss']})"
        assert not self.dialogs, f"{step}: a dialog opened: {self.dialogs}"
        assert not found["bad"], f"{step}: script-capable markup in the page: {found['bad']}"


def _upload(page, name: str, document: dict | bytes) -> None:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    page.locator(".ss-upload input[type='file']").set_input_files(
        files=[{"name": name, "mimeType": "application/json", "buffer": data}])


def _tab(page, title: str) -> None:
    page.locator(".bk-tab", has_text=re.compile(f"^{re.escape(title)}$")).click()


def _click_edge(page, edge_id: str) -> None:
    line = page.locator(f'[data-edge-id="{edge_id}"] .line')
    line.wait_for(state="attached")  # a straight line has no area: "hidden" to Playwright
    point = line.evaluate(
        """p => { const L = p.getTotalLength(), q = p.getPointAtLength(L / 2),
                  m = p.getScreenCTM();
                  return [q.x * m.a + q.y * m.c + m.e, q.x * m.b + q.y * m.d + m.f]; }""")
    page.mouse.click(*point)


def _text(page, testid: str) -> str:
    locator = page.get_by_test_id(testid).first
    locator.wait_for()
    return locator.inner_text()


# Toasts are brief (2.5-5 s): a loaded machine can miss them with a locator. Record the text
# of every toast the page shows instead, as the browser renders it.
TOAST_RECORDER = """() => {
  if (window.__toasts) return;
  window.__toasts = [];
  const seen = () => {
    for (const m of document.querySelectorAll('.notyf__message')) {
      const t = m.innerText;
      if (t && !window.__toasts.includes(t)) window.__toasts.push(t);
    }
  };
  new MutationObserver(seen).observe(document.body,
                                     {childList: true, subtree: true, characterData: true});
}"""


def _toast(page, text: str) -> str:
    """The last toast shown so far whose text contains ``text`` (waits for one)."""
    try:
        found = page.wait_for_function(
            "(text) => [...window.__toasts].reverse().find(t => t.includes(text))", arg=text,
            timeout=45_000)
    except Exception as exc:  # noqa: BLE001 - say what the page did show
        import panel as pn

        shown = page.evaluate("() => window.__toasts")
        raise AssertionError(f"no toast with {text!r}; toasts shown: {shown}; server "
                             f"notifications={pn.config.notifications}") from exc
    return found.json_value()

def test_payloads_in_every_field_render_as_text(served, goto_app, wait_until, save_screenshot):
    page = goto_app(served.url)
    watch = Watch(page)
    page.get_by_test_id("project-name").wait_for()
    page.evaluate(TOAST_RECORDER)
    app = served.last
    doc = payload_project()

    # Payloads as node, projection, profile and scenario ids: refused, and the validation
    # messages (in the page and in the toast) show them as text.
    bad = copy.deepcopy(doc)
    bad["network"]["nodes"][0]["id"] = BAD_ID
    bad["network"]["projections"][0]["id"] = BAD_PROJECTION
    bad["energy"]["profiles"] = {BAD_PROFILE: bad["energy"]["profiles"]["evil_profile"]}
    bad["scenarios"][0]["id"] = BAD_SCENARIO
    _upload(page, "bad.json", bad)
    message = page.get_by_test_id("message").filter(has_text="must")
    message.wait_for()
    shown = message.inner_text()
    for payload in (BAD_ID, BAD_PROJECTION, BAD_PROFILE, BAD_SCENARIO):
        assert payload in shown, payload
    toast = _toast(page, "must")
    assert "<" in toast  # the payload's characters, not markup
    watch.check("validation messages of payload ids")

    # The payload project, under a payload file name.
    _upload(page, FILE_NAME, doc)
    wait_until(lambda: app.session.document.get("name") == NAME, message="payload project open")
    page.get_by_test_id("project-name").filter(has_text="Name").wait_for()
    assert _text(page, "project-name") == NAME
    page.get_by_test_id("message").filter(has_text="Opened").wait_for()
    assert _text(page, "message") == f"Opened {FILE_NAME}."
    assert _toast(page, "Opened").strip() == f"Opened {FILE_NAME}."
    description = _text(page, "project-description")
    assert IMG in description and SCRIPT in description and LINK in description
    watch.check("uploaded payload project")

    # Every node and projection in the inspector; labels in the graph are text.
    for node_id, label in LABELS.items():
        page.locator(f'[data-node-id="{node_id}"] .body').click()
        page.locator(".ss-inspector [data-testid='inspector-title']",
                     has_text=node_id).wait_for()
        assert page.locator(".ss-inspector input[type='text']").first.input_value() == label
        svg_text = page.locator(f'[data-node-id="{node_id}"] title').first.text_content()
        assert label in svg_text
        watch.check(f"inspector of node {node_id}")
    for edge_id in ("drive", "noise_drive"):
        _click_edge(page, edge_id)
        page.locator(".ss-inspector [data-testid='inspector-title']",
                     has_text=edge_id).wait_for()
        watch.check(f"inspector of projection {edge_id}")

    # Run, then every result tab.
    page.locator(".ss-run button").click()
    wait_until(lambda: app.run_bar.handle is not None and app.run_bar.handle.done, timeout=120,
               message="run finished")
    page.locator("[data-testid='result-status'][data-status='completed']").wait_for()
    watch.check("after the run")
    for title in ("Activity", "Traces", "Summary", "Weights (STDP)"):
        _tab(page, title)
        page.wait_for_timeout(300)
        watch.check(f"tab {title}")

    # Pin the run, run again and compare: the project's name is in every run's header.
    page.locator(".ss-pin button").click()
    page.locator("[data-testid='pin-status'][data-run='1']").wait_for()
    assert NAME in page.get_by_test_id("pin-status").inner_text()
    before = app.run_bar.handle
    page.locator(".ss-run button").click()
    wait_until(lambda: app.run_bar.handle is not before and app.run_bar.handle.done
               and app.results.result is app.run_bar.handle.result, timeout=120,
               message="second run shown")
    _tab(page, "Compare")
    status = page.locator("[data-testid='compare-status'][data-state='compared']")
    status.wait_for()
    assert NAME in status.inner_text()
    watch.check("compare tab")

    _tab(page, "Energy")
    profile_select = page.locator(".ss-energy-controls select").first
    profile_select.wait_for()
    profile_select.select_option(label=f"{PROFILE} (evil_profile)")
    wait_until(lambda: served.last.views["energy"].heatmap.profile == "evil_profile",
               message="payload profile selected")
    totals = page.get_by_test_id("ss-energy-totals").filter(has_text="Profile")
    totals.wait_for()
    assert PROFILE in totals.inner_text()
    watch.check("energy tab with the payload profile")

    _tab(page, "Scenarios")
    page.locator(".ss-scenarios-run button").click()
    page.locator("[data-testid='scenario-state'][data-state='completed']").wait_for(
        timeout=120_000)
    row = page.locator("tr[data-scenario='evil_scenario'] th").first
    row.wait_for()
    assert SCENARIO in row.inner_text()
    assert f"tag {IMG}" in row.inner_text()
    watch.check("scenarios tab with the payload scenario")

    _tab(page, "Evaluation")  # no dataset encoder: it says what to add
    page.get_by_test_id("eval-why-not").wait_for()
    watch.check("evaluation tab")

    _tab(page, "Lab notes")
    notes = _text(page, "lab-notes")
    for part in (f"Lab {IMG}", f"Part {SCRIPT}", f"item {SVG}", LINK, "md link"):
        assert part in notes, part
    assert "$v_{th} = -50$ mV" in notes and "code <b>" in notes
    headings = page.locator("[data-testid='lab-notes'] h1")
    assert headings.first.inner_text() == f"Lab {IMG}"
    assert page.locator("[data-testid='lab-notes'] img[src]").count() == 0  # remote: refused
    assert page.locator("[data-testid='lab-notes'] a[href]").count() == 0
    watch.check("lab notes")
    save_screenshot("lab-notes")


def test_saved_payload_project_is_listed_as_text_for_another_student(
        served, goto_app, ss_browser, wait_until):
    page = goto_app(served.url)
    watch = Watch(page)
    page.get_by_test_id("project-name").wait_for()
    app = served.last
    _upload(page, "project.json", payload_project())
    wait_until(lambda: app.session.document.get("name") == NAME, message="payload project open")
    page.locator(".ss-save button").click()
    wait_until(lambda: app.session.path is not None, message="saved")
    own = page.locator(".ss-open-select option", has_text="Mine:")
    own.first.wait_for(state="attached")
    assert own.first.text_content() == f"Mine: {NAME}"
    watch.check("Open list of the student who saved it")

    context = ss_browser.new_context()
    try:
        other = context.new_page()
        other_watch = Watch(other)
        other.goto(served.url)
        other.get_by_test_id("project-name").wait_for()
        other_watch.check("another student's page")
        listed = other.locator(".ss-open-select option", has_text="Mine:")
        # Saved projects may be private to their author; where one is listed, it is text.
        for i in range(listed.count()):
            assert listed.nth(i).text_content() == f"Mine: {NAME}"
        if listed.count():
            other.locator(".ss-open-select select").select_option(label=f"Mine: {NAME}")
            other.locator(".ss-open button").click()
            other.get_by_test_id("project-name").filter(has_text="Name").wait_for()
            assert other.get_by_test_id("project-name").inner_text() == NAME
            other_watch.check("another student opening the saved payload project")
    finally:
        context.close()
