"""Shared validation helpers and the limits every project document must respect.

Project files come from anyone (an upload in a shared workbench, a file passed to the CLI),
so before any field is looked at, the document as a whole is bounded here: its size in
bytes, how deeply it nests, how many values it holds, how long its strings are and how
large its numbers are. These checks are iterative and cheap, so a hostile file is refused
in well under a second with little memory, long before Python's recursion limit or the
field-by-field validation in :mod:`engine.project` is reached.

Server limits (per-field limits such as 10,000 nodes live in :mod:`engine.project`):

================================  =============  ==============================================
limit                             value          why
================================  =============  ==============================================
:data:`MAX_FILE_BYTES`            20 MB          the largest sample is 0.2 MB
:data:`MAX_DEPTH`                 64 levels      real projects nest 7 levels
:data:`MAX_CONTAINERS`            200,000        objects + lists (10,000 nodes: ~60,000)
:data:`MAX_VALUES`                1,000,000      values of all kinds (10,000 nodes: ~150,000)
:data:`MAX_STRING_CHARS`          100,000        any string (lab notes are the longest)
:data:`MAX_KEY_CHARS`             256            any object key
:data:`MAX_MAGNITUDE`             1e15           any number: sums and products stay finite
================================  =============  ==============================================
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any, NamedTuple

from engine.errors import Problem, ProjectError

MAX_FILE_BYTES = 20 * 2**20
MAX_DEPTH = 64
MAX_CONTAINERS = 200_000
MAX_VALUES = 1_000_000
MAX_STRING_CHARS = 100_000
MAX_KEY_CHARS = 256
MAX_MAGNITUDE = 1e15

#: Ids of nodes, projections, profiles and scenarios (``\Z``: "$" would accept a final "\n").
ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}\Z")
ID_RULE = "must be 1-64 characters: a letter or _ first, then letters, digits, _ or -"
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Characters a one-line name or label may not hold: every control character (C0, DEL, C1,
#: line and paragraph separators), bidi embeddings, overrides, isolates and marks (they show
#: a name reversed) and zero-width characters (they make names look blank or equal).
_NAME_REFUSED_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029"
                              "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
                              "\u200b-\u200d\u2060\ufeff]")


def join(path: str, key: Any) -> str:
    """The field path of ``key`` inside ``path`` (``a.b``, ``a[3]``).

    A key that is long or not printable appears as a shortened ``repr``, so a hostile key
    cannot make a message huge or break its line.
    """
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    key = _key_text(str(key))
    return f"{path}.{key}" if path else key


def type_name(value: Any) -> str:
    """How a value's JSON type reads in a message ("an object", "a list", "null", ...)."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def is_int(value: Any) -> bool:
    """A whole number that is not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float that is not a boolean (huge ints count as not finite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return abs(value) <= 1e300
    return math.isfinite(value)


def known(value: Any, names: Any) -> bool:
    """``value`` is a string naming an entry of ``names`` (never hashes other types)."""
    return isinstance(value, str) and value in names


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to about ``limit`` characters: a huge value makes a short message."""
    if isinstance(value, (list, dict)) and len(value) > 8:
        return f"{type_name(value)} of {len(value):,} items"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def has_control_characters(text: str) -> bool:
    """``text`` holds a control character other than tab, newline and carriage return."""
    return _CONTROL_RE.search(text) is not None


def one_line_problem(text: str, max_len: int) -> str | None:
    """Why ``text`` cannot be a one-line name or label, or None when it can.

    The one rule for project names and node / projection labels, wherever they come from
    (a file being opened, Save as, the inspector): at most ``max_len`` characters, no
    control, bidi-control or zero-width character (the first one found is named).
    """
    if len(text) > max_len:
        return f"must be at most {max_len:,} characters, got {len(text):,}"
    found = _NAME_REFUSED_RE.search(text)
    if found is None:
        return None
    char = found.group()
    what = unicodedata.name(char, "a control character")
    kind = ("a control character" if unicodedata.category(char) in ("Cc", "Zl", "Zp")
            else "an invisible or direction-changing character")
    return (f"must be one line of text without control, invisible or direction-changing "
            f"characters; it holds {kind} (U+{ord(char):04X} {what}) at position "
            f"{found.start() + 1}")


class NonFinite:
    """Stands for NaN, Infinity or an overflowing number (``1e309``) while parsing.

    The parser cannot report where it met such a number; keeping a marker in its place lets
    :func:`scan_document` name the field.
    """

    def __init__(self, text: str):
        self.text = text

    def message(self) -> str:
        if self.text in ("NaN", "Infinity", "-Infinity"):
            return (f"{self.text} is not allowed in project files (JSON has no such number; "
                    f"use a finite value)")
        return (f"{_short(self.text)} is too large for a number (it overflows to infinity); "
                f"use a finite value of magnitude at most {MAX_MAGNITUDE:g}")


def _parse_float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


class Scan(NamedTuple):
    """What :func:`scan_document` found, each problem with its field path."""

    #: The document is too deep or too big: no field-by-field validation should follow.
    structural: list[Problem]
    #: NaN, Infinity or overflowing numbers, and values JSON cannot hold (non-string keys).
    unparsable: list[Problem]
    #: Numbers beyond MAX_MAGNITUDE; strings too long, with NUL bytes or broken Unicode.
    values: list[Problem]


def parse_json(text: str | bytes) -> Any:
    """Parse project JSON text within the document limits (see :func:`parse_and_scan`)."""
    return parse_and_scan(text)[0]


def parse_and_scan(text: str | bytes) -> tuple[Any, Scan]:
    """Parse project JSON text within the document limits; the document and its scan.

    Accepts UTF-8 bytes (with or without a byte-order mark) or a str. Checks the size, a
    cheap upper bound of the number of containers and values, and the nesting depth before
    anything else looks at the document.

    Raises
    ------
    ProjectError
        When the text is too large, not UTF-8, not JSON, or the document breaks a limit;
        every problem names its field path where there is one.
    """
    if len(text) > MAX_FILE_BYTES:
        raise _error("", f"the file is {len(text) / 2**20:.1f} MB; project files are limited "
                         f"to {MAX_FILE_BYTES // 2**20} MB")
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _error("", f"not a valid JSON document: it is not UTF-8 text (byte "
                             f"0x{exc.object[exc.start]:02x} at position {exc.start})") from None
    elif not isinstance(text, str):
        raise _error("", f"expected JSON text, got {type_name(text)}")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _error("", "not a valid JSON document: the file is empty")
    # Upper bounds (brackets and commas inside strings count too): refuse a document that is
    # too big before the parser builds millions of Python objects.
    containers = text.count("{") + text.count("[")
    if containers > MAX_CONTAINERS:
        raise _error("", f"too many objects and lists (about {containers:,}); project files "
                         f"are limited to {MAX_CONTAINERS:,} (e.g. 10,000 nodes)")
    values = text.count(",") + 1
    if values > MAX_VALUES:
        raise _error("", f"too many values (about {values:,}); project files are limited to "
                         f"{MAX_VALUES:,}")
    try:
        document = json.loads(text, parse_constant=NonFinite, parse_float=_parse_float)
    except RecursionError:
        raise _error("", f"the document is nested too deeply (at most {MAX_DEPTH} levels "
                         f"of objects and lists)") from None
    except ValueError as exc:
        raise _error("", f"not a valid JSON document: {exc}") from None
    scan = scan_document(document)
    if scan.structural or scan.unparsable:
        raise ProjectError(scan.structural + scan.unparsable)
    return document, scan


def scan_document(document: Any) -> Scan:
    """Check the limits of a parsed document without recursion.

    Field paths are only built for containers and problems: a document at the limits scans
    in a fraction of a second.
    """
    structural: list[Problem] = []
    unparsable: list[Problem] = []
    values: list[Problem] = []
    count = 0
    # (path of the parent container, key or index in it, value, depth of the value)
    stack: list[tuple[str, Any, Any, int]] = [("", None, document, 0)]
    while stack:
        parent, key, value, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            structural.append(Problem("", f"too many values; project files are limited to "
                                          f"{MAX_VALUES:,}"))
            break
        kind = type(value)
        if kind is str:
            if len(value) <= MAX_STRING_CHARS and value.isascii() and "\x00" not in value:
                continue
            message = _string_problem(value, MAX_STRING_CHARS, "text")
            if message:
                values.append(Problem(_path(parent, key), message))
        elif kind is float or kind is int:
            if -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
                continue
            if kind is float and not math.isfinite(value):
                unparsable.append(Problem(_path(parent, key),
                                          f"must be a finite number, got {value!r}"))
            else:
                shown = f"{value:g}" if kind is float else f"{len(str(abs(value)))} digits"
                values.append(Problem(_path(parent, key), f"must be at most "
                                                          f"{MAX_MAGNITUDE:g} in magnitude, "
                                                          f"got {shown}"))
        elif kind is bool or value is None:
            continue
        elif kind is dict or kind is list:
            path = _path(parent, key)
            if depth >= MAX_DEPTH:
                structural.append(Problem(path, f"nested too deeply (at most {MAX_DEPTH} "
                                                f"levels of objects and lists)"))
                return Scan(structural, unparsable, values)
            if kind is list:
                stack.extend((path, i, item, depth + 1)
                             for i, item in reversed(list(enumerate(value))))
                continue
            items = []
            for k, item in value.items():
                if type(k) is not str:
                    unparsable.append(Problem(path, f"has a key that is not a string: "
                                                    f"{_short(repr(k))}"))
                    continue
                if len(k) > MAX_KEY_CHARS or not k.isascii() or "\x00" in k:
                    message = _string_problem(k, MAX_KEY_CHARS, "key")
                    if message:
                        values.append(Problem(_path(path, k), message))
                        continue
                items.append((path, k, item, depth + 1))
            stack.extend(reversed(items))
        elif isinstance(value, NonFinite):
            unparsable.append(Problem(_path(parent, key), value.message()))
        elif isinstance(value, (str, int, float, dict, list)):  # subclasses: rare, slow path
            stack.append((parent, key, _plain(value), depth))
            count -= 1
        else:
            unparsable.append(Problem(_path(parent, key),
                                      f"is not a JSON value ({type(value).__name__})"))
    return Scan(structural, unparsable, values)


def _plain(value: Any) -> Any:
    """A str/int/float/dict/list subclass instance as its plain base type (bool stays)."""
    for base in (bool, str, int, float, dict, list):
        if isinstance(value, base):
            return base(value)
    return value


def _path(parent: str, key: Any) -> str:
    return parent if key is None else join(parent, key)


def _string_problem(text: str, max_chars: int, what: str) -> str | None:
    if len(text) > max_chars:
        return f"{what} is {len(text):,} characters long; at most {max_chars:,} allowed"
    if "\x00" in text:
        return f"{what} contains a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return f"{what} is not valid Unicode (a lone surrogate such as \\ud800)"
    return None


def _key_text(key: str) -> str:
    """A key as it may appear in a field path: short, without control characters."""
    if len(key) > 80 or not key.isprintable():
        return _short(repr(key))
    return key


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _error(path: str, message: str) -> ProjectError:
    return ProjectError([Problem(path, message)])
