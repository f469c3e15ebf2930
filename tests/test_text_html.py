"""User text reaches the page only as escaped text or sanitised Markdown (workbench.style)."""

from __future__ import annotations

import re

import pytest

from workbench.style import lines_html, markdown_html, text_html

PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    '<svg onload="window.__xss=1"></svg>',
    '<a href="javascript:window.__xss=1">x</a>',
    "<iframe src='http://evil.example/'></iframe>",
    '"><img src=x onerror=alert(1)>',
]
_TAG = re.compile(r"<\s*(script|img|svg|iframe|a)\b", re.I)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_html_leaves_no_markup(payload):
    out = text_html(payload)
    assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    assert lines_html(f"{payload}\n{payload}").count("<br>") == 1


@pytest.mark.parametrize("payload", PAYLOADS)
def test_raw_html_in_markdown_is_shown_as_text(payload):
    out = markdown_html(f"# Title {payload}\n\n{payload}\n\n* item {payload}")
    assert not _TAG.search(out), out
    assert not re.search(r"<[^>]*\son\w+\s*=", out), out  # no event handler in any tag
    assert "&lt;" in out  # the characters are still there, as text


def test_markdown_keeps_teaching_formatting():
    out = markdown_html("# Lab\n\n## Part 1\n\n* a\n* b\n\n1. one\n\n`code` **bold** *em*\n\n"
                        "```\nv = -60 <b>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                        "[docs](https://brian2.readthedocs.io) [up](#part-1)\n\n"
                        "The rheobase $I > v_{th} - v_{rest}$.")
    for tag in ("<h1>", "<h2>", "<ul>", "<ol>", "<code>", "<strong>", "<em>", "<pre>",
                "<table>", "<td>"):
        assert tag in out, tag
    assert '<a href="https://brian2.readthedocs.io"' in out and '<a href="#part-1"' in out
    assert "v = -60 &lt;b&gt;" in out
    assert "$I &gt; v_{th} - v_{rest}$" in out  # math stays readable text
    assert "¶" not in out


def test_markdown_links_and_images_never_leave_the_page():
    out = markdown_html("[a](javascript:window.__xss=1) [b](JaVaScRiPt:x) [c](data:text/html,x) "
                        "[d](//evil.example/x) [e](vbscript:x)\n\n"
                        "![r](http://evil.example/x.png) ![p](//evil.example/p.png) "
                        "![q](relative/x.png) ![s](data:image/svg+xml;base64,PHN2Zz4=) "
                        "![ok](data:image/png;base64,iVBORw0KGgo=)")
    hrefs = re.findall(r'href="([^"]*)"', out)
    srcs = re.findall(r'src="([^"]*)"', out)
    assert hrefs == []
    assert srcs == ["data:image/png;base64,iVBORw0KGgo="]
    assert "evil.example/x.png" not in out.split("alt=")[0]


def test_no_plot_tooltip_renders_data_as_html():
    # Bokeh escapes @field values in tooltips unless the format is {safe}.
    from pathlib import Path

    widgets = Path(__file__).resolve().parents[1] / "widgets"
    assert widgets.is_dir()
    offenders = [p.name for p in widgets.glob("*.py") if "{safe}" in p.read_text()]
    assert offenders == []
