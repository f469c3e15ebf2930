"""Long work of a view (a batch of simulations) in a thread, shown from the session's loop.

The thread never touches a widget: it stores its latest progress and its outcome, and a
periodic callback of the browser session hands both to the view. Its simulations go
through the server's worker pool (``workbench.runner.simulate``), so a batch neither blocks
other sessions nor escapes the administrator's limits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import panel as pn

#: ``work(outcome, cancel)``: fills the dict ``outcome``; stops early when ``cancel`` is set.
Work = Callable[[dict, threading.Event], None]


class BackgroundJob:
    """One piece of work at a time, in a daemon thread.

    Parameters
    ----------
    name
        The thread's name.
    on_progress
        Called on the session's loop with the latest value passed to :meth:`report`.
    on_done
        Called on the session's loop once the thread ended, with its outcome dict (``error``:
        the message of an exception it raised; empty after :meth:`forget`) and whether it
        was cancelled.
    """

    def __init__(self, name: str, on_progress: Callable[[Any], None],
                 on_done: Callable[[dict, bool], None], period_ms: int = 200):
        self.name, self.period_ms = name, period_ms
        self.on_progress, self.on_done = on_progress, on_done
        self.cancel_event = threading.Event()
        self._outcome: dict[str, Any] = {}
        self._latest: Any = None
        self._thread: threading.Thread | None = None
        self._poller = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, work: Work) -> bool:
        """Run ``work`` unless a job is running (False then)."""
        if self.busy:
            return False
        self.cancel_event = cancel = threading.Event()
        self._outcome = outcome = {}
        self._latest = None

        def guarded() -> None:
            try:
                work(outcome, cancel)
            except Exception as exc:  # noqa: BLE001 - reported by the view
                outcome["error"] = str(exc)

        self._thread = threading.Thread(target=guarded, daemon=True, name=self.name)
        self._thread.start()
        self._poller = pn.state.add_periodic_callback(self._poll, period=self.period_ms)
        return True

    def report(self, latest: Any) -> None:
        """The work's progress (called from its thread: only stored here)."""
        self._latest = latest

    def cancel(self) -> None:
        """Ask the work to stop (its simulations stop at their next chunk)."""
        self.cancel_event.set()

    def forget(self) -> None:
        """Cancel, and show nothing of the work when it ends (the project was replaced)."""
        self.cancel_event.set()
        self._outcome, self._latest = {}, None

    def _poll(self) -> None:
        if self._latest is not None:
            self.on_progress(self._latest)
        if self._thread is not None and not self._thread.is_alive():
            if self._poller is not None:
                self._poller.stop()
                self._poller = None
            self._thread = None
            self.on_done(self._outcome, self.cancel_event.is_set())
