"""The workbench's stylesheet and the only two ways user text reaches the page as HTML.

Panel renders each component in its own shadow root, so a stylesheet must be attached to every
pane whose HTML uses the ``ss-*`` classes.

Text is text: anything that comes from a project file, a file name, a URL or an error message
goes into HTML through :func:`text_html` (escaped) or, for Markdown the project author wrote
(description, lab notes), through :func:`markdown_html` (rendered, then sanitised by ``nh3``).
Never put such text into an f-string of markup, a notification or ``pn.pane.Markdown``
directly: Panel's HTML pane runs ``<script>`` tags and its Markdown pane passes raw HTML.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import nh3
import panel as pn
from markdown_it import MarkdownIt

CSS = Path(__file__).with_name("workbench.css").read_text()

#: Tags Markdown may produce that we keep: headings, paragraphs, lists, code, emphasis,
#: quotes, tables, links and images. Anything else (raw HTML in the Markdown) is dropped and
#: only its text is kept; <script>/<style> lose their content too.
MARKDOWN_TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "ul", "ol", "li", "dl", "dt", "dd",
    "pre", "code", "em", "strong", "b", "i", "del", "sub", "sup", "blockquote",
    "table", "thead", "tbody", "tr", "th", "td", "a", "img",
})
MARKDOWN_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
                       "th": {"align"}, "td": {"align"}, "ol": {"start"}}
# Images load by themselves, so they may only be embedded data (nothing is fetched, from us or
# from anyone else); links need a click, so http(s) and in-page anchors are allowed.
_IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_LINK = re.compile(r"^(https?://[^\s]+|#[^\s]*)$", re.I)
# CommonMark with raw HTML *disabled*: HTML typed into Markdown is shown as the text it is.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def text_html(text: Any) -> str:
    """``text`` as HTML that shows exactly those characters (``<`` ``&`` quotes escaped).

    Safe in element content and in double- or single-quoted attribute values.
    """
    return html.escape(str(text), quote=True)


def lines_html(text: Any) -> str:
    """Like :func:`text_html`, with the text's line breaks kept as ``<br>``."""
    return "<br>".join(text_html(line) for line in str(text).splitlines())


def _keep_attribute(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        return value if _IMAGE_DATA.match(value) else None
    if tag == "a" and attr == "href":
        return value if _LINK.match(value.strip()) else None
    return value


def markdown_html(text: Any) -> str:
    """Markdown rendered to sanitised HTML.

    Headings, paragraphs, lists, code, emphasis, quotes, tables, links and images. Raw HTML
    in the Markdown is shown as text, never as markup. The result is then sanitised with
    ``nh3`` (defence in depth): only the tags above survive, no event handler or style,
    links keep only ``http(s)://`` and ``#`` targets, and images only inline
    ``data:image/(png|jpeg|gif|webp)`` sources, so a note never makes the browser request
    anything (nor run anything). ``$...$`` math stays as readable text.
    """
    rendered = _MARKDOWN.render(str(text or ""))
    return nh3.clean(rendered, tags=set(MARKDOWN_TAGS), attributes=MARKDOWN_ATTRIBUTES,
                     url_schemes={"http", "https", "data"}, attribute_filter=_keep_attribute,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def hint_html(markup: str) -> str:
    """A hint paragraph; ``markup`` is our own HTML with any user text already escaped."""
    return f'<p class="ss-hint">{markup}</p>'


def error_html(text: Any, testid: str) -> str:
    """An error message (plain text, escaped here) with ``data-testid``."""
    return (f'<p class="ss-msg ss-msg-error" data-testid="{text_html(testid)}">'
            f'{lines_html(text)}</p>')


def state_html(state: str, markup: str, testid: str) -> str:
    """A batch's state line (``data-state`` idle / running / completed / cancelled /
    error); ``markup`` has any user text already escaped."""
    return (f'<div data-testid="{text_html(testid)}" data-state="{text_html(state)}">'
            f'{markup}</div>')


def html_pane(text: str = "", **params: Any) -> pn.pane.HTML:
    """An HTML pane styled by workbench.css (``text`` must already be safe HTML)."""
    params.setdefault("sizing_mode", "stretch_width")
    return pn.pane.HTML(text, stylesheets=[CSS], **params)


def markdown_pane(text: str = "", **params: Any) -> pn.pane.HTML:
    """A pane showing Markdown through :func:`markdown_html` (update with the same function)."""
    return html_pane(markdown_html(text), **params)
