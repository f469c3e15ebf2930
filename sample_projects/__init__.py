"""SpikeStudio's sample projects, shipped as package data.

The ``*.json`` files of this folder are found with :mod:`importlib.resources` (see
:func:`directory`), so an installed wheel has them too, not only a checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def directory() -> Path:
    """The folder holding the sample ``*.json`` projects (a real directory: never zipped)."""
    return Path(str(resources.files(__name__)))
