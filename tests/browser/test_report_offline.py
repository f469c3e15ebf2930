"""The report (issue 11) opens in Chromium offline: no request, no console error, every
section shown, for every sample."""

from __future__ import annotations

from pathlib import Path

import pytest

import sample_projects
from engine.project import load_project
from engine.simulator import simulate
from workbench.report import report_html

pytestmark = pytest.mark.browser


@pytest.mark.slow
def test_report_of_every_sample_renders_offline_in_chromium(browser_page, tmp_path: Path):
    import panel as pn

    # As on the server: Panel's widgets (Tabulator and its CDN stylesheet) are in use.
    pn.widgets.Tabulator()
    page = browser_page
    for path in sorted(sample_projects.directory().glob("*.json")):
        project = load_project(path)
        project.simulation.duration_ms = min(project.simulation.duration_ms, 2000.0)
        out = tmp_path / f"{path.stem}.html"
        out.write_text(report_html(project.to_dict(), simulate(project)))
        # The page's only document is the file's text: any request it made would be caught
        # by the browser guard (off host) and fail the test.
        page.set_content(out.read_text(), wait_until="load", timeout=60_000)
        page.locator("h2", has_text="Energy").wait_for(timeout=30_000)
        titles = page.locator("h2").all_inner_texts()
        assert {"Network", "Activity", "Summary", "Energy"} <= set(titles), out.name
        assert page.locator("canvas").count() >= 4, out.name
        assert page.get_by_test_id("report-summary").count() == 1
