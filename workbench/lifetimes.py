"""How long a message on the page lasts: as long as the state it describes.

"Paused at t = ..." describes a pause, "neuron 3 never spiked" a run, "the pinned run was
dropped" the project that replaced it. Each such text is *held* in the state it describes,
and the session *ends* a state when it is over (a run continues, a new run starts, another
project is opened): every text held in it, or in a narrower state, is forgotten then. One
mechanism for every banner and note, instead of each remembering to clear itself.

States, from narrow to wide: ``pause`` (a paused run's stop), ``run`` (the run started last)
and ``project`` (the open project). Ending a state ends the narrower ones: a new project ends
its runs and their pauses.
"""

from __future__ import annotations

from collections.abc import Callable

#: States from the narrowest to the widest.
STATES = ("pause", "run", "project")


class Lifetimes:
    """The texts a session shows, each held until the state it describes ends."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, Callable[[], None]]] = {}

    def hold(self, place: str, state: str, forget: Callable[[], None]) -> None:
        """Call ``forget`` (which removes the text shown at ``place``) when ``state`` ends.

        ``place`` names where the text is shown (``"banner"``, ...): a later text there
        replaces this one, and only the later one's state ends it.

        Raises
        ------
        ValueError
            For a state not in :data:`STATES`.
        """
        if state not in STATES:
            raise ValueError(f"state: must be one of {', '.join(STATES)}, got {state!r}")
        self._held.pop(place, None)  # (re-inserted last: texts are forgotten in order)
        self._held[place] = (state, forget)

    def end(self, state: str) -> None:
        """``state`` is over: forget the texts held in it and in every narrower state."""
        ended = set(STATES[:STATES.index(state) + 1])
        places = [p for p, (s, _) in self._held.items() if s in ended]
        for place in places:
            _, forget = self._held.pop(place)
            forget()
