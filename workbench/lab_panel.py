"""The "Lab notes" tab: a lab's intro and steps, each with a Check button, and the class table.

A project whose ``lab`` is Markdown shows it as notes. A lab with steps (``engine.labs``)
shows each step's text, question and a **Check** button: the step's observation is evaluated
in the background on the run on show (its project and result; a check that runs its own
experiment uses the current project), and the outcome (what holds, what is missing, a hint)
is shown as text. Every Check is recorded in the user's workspace
(:mod:`workbench.lab_progress`); a step that has held once is ticked. A user named with
``spikestudio serve --lecturers`` also sees the class's progress table.

All text from the project file goes through :func:`workbench.style.markdown_html` (sanitised
Markdown) or :func:`workbench.style.text_html` (plain text): never raw HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import panel as pn

from engine.errors import ProjectError
from engine.labs.lab_file import Lab, Step, evaluate_step, notes_of, parse_lab
from engine.labs.runs import simulating_with
from workbench import lab_progress, runner
from workbench.background import BackgroundJob
from workbench.lab_figures import figure_of
from workbench.style import html_pane, lines_html, markdown_html, text_html

__all__ = ["LabPanel"]

#: ``shown_run() -> (result, stamp, project document) | None``: the run on show.
ShownRun = Callable[[], Any]


def _workspace():
    from workbench import identity
    return identity.current().workspace


class StepCard:
    """One step: its text, question, Check button and the outcome of the last Check."""

    def __init__(self, panel: LabPanel, lab: Lab, index: int, ticked: bool):
        self.panel, self.lab, self.index = panel, lab, index
        self.step: Step = lab.steps[index]
        self.ticked = ticked
        self.header = html_pane(self._header_html(), css_classes=["ss-lab-step-title"])
        body = [f'<div class="ss-lab-notes">{markdown_html(self.step.text)}</div>']
        if self.step.question:
            body.append(f'<div class="ss-lab-notes ss-lab-question"><b>Question.</b> '
                        f'{markdown_html(self.step.question)}</div>')
        self.body = html_pane("".join(body))
        self.button = pn.widgets.Button(label="Check", color="primary", width=90,
                                        css_classes=["ss-lab-check", f"ss-lab-check-{index}"])
        self.button.on_click(lambda e: self.check())
        self.outcome = html_pane(f'<div data-testid="lab-outcome-{index}" '
                                 f'data-state="idle"></div>')
        # The figure the last Check measured (an f-I curve, a capacity curve), if any.
        self.figure = pn.Column(sizing_mode="stretch_width",
                                css_classes=["ss-lab-figure", f"ss-lab-figure-{index}"])
        self.job = BackgroundJob(f"spikestudio-lab-check-{index}", lambda _: None, self._done)
        self.view = pn.Column(self.header, self.body, pn.Row(self.button), self.outcome,
                              self.figure, sizing_mode="stretch_width",
                              css_classes=["ss-lab-step"])

    def _header_html(self) -> str:
        tick = "&#10003; " if self.ticked else ""
        title = self.step.title
        # Titles taken from numbered sections ("2. The rheobase") keep their own number.
        label = title if re.match(r"\d+\.", title) else f"Step {self.index + 1}: {title}"
        return (f'<div class="ss-lab-notes"><h2 data-testid="lab-step-{self.index}" '
                f'data-ticked="{str(self.ticked).lower()}">{tick}{text_html(label)}</h2></div>')

    def _show(self, state: str, markup: str) -> None:
        kind = "info" if state == "holds" else "warning"
        self.outcome.object = (f'<div class="ss-msg ss-msg-{kind}" '
                               f'data-testid="lab-outcome-{self.index}" data-state="{state}">'
                               f'{markup}</div>')

    def check(self) -> None:
        """Evaluate the step's check in the background on the run on show."""
        try:
            project, result = self.panel.subject(self.step)
        except ProjectError as exc:
            self._show("error", "The project is not valid: " + lines_html(exc))
            return
        step = self.step

        def work(outcome: dict, cancel) -> None:
            # A check's own runs (an f-I curve, a compression) go through the server's
            # worker pool and its limits, like every run of the page.
            with simulating_with(runner.simulate):
                outcome["observation"] = evaluate_step(step, project, result)

        if self.job.start(work):
            self.button.disabled = True
            self.figure.objects = []
            self.outcome.object = (f'<div data-testid="lab-outcome-{self.index}" '
                                   f'data-state="running">Checking...</div>')

    def _done(self, outcome: dict, cancelled: bool) -> None:
        self.button.disabled = False
        if "error" in outcome:
            self._show("error", "The check failed: " + lines_html(outcome["error"]))
            return
        obs = outcome.get("observation")
        if obs is None:
            return
        self.panel.record(self.lab.id, self.step.id, obs)
        fig = figure_of(obs.figure)
        self.figure.objects = [] if fig is None else [pn.pane.Bokeh(fig,
                                                                    sizing_mode="stretch_width")]
        if obs.holds:
            self.ticked = True
            self.header.object = self._header_html()
            self._show("holds", "&#10003; " + lines_html(obs.message))
        else:
            hint = f'<br><span class="ss-hint">Hint: {lines_html(obs.hint)}</span>' \
                if obs.hint else ""
            self._show("missing", "Not yet: " + lines_html(obs.message) + hint)


class LabPanel:
    """The content of the "Lab notes" tab.

    Parameters
    ----------
    current_document
        Returns the session's current project document.
    shown_run
        Returns ``(result, stamp, project document)`` of the run on show, or None.
    """

    def __init__(self, current_document: Callable[[], dict | None], shown_run: ShownRun):
        self.current_document, self.shown_run = current_document, shown_run
        self.notes = html_pane("", css_classes=["ss-lab"])
        self.steps = pn.Column(sizing_mode="stretch_width")
        self.class_table = html_pane("")
        self.refresh_button = pn.widgets.Button(label="Refresh class progress", width=190,
                                                visible=False,
                                                css_classes=["ss-lab-class-refresh"])
        self.refresh_button.on_click(lambda e: self.show_class_table())
        self.cards: list[StepCard] = []
        #: Editors the tab shows between the intro and the steps (the Hopfield patterns).
        self.tools = pn.Column(sizing_mode="stretch_width")
        self.view = pn.Column(self.notes, self.tools, self.steps, self.refresh_button,
                              self.class_table, sizing_mode="stretch_width")

    def __panel__(self):
        return self.view

    # ------------------------------------------------------------------ showing
    def show_document(self, document: dict) -> None:
        """Show the lab of a newly opened project (notes, or intro and steps)."""
        lab_value = document.get("lab") or ""
        try:
            lab = parse_lab(lab_value) if isinstance(lab_value, dict) else None
        except ProjectError:
            lab = None  # an invalid project: its problems are shown by the editor
        if lab is None:
            notes = notes_of(lab_value) or "*This project has no lab notes.*"
            self._set_notes(notes)
            self.cards = []
        else:
            title = f"<h1>{text_html(lab.title)}</h1>"
            self._set_notes(lab.intro, title)
            held = {(a.lab, a.step) for a in self._attempts() if a.holds}
            self.cards = [StepCard(self, lab, i, (lab.id, s.id) in held)
                          for i, s in enumerate(lab.steps)]
        self.steps.objects = [c.view for c in self.cards]
        self.show_class_table()

    def _set_notes(self, markdown: str, title_html: str = "") -> None:
        self.notes.object = (f'<div class="ss-lab-notes" data-testid="lab-notes">'
                             f'{title_html}{markdown_html(markdown)}</div>')

    def _attempts(self) -> list[lab_progress.Attempt]:
        try:
            return lab_progress.attempts(_workspace())
        except OSError:
            return []

    # ------------------------------------------------------------------ checking
    def subject(self, step: Step) -> tuple[Any, Any]:
        """``(project, result)`` a step's check looks at: the run on show (its own project),
        or the current project for a check that runs its own experiment."""
        from engine.project import Project

        shown = self.shown_run()
        if step.check.run and shown is not None:
            result, _stamp, document = shown
            return Project.from_dict(document), result
        document = self.current_document()
        return Project.from_dict(document) if document else None, None

    def record(self, lab_id: str, step_id: str, obs) -> None:
        """Keep a Check's outcome in the user's workspace, then refresh the class table."""
        try:
            lab_progress.record(_workspace(), lab_id, step_id, obs.holds, obs.measured)
        except OSError as exc:
            self.class_table.object = (f'<p class="ss-msg ss-msg-error">Your progress could '
                                       f'not be saved: {text_html(exc)}</p>')
            return
        self.show_class_table()

    # ------------------------------------------------------------------ lecturer
    def show_class_table(self) -> None:
        """The class's progress, for lecturers only (nothing for anyone else)."""
        lecturer = lab_progress.is_lecturer(_workspace())
        self.refresh_button.visible = lecturer
        if not lecturer:
            self.class_table.object = ""
            return
        table = lab_progress.class_progress()
        rows = table.rows()
        head = "".join(f"<th>{text_html(c)}</th>" for c in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{text_html(c)}</td>" for c in r) + "</tr>"
                       for r in rows[1:])
        self.class_table.object = (
            '<div class="ss-lab-notes" data-testid="class-progress"><h2>Class progress</h2>'
            '<p class="ss-hint">Per user and step: checks that held / checks made.</p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
