"""One time cursor for every view of a run: a slider with play/pause, steps and a speed.

:class:`TimeCursor` is a :class:`panel.custom.JSComponent` (``time_cursor.js`` next to this file,
no build step). Playback runs in the browser: each animation frame moves the slider, the
cursor line of every plot of the page and the graph editor's activity, without a message to
the server, so the frame rate does not depend on the server's load (a class shares one
server). Python hears the time (``value``) when the user lets go of the slider, pauses or
steps, and every ``sync_ms`` while playing: enough for views drawn on the server, such as the
weight matrix at the cursor.

Plots take part through :func:`cursor_line`: a Bokeh ``Span`` with the name
:data:`CURSOR_LINE`, added once per figure. The browser finds these lines by name in the
page's Bokeh document (also those of figures drawn later, e.g. in a tab opened afterwards),
so a widget only calls the helper when it builds a figure. One cursor per page.

Other browser-side views follow the cursor through a window event ``"ss-time-cursor"`` whose
``detail`` is ``{channel, t, playing}`` (``channel`` is :attr:`TimeCursor.channel`), and the
last value is kept in ``window.__ssTimeCursor[channel]`` for views drawn later.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import panel as pn
import param
from bokeh.models import Span

__all__ = ["CURSOR_LINE", "SPEEDS", "TimeCursor", "cursor_line"]

#: Name of the cursor line of a plot (the browser looks the lines up by it).
CURSOR_LINE = "ss-time-cursor"
#: Playback speeds offered, as multiples of real time (1 = one model second per second).
SPEEDS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)

_HERE = Path(__file__).resolve().parent
_CSS = """
.ss-cursor { display: flex; align-items: center; gap: 8px; padding: 6px 10px;
  background: rgba(255, 255, 255, .97); border: 1px solid #d9dee6; border-radius: 8px;
  box-shadow: 0 2px 8px rgba(16, 24, 40, .10);
  font: 13px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2733; }
.ss-cursor-btn { height: 30px; min-width: 34px; border: 1px solid #d9dee6; border-radius: 6px;
  background: #fff; cursor: pointer; font-size: 14px; }
.ss-cursor-btn:hover:not(:disabled) { background: #f2f5f9; }
.ss-cursor-play { min-width: 44px; color: #fff; background: #2f6fde; border-color: #2f6fde; }
.ss-cursor-play:hover:not(:disabled) { background: #255bb8; }
.ss-cursor-btn:disabled { opacity: .45; cursor: default; }
.ss-cursor-slider { flex: 1; min-width: 120px; accent-color: #d62728; }
.ss-cursor-time { min-width: 150px; font-variant-numeric: tabular-nums; }
.ss-cursor-speed { color: #6b7685; white-space: nowrap; }
.ss-cursor-speed select { font: inherit; }
"""


def cursor_line(fig: Any) -> Span:
    """The cursor line of ``fig`` (added on first call): a vertical Span at the cursor time.

    The server never moves it (its location stays None, i.e. not drawn, until the page's
    :class:`TimeCursor` places it), so plots without a cursor on the page are unchanged.
    """
    for item in fig.center:
        if isinstance(item, Span) and item.name == CURSOR_LINE:
            return item
    line = Span(name=CURSOR_LINE, dimension="height", location=None, line_color="#d62728",
                line_width=2, line_alpha=0.8, level="overlay")
    fig.add_layout(line)
    return line


class TimeCursor(pn.custom.JSComponent):
    """Slider over ``[0, duration_ms]`` with play/pause, one-step buttons and a speed choice.

    Parameters
    ----------
    duration_ms
        Length of the run; 0 disables the controls.
    value
        Cursor time (ms). Set it to move the cursor; the browser reports the user's moves
        (see the module docstring for when).
    playing
        True while playing (set it to start or stop playback).
    speed
        Model time per wall-clock time (0.1 plays 100 ms of the run per second).
    step_ms
        One step of the step buttons (the activity frames' spacing).
    sync_ms
        While playing, how often the browser reports ``value``.
    """

    duration_ms = param.Number(default=0.0, bounds=(0, None), doc="Length of the run (ms).")
    value = param.Number(default=0.0, doc="Cursor time (ms).")
    playing = param.Boolean(default=False, doc="Playing now.")
    speed = param.Number(default=0.1, bounds=(0, None), inclusive_bounds=(False, True),
                         doc="Multiple of real time.")
    speeds = param.List(default=list(SPEEDS), item_type=(int, float),
                        doc="Speeds offered (multiples of real time).")
    step_ms = param.Number(default=1.0, bounds=(0, None), inclusive_bounds=(False, True),
                           doc="One step of the step buttons (ms).")
    sync_ms = param.Integer(default=400, bounds=(50, None),
                            doc="While playing, how often the browser reports the time.")
    channel = param.String(default="", constant=True,
                           doc="Name of this cursor's browser events (unique per cursor).")

    _esm = _HERE / "time_cursor.js"
    _stylesheets = [_CSS]

    def __init__(self, **params: Any) -> None:
        params.setdefault("channel", uuid.uuid4().hex)
        params.setdefault("sizing_mode", "stretch_width")
        super().__init__(**params)

    def show_run(self, duration_ms: float, step_ms: float | None = None) -> None:
        """Set the cursor to a run of ``duration_ms``, at its end.

        The end is the state the run finished (or paused) in: the learned weights, the
        activity of a paused run's last step. Play starts over from 0.
        """
        duration = max(float(duration_ms), 0.0)
        step = float(step_ms) if step_ms and step_ms > 0 else max(duration / 100, 1e-3)
        self.param.update(playing=False, duration_ms=duration, step_ms=step, value=duration)

    def clear(self) -> None:
        """No run: stop and disable the controls."""
        self.param.update(playing=False, duration_ms=0.0, value=0.0)
