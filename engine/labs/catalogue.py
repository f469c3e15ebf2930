"""Find the labs: every project file with steps in the sample projects and given folders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SpikeStudioError
from engine.labs.lab_file import Lab, lab_of

__all__ = ["LabEntry", "find_lab", "labs_in"]


@dataclass(frozen=True)
class LabEntry:
    """A lab and the project file holding it (its starting project)."""

    lab: Lab
    path: Path

    def project(self):
        """The starting project, read and validated again (a fresh copy)."""
        from engine.project import load_project
        return load_project(self.path)


def labs_in(folders: list[str | os.PathLike[str]] | None = None) -> list[LabEntry]:
    """Every lab with steps in the sample projects and in ``folders``, by file name.

    Projects whose lab is notes only are skipped.

    Raises
    ------
    SpikeStudioError
        When a file is not a valid project (naming the file and the problem) or two labs
        share an id.
    """
    from engine.errors import ProjectError
    from engine.project import load_project
    from sample_projects import directory

    paths = sorted(directory().glob("*.json"))
    for folder in folders or []:
        paths += sorted(Path(folder).glob("*.json"))
    entries: list[LabEntry] = []
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            lab = lab_of(load_project(path))
        except ProjectError as exc:
            raise SpikeStudioError(f"{path}: {exc}") from None
        if lab is None:
            continue
        if lab.id in seen:
            raise SpikeStudioError(f"two labs are called {lab.id!r}: {seen[lab.id]} and {path}")
        seen[lab.id] = path
        entries.append(LabEntry(lab, path))
    return entries


def find_lab(lab_id: str, folders: list[str | os.PathLike[str]] | None = None) -> LabEntry:
    """The lab called ``lab_id`` (SpikeStudioError naming the known ids otherwise)."""
    entries = labs_in(folders)
    for entry in entries:
        if entry.lab.id == lab_id:
            return entry
    raise SpikeStudioError(f"no lab called {lab_id!r} (labs: "
                           f"{', '.join(e.lab.id for e in entries) or 'none'})")
