"""The self-contained HTML report (``spikestudio report``, workbench.report)."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.project import Project
from engine.simulator import simulate
from tests.helpers import connection, document, encoder, lif, monitor
from widgets.network_diagram import diagram_positions
from workbench.report import report_html

PAYLOAD = '<img src=x onerror="window.__xss=1">'


def _small_plastic_document(name: str = "report test") -> dict:
    doc = document(
        [encoder("inp", "poisson", size=20, rate_hz=40.0), lif("out", size=3),
         monitor("mon", "out")],
        [connection("ff", "inp", "out", weight=2.0,
                    plasticity={"rule": "stdp", "w_max": 4.0},
                    record_weights={"every_ms": 10.0, "synapses": [[0, 0], [1, 1]]})],
        duration_ms=200.0)
    doc["name"] = name
    return doc


def _div_texts(page: str) -> str:
    """The HTML of every Div in the report's embedded Bokeh document, joined."""
    match = re.search(r'<script type="application/json" id="[^"]+">\s*(.*?)\s*</script>',
                      page, re.S)
    texts: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("name") == "Div" and "text" in node.get("attributes", {}):
                texts.append(node["attributes"]["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(html.unescape(match.group(1))))  # Bokeh escapes the JSON it embeds
    return "\n".join(texts)


@pytest.fixture(scope="module")
def plastic_run():
    project = Project.from_dict(_small_plastic_document(f"STDP {PAYLOAD}"))
    project.description = f"Described with **bold** and {PAYLOAD}"
    return project, simulate(project)


def test_report_has_every_section_of_a_plastic_run(plastic_run):
    project, result = plastic_run
    texts = _div_texts(report_html(project.to_dict(), result))
    for title in ("Network", "Activity", "Summary", "Traces", "Synaptic weights", "Energy"):
        assert f"<h2>{title}</h2>" in texts
    for table in ("report-run", "report-nodes", "report-projections", "report-summary",
                  "report-energy", "report-snn-ann"):
        assert f"data-testid='{table}'" in texts
    # The energy table says what idle neuron updates are counted per, profile by profile.
    for basis in ("idle updates counted", "per 1 ms hardware step", "per simulation step",
                  "event-driven (no idle updates)"):
        assert basis in texts, basis


def test_report_text_from_the_project_is_text(plastic_run):
    project, result = plastic_run
    page = report_html(project.to_dict(), result)
    texts = _div_texts(page)
    assert "onerror=" not in texts.replace("&lt;img src=x onerror=", "")
    assert "&lt;img src=x onerror=" in texts  # the title, shown as the characters it is
    assert "<strong>bold</strong>" in texts  # the description's Markdown is rendered
    assert "<img" not in page[:page.index("<script>")]


def test_report_loads_nothing_from_files_or_hosts(plastic_run):
    project, result = plastic_run
    page = report_html(project.to_dict(), result)
    head = page[:page.index("<script>")]
    assert not re.search(r"<script[^>]*\bsrc=", head)
    assert not re.search(r"<link[^>]*\bhref=", head)
    assert "cdn." not in head


def test_layout_places_nodes_without_positions_left_to_right():
    doc = document([lif("a"), lif("b"), lif("c")],
                   [connection("ab", "a", "b"), connection("bc", "b", "c"),
                    connection("ca", "c", "a")])
    pos = diagram_positions(doc)
    assert pos["a"][0] < pos["b"][0] < pos["c"][0]
    doc["layout"] = {"positions": {"b": [500, 7]}}
    assert diagram_positions(doc)["b"] == (500.0, 7.0)


@pytest.mark.slow
def test_report_command_writes_a_report(tmp_path: Path):
    project = tmp_path / "p.json"
    project.write_text(json.dumps(_small_plastic_document()))
    out = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "report", str(project),
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and out.stat().st_size > 100_000
    assert "Traceback" not in done.stderr and "WARNING" not in done.stderr


def test_report_command_names_a_bad_file(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "spikestudio-project", "version": 1, "network": 3}')
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "report", str(bad),
                           "--out", str(tmp_path / "r.html")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "network" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r.html").exists()
