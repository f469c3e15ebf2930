"""Issue 9 (exports): every result plot downloads as PNG and SVG from the page, named after
the project and run.

Each PNG/SVG button is clicked in Chromium; the file must really download with the expected
name, the PNG must decode to an image that is not one flat colour and the SVG must parse.
"""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

from tests.browser.test_result_views import (
    _open_sample,
    _ready,
    _run_and_wait,
    _set_duration,
    _tab,
)

pytestmark = pytest.mark.browser


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw pixel bytes) of an 8-bit, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0, header
    bpp = {2: 3, 6: 4, 0: 1, 4: 2}[color]
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def _check_file(path: Path, kind: str) -> None:
    data = path.read_bytes()
    if kind == "png":
        width, height, rows = png_pixels(data)
        assert width > 50 and height > 50, (width, height)
        # Not blank: many distinct pixel values (axes, labels, data).
        distinct = {rows[y][x:x + 3] for y in range(0, height, 3)
                    for x in range(0, len(rows[y]), 12)}
        assert len(distinct) > 5, f"{path.name}: a blank image ({len(distinct)} colours)"
    else:
        root = ET.fromstring(data)
        assert root.tag.endswith("svg"), root.tag
        assert len(list(root.iter())) > 5, f"{path.name}: an empty SVG"


def _download_all(page, expected: list[str]) -> list[str]:
    """Click every visible PNG and SVG button; the downloaded names, checked on the way."""
    got = []
    for kind in ("png", "svg"):
        buttons = page.locator(f".ss-export-{kind} button:visible")
        assert buttons.count() == len(expected), (kind, buttons.count(), expected)
        for k in range(buttons.count()):
            with page.expect_download(timeout=20_000) as info:
                buttons.nth(k).click()
            download = info.value
            name = download.suggested_filename
            assert name.endswith(f".{kind}"), name
            _check_file(Path(download.path()), kind)
            got.append(name[: -len(kind) - 1])
    assert sorted(got) == sorted(expected * 2), got
    return got


@pytest.mark.slow
def test_every_plot_downloads_as_png_and_svg(served, goto_app, wait_until, browser_page,
                                             save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "STDP: Song & Abbott")
    _set_duration(page, app, wait_until, 2000.0)
    _run_and_wait(page, app, wait_until)
    stem = "STDP_Song_Abbott-run1"

    page.locator(".ss-spike-count").wait_for()
    page.locator(".bk-Canvas").nth(1).wait_for()
    _download_all(page, [f"{stem}-raster", f"{stem}-rates"])

    _tab(page, "Traces")
    wait_until(lambda: app.results.has_result(app.results.view("traces")),
               message="traces drawn")
    n = len(app.results.view("traces").traces.figures)
    page.locator(".ss-export-png button:visible").nth(n - 1).wait_for()
    _download_all(page, [f"{stem}-traces-{k + 1}" for k in range(n)])

    _tab(page, "Weights")
    pid = next(iter(app.results.result.weights))
    page.locator(".ss-export-png button:visible").nth(5).wait_for()
    _download_all(page, [f"{stem}-weights-{pid}-{what}" for what in (
        "matrix", "histograms", "histogram", "mean", "trajectories", "spikes")])

    _tab(page, "Energy")
    page.get_by_test_id("ss-energy-totals").first.wait_for(timeout=60_000)
    profile = app.views["energy"].heatmap.profile
    _download_all(page, [f"{stem}-energy-{profile}", f"{stem}-energy-{profile}-layers"])

    # Scenarios: one short scenario keeps the batch quick.
    from engine.evaluation.scenario_fit import default_scenarios, scenario_to_dict

    _tab(page, "Scenarios")
    page.locator(".card-header", has_text="Scenario definitions").click()
    mine = scenario_to_dict(default_scenarios()[0])
    mine.update(id="quick", name="Quick check", duration_ms=200.0)
    editor = page.locator(".ss-scenarios-json textarea")
    editor.fill(json.dumps([mine]))
    editor.press("Tab")
    page.locator(".ss-scenarios-use button").click()
    wait_until(lambda: (app.session.document.get("scenarios") or [{}])[0].get("id") == "quick",
               message="scenario stored")
    page.locator(".ss-scenarios-run button:not([disabled])").click()
    page.locator("[data-testid='scenario-state'][data-state='completed']").wait_for(
        timeout=120_000)
    page.get_by_test_id("ss-fit-criteria").wait_for()
    _download_all(page, ["STDP_Song_Abbott-scenarios"])
    save_screenshot("plot-exports-scenarios", full_page=True)
