"""Write one benchmark's section of bench/RESULTS.md, leaving the others alone."""

from __future__ import annotations

import re
from pathlib import Path


def update_section(path: Path, heading: str, text: str) -> None:
    """Replace the section starting with the line ``heading`` (up to the next ``#`` or
    ``##`` heading) with ``text``; without one, insert ``text`` before ``# History`` (the
    earlier runs), else append it. The file is read just before it is written."""
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    if heading in old:
        start = old.index(heading)
        nxt = re.search(r"^#{1,2} ", old[start + len(heading):], re.M)
        end = start + len(heading) + nxt.start() if nxt else len(old)
        new = old[:start] + text + "\n" + old[end:]
    elif "\n# History" in old:
        new = old.replace("\n# History", "\n" + text + "\n# History", 1)
    else:
        new = old + "\n" + text
    path.write_text(new)
