"""Which project, which version of it and which run a result belongs to (pure, no Panel).

A :class:`ResultStamp` is taken when a run starts; the result views show it in a header line
("Run 3 of CUBA, 1000 ms, at 15:42") and compare its revision with the current document to
say when the project has been edited since.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import datetime

from engine.analysis.project_diff import NOT_MODEL


def document_revision(document: dict | None) -> str:
    """A fingerprint of what a run of ``document`` computes.

    Moving a node, editing the lab notes or renaming the project keep the revision; any
    change to the network, the simulation settings, energy profiles or scenarios changes it.
    """
    if not document:
        return ""
    model = {k: v for k, v in document.items() if k not in NOT_MODEL}
    text = json.dumps(model, sort_keys=True, default=str, allow_nan=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ResultStamp:
    """The owner of one result.

    Attributes
    ----------
    project
        The project's name when the run started.
    revision
        :func:`document_revision` of the document that was run.
    run
        Run number within this project in this session (1, 2, ...).
    started
        Wall-clock time the run was started.
    record_spikes
        The run's ``simulation.record_spikes``: ``"all"`` or a tuple of node ids.
    """

    project: str
    revision: str
    run: int
    started: datetime
    record_spikes: str | tuple[str, ...] = "all"

    def header(self, duration_ms: float | None = None, status: str = "completed") -> str:
        """``Run 3 of CUBA, 1000 ms, at 15:42`` (plain text)."""
        length = f", {duration_ms:g} ms" if duration_ms is not None else ""
        stopped = " (stopped early)" if status == "cancelled" else ""
        return (f"Run {self.run} of {self.project}{length}{stopped}, "
                f"at {self.started:%H:%M}")

    def is_stale(self, document: dict | None) -> bool:
        """True when ``document`` differs from the version that was run."""
        return document is not None and document_revision(document) != self.revision


def header_html(stamp: ResultStamp | None, document: dict | None,
                duration_ms: float | None = None, status: str = "completed") -> str:
    """The results area's header line, with a badge when the project changed since the run."""
    if stamp is None:
        return ('<div class="ss-result-header" data-testid="result-header" data-run="" '
                'data-stale="false">No results for this project yet: press <b>Run</b>.</div>')
    stale = stamp.is_stale(document)
    badge = ('<span class="ss-stale-badge" data-testid="stale-badge" style="background:#fff4d6;'
             'color:#7a4b00;border:1px solid #e8c36a;border-radius:10px;padding:1px 8px;'
             'margin-left:8px;font-size:12px">from an earlier version of the project: run '
             'again to see the current one</span>') if stale else ""
    return (f'<div class="ss-result-header" data-testid="result-header" data-run="{stamp.run}" '
            f'data-project="{html.escape(stamp.project, quote=True)}" '
            f'data-stale="{str(stale).lower()}"><b>{html.escape(stamp.header(duration_ms, status))}'
            f'</b> {badge}</div>')


def live_header_html(running: ResultStamp, t_ms: float, requested_ms: float | None,
                     spikes: int, shown: ResultStamp | None,
                     shown_ms: float | None = None) -> str:
    """The header while a run goes on: what the live raster shows, and what the other tabs do.

    The raster and rates are redrawn from ``running``'s spikes so far; every other view still
    holds the result of ``shown`` (None: no result yet) until ``running`` pauses or ends.
    ``data-run`` stays the shown result's run, ``data-live-run`` is the running one.
    """
    end = f" of {requested_ms:g}" if requested_ms else ""
    others = (f"Summary, Traces and the other tabs still show {shown.header(shown_ms)} until "
              f"it ends." if shown is not None else
              "the other tabs fill in when it ends.")
    text = (f"{running.header()}: running, t = {t_ms:,.1f}{end} ms. The raster and rates show "
            f"its {spikes:,} spikes so far; {others}")
    return (f'<div class="ss-result-header" data-testid="result-header" '
            f'data-run="{shown.run if shown is not None else ""}" data-live="true" '
            f'data-live-run="{running.run}" data-stale="false" '
            f'data-project="{html.escape(running.project, quote=True)}">'
            f'<span class="ss-live-badge" data-testid="live-badge" style="background:#e7f3ff;'
            f'color:#134e8a;border:1px solid #9cc3ee;border-radius:10px;padding:1px 8px;'
            f'margin-right:8px;font-size:12px">live</span>{html.escape(text)}</div>')
