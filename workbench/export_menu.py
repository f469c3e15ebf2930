"""The page's export menu: the model for another tool (NIR, Brian2 / NEST / PyNN scripts) and
the report of the run on show, as downloads.

Everything goes through the engine's exporters (:func:`engine.export.export_project`) and
:func:`workbench.report.report_html`, the same code as ``spikestudio export`` / ``report``.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn

from engine.errors import SpikeStudioError
from engine.export import TARGETS, ImportReport, export_project, import_model
from engine.project import Project
from engine.validation import MAX_FILE_BYTES
from widgets.plot_format import file_stem

Message = Callable[[str, str], None]
#: Largest NIR upload: the size of the largest project file (weights dominate both).
MAX_NIR_BYTES = MAX_FILE_BYTES


class _QuietDownload(pn.widgets.FileDownload):
    """A FileDownload whose callback may return None: nothing is downloaded (the callback has
    told the user why), instead of Panel logging a traceback about a None file."""

    def _sync_data(self, fileobj: Any) -> None:
        if fileobj is not None:
            super()._sync_data(fileobj)


def export_bytes(project: Project, target: str) -> tuple[bytes, str, list[str]]:
    """Export ``project`` to ``target`` in memory.

    Returns
    -------
    (data, extension, warnings)
        A file target's file, or a folder target's files zipped (``extension`` ``"zip"``).
    """
    spec = TARGETS[target]
    with tempfile.TemporaryDirectory(prefix="spikestudio-export-") as tmp:
        out = Path(tmp) / ("model." + target if spec.out == "file" else target)
        report = export_project(project, target, out)
        if spec.out == "file":
            return out.read_bytes(), target, report.warnings
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(target) / path.relative_to(out))
        return buffer.getvalue(), "zip", report.warnings


def import_nir_bytes(data: bytes) -> ImportReport:
    """An uploaded NIR file as a project, with what the import approximated (the importer
    reads from a path)."""
    if len(data) > MAX_NIR_BYTES:
        raise SpikeStudioError(f"NIR file: {len(data) / 2**20:,.1f} MB is more than this "
                               f"server accepts ({MAX_NIR_BYTES / 2**20:g} MB)")
    with tempfile.TemporaryDirectory(prefix="spikestudio-import-") as tmp:
        path = Path(tmp) / "upload.nir"
        path.write_bytes(data)
        return import_model(path, "nir")


class ExportMenu(pn.viewable.Viewer):
    """Target choice + Export download, and the Report download of the run on show.

    Parameters
    ----------
    project
        Returns the current, valid project (raises :class:`SpikeStudioError` otherwise).
    run
        Returns ``(document, result, run_number)`` of the run on show, or None.
    message
        ``message(text, level)`` shows a notification (text is plain text).
    """

    def __init__(self, project: Callable[[], Project], run: Callable[[], Any],
                 message: Message, **params: Any):
        super().__init__(**params)
        self._project, self._run, self._message = project, run, message
        self.target = pn.widgets.Select(
            options={t.label or name: name for name, t in TARGETS.items()},
            width=230, css_classes=["ss-export-target"])
        self.export = _QuietDownload(callback=self._export, filename="model.nir",
                                     label="Export model", width=120, color="default",
                                     css_classes=["ss-export-model"])
        self.report = _QuietDownload(callback=self._report, filename="report.html",
                                     label="Report", width=90, color="default", disabled=True,
                                     css_classes=["ss-export-report"])
        self.target.param.watch(lambda e: self._name(), "value")
        self._name()

    def __panel__(self):
        return pn.Row(self.target, self.export, self.report, align="center",
                      css_classes=["ss-export-menu"])

    def _name(self, project_name: str | None = None) -> None:
        target = self.target.value
        if TARGETS[target].out == "file":
            self.export.filename = f"{file_stem(project_name, None, '')}.{target}"
        else:
            self.export.filename = f"{file_stem(project_name, None, target)}.zip"

    def result_shown(self, project_name: str | None, run: int | None) -> None:
        """A run is on show (or none: ``run`` None): name and enable the report."""
        self.report.disabled = run is None
        self.report.filename = f"{file_stem(project_name, run, 'report')}.html"

    def project_named(self, name: str | None) -> None:
        """The project's name changed: downloads are named after it."""
        self._name(name)

    async def _export(self) -> io.BytesIO | None:
        target = self.target.value
        try:
            project = self._project()
            # In a thread: building a large network's matrices takes seconds, and the
            # server's event loop serves every other page meanwhile.
            data, _ext, warnings = await asyncio.get_running_loop().run_in_executor(
                None, export_bytes, project, target)
        except SpikeStudioError as exc:
            self._message(f"Export to {target} refused: {exc}", "error")
            return None
        except MemoryError:
            self._message(f"Export to {target} refused: the network does not fit in memory.",
                          "error")
            return None
        if warnings:
            self._message(f"Exported to {target} with {len(warnings)} note(s):\n"
                          + "\n".join(warnings), "warning")
        return io.BytesIO(data)

    async def _report(self) -> io.StringIO | None:
        from workbench.report import report_html  # Bokeh's inline resources: only on demand

        shown = self._run()
        if shown is None:
            self._message("Report: run the project first.", "warning")
            return None
        document, result, run = shown
        label = f"run {run}" if run else None
        page = await asyncio.get_running_loop().run_in_executor(
            None, lambda: report_html(document, result, run_label=label))
        return io.StringIO(page)
