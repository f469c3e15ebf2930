"""Upgrades of older project documents to the current format version.

Each function in :data:`UPGRADES` turns a version-``n`` document into a version-``n+1`` one
(the NEST Desktop pattern: one small upgrade step per format version, applied in order). A new
format version adds one function here and a test that an old sample file still loads.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from engine.errors import Problem, ProjectError

FORMAT_NAME = "spikestudio-project"
CURRENT_VERSION = 1

Document = dict[str, Any]
UPGRADES: dict[int, Callable[[Document], Document]] = {}


def migrate(document: Any) -> Any:
    """Return ``document`` upgraded to :data:`CURRENT_VERSION` (input untouched).

    An upgraded document is a new copy; a current one is returned as it is (copying a large
    document costs more than validating it). Documents that are not objects, or lack a
    usable version, are returned unchanged so the validator can report what is wrong.

    Raises
    ------
    ProjectError
        When the document comes from a newer SpikeStudio than this one.
    """
    if not isinstance(document, dict):
        return document
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        return document
    if version > CURRENT_VERSION:
        raise ProjectError([Problem("version", f"this file is format version {version}; this "
                                               f"SpikeStudio reads versions up to "
                                               f"{CURRENT_VERSION}. Please upgrade SpikeStudio.")])
    if version == CURRENT_VERSION:
        return document
    document = copy.deepcopy(document)
    while document["version"] < CURRENT_VERSION:
        step = UPGRADES.get(document["version"])
        if step is None:
            raise ProjectError([Problem("version", f"no upgrade from format version "
                                                   f"{document['version']}")])
        document = step(document)
    return document
