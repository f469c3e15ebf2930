"""What a sweep varies: ``--set FIELD=v1,v2,...`` or ``--set FIELD=start:stop:num``.

FIELD is a field path of the project document as the validator prints it
(``network.nodes[1].params.tau_m``, ``simulation.seed``) or the label form
``NODE.PARAM`` / ``NODE.KEY`` / ``PROJECTION.KEY``, where NODE is a node's id or label and
PROJECTION a projection's id or label (``exc.tau_m`` is ``network.nodes[0].params.tau_m``
when node 0 has id ``exc``). Every bad field and value is reported at once, before any run.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import SpikeStudioError
from engine.project import validate_document
from engine.validation import join

#: Top-level keys of a project document a path form starts with.
DOCUMENT_KEYS = ("network", "simulation", "energy", "scenarios", "name", "description")
#: Most values one field may take (a range's ``num``).
MAX_VALUES = 100_000
_PATH_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")

Key = str | int


@dataclass(frozen=True)
class SweepField:
    """One swept field: its name as the user wrote it, its resolved path, its values."""

    name: str
    path: tuple[Key, ...]
    values: tuple[Any, ...]

    @property
    def path_text(self) -> str:
        """The path as the validator prints it."""
        text = ""
        for key in self.path:
            text = join(text, key)
        return text


class SweepSpecError(SpikeStudioError):
    """Bad ``--set`` fields or values; ``problems`` lists each, the message all of them."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("the sweep cannot start:\n" + "\n".join(f"  {p}" for p in problems))


def parse_path(text: str) -> tuple[Key, ...] | None:
    """``a.b[1].c`` -> ``("a", "b", 1, "c")``; None when it is not a path."""
    keys: list[Key] = []
    pos = 0
    while pos < len(text):
        m = _PATH_TOKEN.match(text, pos)
        if m is None or (pos == 0 and text.startswith(".")):
            return None
        keys.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    return tuple(keys) or None


def _lookup(document: Any, path: tuple[Key, ...]) -> tuple[bool, Any]:
    """(found, value) of ``path`` in ``document``; a missing last key of a dict counts as
    found when the dict is a ``params`` mapping (a parameter left at its default)."""
    node = document
    for depth, key in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(node, dict) and isinstance(key, str):
            if key not in node:
                return (last and depth > 0 and path[depth - 1] == "params"), None
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return False, None
    return True, node


def resolve_field(document: dict, name: str) -> tuple[Key, ...]:
    """The document path of FIELD ``name`` (path form or label form).

    Raises
    ------
    SpikeStudioError
        Naming the field and what would have been accepted.
    """
    path = parse_path(name)
    if path is None:
        raise SpikeStudioError(f"{name}: not a field path (e.g. network.nodes[1].params.tau_m "
                               f"or exc.tau_m)")
    if path[0] in DOCUMENT_KEYS:
        if _lookup(document, path)[0]:
            return path
        raise SpikeStudioError(f"{name}: no such field in the project")
    network = document.get("network", {})
    for section in ("nodes", "projections"):
        for index, item in enumerate(network.get(section, [])):
            if path[0] not in (item.get("id"), item.get("label")):
                continue
            rest = path[1:]
            if not rest:
                raise SpikeStudioError(f"{name}: name a field of {path[0]!r} after the dot")
            base = ("network", section, index)
            if section == "nodes" and rest[0] not in item:
                rest = ("params", *rest)  # exc.tau_m is a parameter of node exc
            if _lookup(document, base + rest)[0]:
                return base + rest
            raise SpikeStudioError(f"{name}: {path[0]!r} has no field {'.'.join(map(str, rest))}")
    raise SpikeStudioError(f"{name}: no node or projection with id or label {path[0]!r}, and "
                           f"not a path starting with {', '.join(DOCUMENT_KEYS[:2])}")


def parse_values(text: str) -> list[Any]:
    """``v1,v2,...`` (each a JSON value, else a string) or ``start:stop:num`` (``num``
    evenly spaced numbers, both ends included).

    Raises
    ------
    SpikeStudioError
        Saying what is wrong with the text.
    """
    parts = text.split(":")
    if len(parts) == 3:
        try:
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise SpikeStudioError(f"{text!r}: a range is start:stop:num with numbers and a "
                                   f"whole num") from None
        if not (math.isfinite(start) and math.isfinite(stop)):
            raise SpikeStudioError(f"{text!r}: start and stop must be finite")
        if not 1 <= num <= MAX_VALUES:
            raise SpikeStudioError(f"{text!r}: num must be 1 to {MAX_VALUES:,}, got {num}")
        return [float(v) for v in np.linspace(start, stop, num)]
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise SpikeStudioError(f"{text!r}: an empty value (two commas, or a comma at an "
                                   f"end)")
        try:
            values.append(json.loads(part))
        except ValueError:
            values.append(part)
    return values


def set_field(document: dict, path: tuple[Key, ...], value: Any) -> None:
    """Set ``path`` of ``document`` to ``value`` in place."""
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _typed(value: Any, current: Any) -> Any:
    """A value of the field's own number type: a whole float for an integer field (a range
    gives 3200.0 for a size), a float for a float field (20 for tau_m reads as 20.0)."""
    if isinstance(value, bool) or isinstance(current, bool):
        return value
    if isinstance(current, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(current, float) and isinstance(value, int):
        return float(value)
    return value


def parse_sets(document: dict, specs: list[str]) -> list[SweepField]:
    """The swept fields of ``--set`` specs, each value checked by the project validator.

    Raises
    ------
    SweepSpecError
        Listing every bad field, value and duplicate at once.
    """
    problems: list[str] = []
    fields: list[SweepField] = []
    base_problems = {str(p) for p in validate_document(document)}
    for spec in specs:
        name, eq, text = spec.partition("=")
        name = name.strip()
        if not eq or not name or not text.strip():
            problems.append(f"--set {spec!r}: write FIELD=v1,v2,... or FIELD=start:stop:num")
            continue
        try:
            path = resolve_field(document, name)
            values = parse_values(text)
        except SpikeStudioError as exc:
            problems.append(f"--set {exc}" if str(exc).startswith(name) else
                            f"--set {name}: {exc}")
            continue
        if any(f.path == path for f in fields):
            problems.append(f"--set {name}: the same field is set twice")
            continue
        current = _lookup(document, path)[1]
        values = [_typed(v, current) for v in values]
        for value in dict.fromkeys(json.dumps(v) for v in values):
            trial = copy.deepcopy(document)
            set_field(trial, path, json.loads(value))
            new = [str(p) for p in validate_document(trial) if str(p) not in base_problems]
            problems.extend(f"--set {name}={value}: {p}" for p in new)
        fields.append(SweepField(name=name, path=path, values=tuple(values)))
    if not specs:
        problems.append("--set: give at least one FIELD=values to sweep")
    if problems:
        raise SweepSpecError(problems)
    return fields
