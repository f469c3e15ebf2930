"""The run bar: the simulation fields, Run/Stop, Pause/Continue/Step, a breakpoint, progress.

:class:`RunBar` submits the session's project to the shared runner (``workbench.runner``),
polls the run and hands its live spikes, pauses and result to the
:class:`~workbench.results_view.ResultsView`. It says what happened through the app's message
banner; nothing here simulates.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn

from engine.project import SIMULATION_SPECS
from widgets.param_form import ParamForm
from widgets.scroll_anchor import ScrollAnchor
from widgets.session_thread import held
from workbench import edits, runner
from workbench.breakpoint_form import BreakpointForm, breakpoint_words
from workbench.lifetimes import Lifetimes
from workbench.result_stamp import ResultStamp
from workbench.results_view import ResultsView
from workbench.session import ProjectSession
from workbench.storage import Workspace
from workbench.style import html_pane, text_html

log = logging.getLogger(__name__)
POLL_MS = 50           # how soon a finished run is noticed
#: How often a running run's progress is sent to the page. Every text that changes on the
#: page makes the browser lay the whole page out again (BokehJS re-renders the pane, then
#: measures every plot): at 0.15 s, with the live raster, the page's main thread was busy for
#: the whole run and the run's end reached it seconds late (issue 18, bench/ui.py --runs-only).
PROGRESS_EVERY_S = 0.5
#: Where this browser's paused runs wait (workbench.runner: a paused run holds no worker).
PAUSED_DIR = "paused"
#: How often (at most) the raster and rates of a running run are redrawn from its live
#: spikes: the first as soon as spikes arrive, then every second or three times what a draw
#: costs the server, whichever is longer (see PROGRESS_EVERY_S for the browser's side).
LIVE_EVERY_S = 1.0
#: A run is shown as going on (progress line, live raster) only from this long after Run or
#: Continue: a run that ends sooner goes straight to its result, without a partial view the
#: result replaces a moment later (two page layouts instead of one: on a quiet machine a
#: 0.1 s CUBA run took 1.4-1.5 s from click to raster with the partial view, 1.1 s without,
#: bench/ui.py --runs-only). "Starting..." says at once that Run was taken; a run still waiting
#: for a worker when the quiet start ends says so then.
QUIET_START_S = 0.5


class RunBar(pn.viewable.Viewer):
    """Runs the session's project and shows the run going on.

    Parameters
    ----------
    session : ProjectSession
        The project that runs (its validated project, its field errors).
    workspace : Workspace
        Owner of the runs (fair share of the workers) and home of their files.
    results : ResultsView
        Where a run's live spikes, pauses and result are shown.
    say : callable
        ``say(text, level="info", lasts="run")``: the app's message banner.
    guard : callable
        ``guard(fn, *args)``: ``fn``'s result, or None when it failed (the error is shown).
    on_shown : callable
        ``on_shown(stamp)`` after a run's result is shown (the export menu names it).
    lifetimes : Lifetimes
        The session's lifetimes: the run's (and a pause's) notes end with them.
    """

    def __init__(self, session: ProjectSession, workspace: Workspace, results: ResultsView,
                 say: Callable[..., None], guard: Callable[..., Any],
                 on_shown: Callable[[ResultStamp], None], lifetimes: Lifetimes,
                 **params: Any):
        super().__init__(**params)
        self.session, self.workspace, self.results = session, workspace, results
        self.lifetimes = lifetimes
        self._say, self._guard, self._on_shown = say, guard, on_shown
        self.handle: runner.RunHandle | None = None
        #: This page's run files (spikes too many for the server's memory): one directory
        #: per run, removed when a later run is shown and when the page closes.
        self._runs_dir = workspace.root / "runs" / uuid.uuid4().hex
        self._runs = 0
        # Bound now: Bokeh empties the app script's module when a session ends, before the
        # session's end is handled.
        self._discard_runs = runner.discard_run_files
        self._poller = None
        self._watching: list[dict] = []  # the breakpoints of the run going on
        self._reached = False  # one of them paused it
        self._hit_shown: dict | None = None
        self._progress_at = 0.0
        self._quiet_until = 0.0  # no progress nor live raster shown before this time
        self._said_waiting = False  # "Waiting for a free worker..." shown for this run
        self._shown_pauses = 0
        self._live_shown, self._live_at, self._live_every = 0, 0.0, LIVE_EVERY_S
        self._build_widgets()

    def _build_widgets(self) -> None:
        self.run_form = ParamForm(specs=list(SIMULATION_SPECS[:3]), values={}, inline=True)
        self.run_form.on_change(
            lambda n, v: self._guard(self.session.apply, edits.set_simulation, n, v))
        self.run_form.on_pending(
            lambda n, text, msg: self.session.set_field_error(f"simulation.{n}", text, msg))
        self.run_button = pn.widgets.Button(label="Run", color="primary", width=90,
                                            css_classes=["ss-run"])
        self.stop_button = pn.widgets.Button(label="Stop", color="danger", width=90,
                                             disabled=True, css_classes=["ss-stop"])
        self.run_button.on_click(lambda e: self.run())
        self.stop_button.on_click(lambda e: self.stop())
        self.pause_button = pn.widgets.Button(label="Pause", width=90, disabled=True,
                                              css_classes=["ss-pause"])
        self.continue_button = pn.widgets.Button(label="Continue", width=90, disabled=True,
                                                 css_classes=["ss-continue"])
        self.step_button = pn.widgets.Button(label="Step", width=70, disabled=True,
                                             css_classes=["ss-step"])
        self.step_ms = pn.widgets.FloatInput(label="step ms (0 = one dt)", value=0.0, start=0.0,
                                             width=120, css_classes=["ss-step-ms"])
        self.pause_button.on_click(lambda e: self.pause())
        self.continue_button.on_click(lambda e: self.resume(None))
        self.step_button.on_click(lambda e: self.resume(self._step_length()))
        self.breakpoint = BreakpointForm(say=self._say)
        self.progress = pn.indicators.Progress(value=0, max=1000, bar_color="primary",
                                               sizing_mode="stretch_width", height=14)
        self.progress_text = html_pane(progress_html("idle", ""), sizing_mode="stretch_width")
        # Brings the results into view when a run finishes (unless the user scrolled away);
        # the app places it above the results.
        self.results_anchor = ScrollAnchor()

    def __panel__(self):
        return pn.Column(
            pn.Row(self.run_form, pn.Column(self.run_button, self.stop_button, width=110),
                   pn.Column(self.pause_button, self.continue_button, width=110),
                   pn.Column(self.step_button, self.step_ms, width=140),
                   sizing_mode="stretch_width"),
            self.breakpoint, self.progress, self.progress_text, sizing_mode="stretch_width",
            css_classes=["ss-runbar"])

    # ------------------------------------------------------------------ the app's calls
    def show_project(self) -> None:
        """Show the session's simulation fields, their problems and their invalid texts."""
        s = self.session
        self.run_form.param.update(values=dict(s.document.get("simulation", {})), problems={
            p.path.split(".", 1)[1]: p.message for p in s.problems
            if p.path.startswith("simulation.")}, pending={
            path.split(".", 1)[1]: text for path, (text, _) in s.field_errors.items()
            if path.startswith("simulation.")})

    def reset(self) -> None:
        """The project was replaced: a run of the old one still going is stopped (its
        result is dropped by ``ResultsView.show``), the progress goes back to idle."""
        if self.handle is not None and not self.handle.done:
            self.handle.stop()
        self.progress.value = 0
        self.progress_text.object = progress_html("idle", "")

    def close(self) -> None:
        """The page closed: its run stops, its run files leave the disk."""
        handle, self.handle = self.handle, None
        if handle is not None:
            handle.stop()
        self._discard_runs(handle, self._runs_dir)

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        """Run the session's project (refused, with a message, while a field is invalid)."""
        # Everything Run changes (buttons, run state, results header, cursor) reaches the
        # page as one patch: each patch that disables a button or hides a pane makes the
        # browser lay out the whole page again (about 0.3 s each at load 7, bench/RESULTS.md).
        with held(pn.state.curdoc):
            self._run()

    def _run(self) -> None:
        if self.handle is not None and not self.handle.done:
            self._say("A run is already in progress: press Stop first.")
            return
        self.lifetimes.end("run")  # what was said about the last run is stale now
        blockers = self.session.run_blockers()
        if blockers:
            # One message listing every field to fix; nothing runs with stale values.
            self._say(f"Run refused: fix {len(blockers)} field(s) first:\n"
                      + "\n".join(blockers), "error")
            return
        project = self._guard(self.session.project)
        if project is None:
            return
        breakpoints = self.breakpoint.breakpoints(self.session.document)
        if breakpoints is None:
            return
        self.results_anchor.armed += 1
        self._runs += 1
        self.handle = runner.submit(
            project, owner=self.workspace.key,
            debug={"breakpoints": breakpoints, "live": True,
                   "checkpoint_dir": str(self.workspace.root / PAUSED_DIR)},
            store_dir=self._runs_dir / f"run-{self._runs}")
        self._live_shown, self._live_at, self._live_every = 0, 0.0, LIVE_EVERY_S
        self._quiet_until = time.monotonic() + QUIET_START_S
        self._said_waiting = False
        self._shown_pauses = 0
        self._watch(breakpoints)
        self.results.run_started(self.session.document)
        self.run_button.disabled = True
        self.stop_button.disabled = False
        self._running_buttons(paused=False)
        self.progress.value = 0
        # Most runs find a free worker at once: "waiting" is said only when this one did not
        # (after the quiet start), not while it already runs.
        self.progress_text.object = progress_html("queued", "Starting...")
        if self._poller is None:
            self._poller = pn.state.add_periodic_callback(self._poll, period=POLL_MS)

    def stop(self) -> None:
        """Stop the run going on (or paused)."""
        if self.handle is not None:
            self.handle.stop()
            self.progress_text.object = progress_html("stopping", "Stopping...")

    # ------------------------------------------------------------------ pause, step, continue
    def _running_buttons(self, paused: bool | None) -> None:
        """Pause while running; Step and Continue while paused; none when idle (None)."""
        self.pause_button.disabled = paused is not False
        self.continue_button.disabled = paused is not True
        self.step_button.disabled = paused is not True

    def _step_length(self) -> float:
        """The Step field in ms; 0 (or empty) steps one dt of the run's project."""
        ms = self.step_ms.value or 0.0
        if ms > 0:
            return float(ms)
        r = self.handle.result if self.handle is not None else None
        return float(r.dt_ms) if r is not None else 0.1

    def pause(self) -> None:
        """Pause the run going on (its partial result is shown when it has paused)."""
        # (A Continue still waiting for a worker can be paused too: it is withdrawn.)
        if self.handle is not None and (self.handle.state == "running" or (
                self.handle.state == "queued" and self.handle.result is not None)):
            self.handle.pause()
            self.pause_button.disabled = True
            self.progress_text.object = progress_html("pausing", "Pausing...")

    def resume(self, ms: float | None) -> None:
        """Continue the paused run for ``ms`` (a step), or to its end (None)."""
        if self.handle is None or not self.handle.paused:
            return
        # Named in the network that is running (the project may have been edited since).
        breakpoints = self.breakpoint.breakpoints(self._run_document())
        if breakpoints is None:
            return
        self.handle.resume(ms, breakpoints)
        self._quiet_until = time.monotonic() + QUIET_START_S
        self._said_waiting = False
        self.lifetimes.end("pause")
        if breakpoints != self._watching:
            self._watch(breakpoints)
        self._running_buttons(paused=False)
        self.progress_text.object = progress_html(
            "running", "Continuing..." if ms is None else f"Stepping {ms:g} ms...")

    def _run_document(self) -> dict:
        """The project document of the run shown (the session's, before its first result)."""
        return self.results.run_document or self.session.document

    def _show_live(self, handle: runner.RunHandle, t_ms: float) -> None:
        """Redraw the raster and rates from the spikes the running run sent so far."""
        t0 = time.monotonic()
        spikes, self._live_shown = handle.live_spikes()
        self._guard(self.results.show_live, spikes, t_ms)
        # Throttled by what a draw costs: a slow one (a loaded server, a density image)
        # must not take the time the run's own end needs to reach the page.
        self._live_at = time.monotonic()
        self._live_every = max(LIVE_EVERY_S, 3 * (self._live_at - t0))

    def _show_pause(self, handle: runner.RunHandle) -> None:
        """Show a paused run's partial result, why it paused, and its neuron."""
        self._shown_pauses = handle.pauses
        r = handle.result
        self._running_buttons(paused=True)
        self._guard(self.results.show, r)
        self.progress.value = int(1000 * r.duration_ms / max(r.requested_ms, 1e-9))
        self.progress_text.object = progress_html(
            "paused", f"Paused at t = {r.duration_ms:g} of {r.requested_ms:g} ms, "
                      f"{r.n_spikes:,} spikes. The paused run is kept on disk (it holds "
                      f"no simulation worker): Continue, Step or Stop.")
        if handle.pause_message:
            self._say(handle.pause_message, "error", lasts="pause")
        elif r.breakpoint:
            self._show_hit(r.breakpoint, lasts="pause")

    def _watch(self, breakpoints: list[dict]) -> None:
        """The run goes on with ``breakpoints``: none of them reached yet."""
        self._watching, self._reached, self._hit_shown = list(breakpoints), False, None

    def _show_hit(self, hit: dict, lasts: str = "run") -> None:
        """Say which condition fired and select its neuron in the raster."""
        self._hit_shown = hit
        self._reached = self._reached or hit["kind"] != "invalid_state"
        self._say(hit["message"], "error" if hit["kind"] == "invalid_state" else "warning",
                  lasts=lasts)
        if hit["kind"] in ("spike", "weight_range", "invalid_state"):
            self.results.raster.selected = {"population": hit["population"],
                                            "neuron": int(hit["neuron"])}

    # ------------------------------------------------------------------ polling
    def _poll(self) -> None:
        handle = self.handle
        if handle is None:
            return
        # Everything a poll changes reaches the page as one patch: a result touches Panel
        # panes and Bokeh models alike, and split into separately written patches those could
        # arrive out of order under load (widgets.session_thread explains).
        with held(pn.state.curdoc):
            self._show_progress(handle)

    def _show_progress(self, handle: runner.RunHandle) -> None:
        p = handle.progress
        now = time.monotonic()
        quiet = now < self._quiet_until
        if (p is not None and handle.state == "running" and not quiet
                and now - self._progress_at >= PROGRESS_EVERY_S):
            self._progress_at = now
            eta = "" if p.eta_s != p.eta_s else f" \u00b7 about {p.eta_s:.1f} s left"
            self.progress.value = int(p.fraction * 1000)
            self.progress_text.object = progress_html(
                "running", f"t = {p.t_ms:,.1f} / {p.duration_ms:,.0f} ms{eta} \u00b7 "
                           f"{p.spikes:,} spikes")
        if handle.state == "queued" and not quiet and not self._said_waiting:
            self._said_waiting = True
            self.progress_text.object = progress_html("queued", "Waiting for a free worker...")
        if (handle.state == "running" and len(handle.live) > self._live_shown and not quiet
                and now - self._live_at >= self._live_every and p is not None):
            self._show_live(handle, p.t_ms)
        if handle.paused and handle.pauses != self._shown_pauses:
            self._show_pause(handle)
        if handle.done:
            self._finish(handle)

    def _finish(self, handle: runner.RunHandle) -> None:
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        self.lifetimes.end("pause")  # a pause's banner does not outlive its run
        self.run_button.disabled = False
        self.stop_button.disabled = True
        self._running_buttons(paused=None)
        if handle.result is None:
            self.results.end_live()  # the live raster goes back to the result the tabs show
        else:
            self._show_result(handle)
        hit = handle.result.breakpoint if handle.result is not None else None
        if hit and hit != self._hit_shown:  # (a paused run that was stopped: said already)
            self._show_hit(hit)
        elif handle.result is not None and not hit and not handle.error:
            self._say_unreached(handle.result)
        if handle.error and not hit:
            self._say(handle.error, "error")
        if handle.error and handle.result is None:
            self.progress_text.object = progress_html("error", "Run failed.")

    def _show_result(self, handle: runner.RunHandle) -> None:
        """Show a finished run's result, its figures and its notes."""
        t0 = time.perf_counter()
        if self._guard(self.results.show, handle.result) and self.results.stamp:
            self._on_shown(self.results.stamp)
        self.results.show_document(self.session.document)
        self.results_anchor.reveal += 1
        log.info("results shown in %.2f s", time.perf_counter() - t0)
        self._drop_run_files(keep=handle.store_dir)
        r = handle.result
        self.progress.value = int(1000 * r.duration_ms / max(r.requested_ms, 1e-9))
        done = "Stopped" if r.status == "cancelled" else "Done"
        self.progress_text.object = progress_html(
            r.status, f"{done}: {r.duration_ms:g} of {r.requested_ms:g} ms in "
                      f"{r.wall_time_s:.2f} s, {r.n_spikes:,} spikes")
        for note in r.messages:
            self._say(note, "warning")

    def _drop_run_files(self, keep: Path | None) -> None:
        """Remove the files of this page's earlier runs (the run ``keep`` is shown)."""
        if not self._runs_dir.is_dir():
            return
        for run_dir in self._runs_dir.iterdir():
            if run_dir != keep:
                shutil.rmtree(run_dir, ignore_errors=True)

    def _say_unreached(self, r) -> None:
        """A run that ended with a breakpoint set that never paused it says so."""
        if not self._watching or self._reached or r.status not in ("completed", "cancelled"):
            return
        document = self._run_document()
        names = [breakpoint_words(bp, document) for bp in self._watching]
        ended = ("ended" if r.status == "completed" else "was stopped")
        self._say(f"Breakpoint never reached: {'; '.join(names)} did not happen before "
                  f"the run {ended} at t = {r.duration_ms:g} ms.", "warning")


def progress_html(state: str, text: str) -> str:
    """The run state line; ``text`` is plain text (escaped here)."""
    return (f'<div class="ss-progress-text" data-testid="run-state" '
            f'data-state="{text_html(state)}">{text_html(text)}</div>')
