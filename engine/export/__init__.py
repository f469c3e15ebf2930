"""Exporters: a project leaves SpikeStudio as a file or a folder another tool reads.

One module per target (``engine/export/<target>.py``) defines a function
``export(project, out) -> ExportReport`` and is listed in :data:`TARGETS`; the CLI
(``spikestudio export PROJECT --to TARGET --out PATH``) and the page's export menu both go
through :func:`export_project`. Importers (files that become projects) live beside them as
``engine/export/<format>_import.py`` and are listed in :data:`IMPORTERS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import SpikeStudioError
from engine.project import Project


@dataclass
class ExportReport:
    """What an export wrote and what it could not carry over.

    Attributes
    ----------
    files
        Every file written, main file first.
    warnings
        One sentence per feature of the project the target cannot hold (naming the node or
        projection), in the order found.
    """

    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """A model file read into a project, and what the reading approximated.

    Attributes
    ----------
    project
        The validated project.
    approximations
        One sentence per approximation (units, the time step used and the discretisation of
        each node's dynamics, inputs left for the user to connect), in the order found.
    exact
        True when nothing was approximated (the list then says why, e.g. an unedited
        SpikeStudio export restored exactly).
    """

    project: Project
    approximations: list[str] = field(default_factory=list)
    exact: bool = False


@dataclass(frozen=True)
class Target:
    """One export target: its module and what ``--out`` names.

    Attributes
    ----------
    name
        The value of ``--to``.
    module
        Dotted module name holding ``export(project, out) -> ExportReport``.
    out
        ``"file"`` (``--out`` is the file written) or ``"dir"`` (a folder to fill).
    title
        One line for ``--help``.
    label
        A few words for the page's menu (default: ``name``).
    """

    name: str
    module: str
    out: str
    title: str
    label: str = ""


#: Export targets by ``--to`` name (the registry: one line per exporter module).
TARGETS: dict[str, Target] = {}

#: Importers by format name: module holding ``import_file(path, **options) -> Project``.
IMPORTERS: dict[str, str] = {}


def register(target: Target) -> None:
    """Add ``target`` to :data:`TARGETS` (used by the registry lines below)."""
    TARGETS[target.name] = target


def export_project(project: Project, to: str, out: str | Path) -> ExportReport:
    """Export ``project`` to target ``to`` at ``out``.

    Raises
    ------
    SpikeStudioError
        Unknown target, or a project the target cannot hold (the message names the node).
    """
    if to not in TARGETS:
        known = ", ".join(sorted(TARGETS)) or "none"
        raise SpikeStudioError(f"--to: unknown export target {to!r} (known: {known})")
    module = importlib.import_module(TARGETS[to].module)
    return module.export(project, Path(out))


def import_file(path: str | Path, format: str, **options) -> Project:
    """Read a model file of ``format`` into a project (see :data:`IMPORTERS`)."""
    return import_model(path, format, **options).project


def import_model(path: str | Path, format: str, **options) -> ImportReport:
    """Read a model file of ``format`` into a project, with what the reading approximated.

    An importer module may define ``import_report(path, **options) -> ImportReport``; one
    that defines only ``import_file`` reports no approximations.

    Raises
    ------
    SpikeStudioError
        Unknown format, or a file the importer refuses (the message names the part).
    """
    if format not in IMPORTERS:
        known = ", ".join(sorted(IMPORTERS)) or "none"
        raise SpikeStudioError(f"unknown import format {format!r} (known: {known})")
    module = importlib.import_module(IMPORTERS[format])
    if hasattr(module, "import_report"):
        return module.import_report(Path(path), **options)
    return ImportReport(module.import_file(Path(path), **options))


# ---------------------------------------------------------------- the registry
# One line per exporter / importer module (each module is filled by its own change).
register(Target("nir", "engine.export.nir_export", "file",
                "NIR graph (.nir, HDF5) for snnTorch, Norse, Rockpool, Lava, SpiNNaker2, ...",
                "NIR graph (.nir)"))
IMPORTERS["nir"] = "engine.export.nir_import"
IMPORTERS["onnx"] = "engine.convert.onnx_import"
register(Target("brian2", "engine.export.brian2_script", "dir",
                "runnable Brian2 script run_brian2.py + network.npz", "Brian2 script (.zip)"))
register(Target("nest", "engine.export.nest_script", "dir",
                "runnable NEST 3 script run_nest.py + network.npz", "NEST 3 script (.zip)"))
register(Target("pynn", "engine.export.pynn_script", "dir",
                "runnable PyNN 0.13 script run_pynn.py (nest or brian2 backend) + network.npz",
                "PyNN script (.zip)"))
