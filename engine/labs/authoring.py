"""Write a lab with steps from Markdown notes: each ``## `` section becomes a step's text.

For lab authors (and the scripts that generate the sample projects): the notes keep their
Markdown, the lab file gains what the workbench checks. Every section must be used by exactly
one step, so no text of the notes is lost.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from engine.labs.validation import lab_problems

__all__ = ["lab_from_notes", "sections"]

_HEADING = re.compile(r"^## +(.+?) *$", re.MULTILINE)


def sections(notes: str) -> tuple[str, str, dict[str, str]]:
    """``(title, intro, {heading: body})`` of Markdown notes.

    The title is the first ``# `` heading (without the ``#``), the intro everything else
    before the first ``## `` heading, and each body the text under its ``## `` heading.
    """
    first, *rest = _HEADING.split(notes)
    lines = first.strip().splitlines()
    title = ""
    if lines and lines[0].startswith("# "):
        title, lines = lines[0][2:].strip(), lines[1:]
    bodies = {rest[i].strip(): rest[i + 1].strip() for i in range(0, len(rest), 2)}
    return title, "\n".join(lines).strip(), bodies


def lab_from_notes(notes: str, lab_id: str, steps: list[dict[str, Any]],
                   title: str | None = None) -> dict[str, Any]:
    """The lab object of ``notes`` with ``steps``.

    Parameters
    ----------
    notes
        Markdown notes: ``# title``, an intro, then ``## `` sections.
    lab_id
        The lab's id.
    steps
        Each a step of the lab format (``id``, ``check``, ``solution``, ``question``,
        ``figures`` ...) plus ``sections``: the headings whose bodies make its text, in
        order (a heading after the first is kept as a ``###`` heading inside the text), and
        optionally ``text`` to add after them. ``title`` defaults to the first heading.
    title
        The lab's title (default: the notes' ``# `` heading).

    Raises
    ------
    ValueError
        When a section is used twice or not at all, or the lab is not valid.
    """
    heading, intro, bodies = sections(notes)
    used: list[str] = []
    out = []
    for spec in steps:
        step = {k: copy.deepcopy(v) for k, v in spec.items() if k != "sections"}
        names = spec.get("sections", [])
        parts = []
        for i, name in enumerate(names):
            if name not in bodies:
                raise ValueError(f"step {spec['id']!r}: the notes have no section {name!r} "
                                 f"(sections: {', '.join(bodies)})")
            parts.append(bodies[name] if i == 0 else f"### {name}\n{bodies[name]}")
            used.append(name)
        if spec.get("text"):
            parts.append(spec["text"])
        step["text"] = "\n\n".join(parts)
        step.setdefault("title", names[0] if names else spec["id"])
        out.append(step)
    unused = [name for name in bodies if name not in used]
    twice = sorted({name for name in used if used.count(name) > 1})
    if unused or twice:
        raise ValueError(f"every section must make one step's text: unused {unused}, "
                         f"used twice {twice}")
    lab = {"id": lab_id, "title": title or heading, "intro": intro, "steps": out}
    problems = lab_problems(lab)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    return lab
