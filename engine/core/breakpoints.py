"""Breakpoints: conditions that pause a run at the first step where they hold.

A :class:`Breakpoint` is plain data (the page sends it as a dict); the simulator turns the
breakpoints into arrays the kernel checks at the end of every time step, so a run stops right
after the step ``k`` where a condition first holds, with that step complete: the result then
ends at ``t = k * dt`` and the run can be continued from there.

Kinds and their exact semantics (``t`` is the time of the step just completed):

``spike``
    Neuron ``neuron`` of ``population`` (a population or an encoder) emits a spike at ``t``.
``rate_above`` / ``rate_below``
    The mean rate of ``population`` over its spikes labelled in ``(t - window_ms, t]`` is
    above / below ``rate_hz``. Checked at every step once a whole window has been simulated
    since the breakpoint was set (a window of zeros before that would fire ``rate_below``).
``weight_range``
    A weight of ``projection`` is outside ``[w_min, w_max]`` after step ``t``. Weights only
    change through plasticity, so this is checked in the steps where the projection's rule
    changed weights (a plastic projection costs a pass over its synapses then); a static
    projection outside the range stops the run before its next step.
``invalid_state``
    Always on: a neuron's state became NaN or infinite during step ``t``. That step is half
    done, so such a run cannot be continued.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from engine.errors import SpikeStudioError

KINDS = ("spike", "rate_above", "rate_below", "weight_range")


@dataclass(frozen=True)
class Breakpoint:
    """A condition that pauses the run (see the module docstring for each ``kind``)."""

    kind: str
    population: str = ""
    neuron: int = 0
    window_ms: float = 10.0
    rate_hz: float = 0.0
    projection: str = ""
    w_min: float = -math.inf
    w_max: float = math.inf

    @classmethod
    def from_dict(cls, data: dict, where: str = "breakpoint") -> Breakpoint:
        """A breakpoint from plain data; unknown fields are an error naming the field."""
        known = set(cls.__dataclass_fields__)
        for key in data:
            if key not in known:
                raise SpikeStudioError(f"{where}.{key}: unknown field (known: "
                                       f"{', '.join(sorted(known))})")
        try:
            bp = cls(**data)
        except TypeError as exc:
            raise SpikeStudioError(f"{where}: {exc}") from None
        if bp.kind not in KINDS:
            raise SpikeStudioError(f"{where}.kind: must be one of {', '.join(KINDS)}, "
                                   f"got {bp.kind!r}")
        return bp

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """The condition in words."""
        if self.kind == "spike":
            return f"neuron {self.neuron} of {self.population!r} spikes"
        if self.kind in ("rate_above", "rate_below"):
            side = "above" if self.kind == "rate_above" else "below"
            return (f"the rate of {self.population!r} over the last {self.window_ms:g} ms is "
                    f"{side} {self.rate_hz:g} Hz")
        return f"a weight of {self.projection!r} leaves [{self.w_min:g}, {self.w_max:g}]"


@dataclass(frozen=True)
class BreakpointHit:
    """Which condition paused the run, when, and the neuron (or synapse) concerned."""

    kind: str                      # a Breakpoint kind, or "invalid_state"
    t_ms: float                    # time of the step after which the run paused
    population: str                # the population concerned (target of a weight's synapse)
    neuron: int                    # neuron index within it
    message: str
    breakpoint: dict = field(default_factory=dict)   # the Breakpoint as data ({} for NaN)
    synapse: tuple[int, int] | None = None           # (pre, post) of a weight hit
    value: float | None = None                       # the rate (Hz) or weight that fired

    def to_dict(self) -> dict:
        return asdict(self)


def breakpoint_targets(document: dict, kind: str) -> list[tuple[str, str]]:
    """What a breakpoint of ``kind`` can watch in a project document: ``(id, label)`` pairs.

    Populations and encoders (every node but monitors) for the spike and rate kinds,
    projections for ``weight_range``; the label is the item's ``label`` or ``""``.
    """
    network = document.get("network") if isinstance(document, dict) else None
    network = network if isinstance(network, dict) else {}
    if kind == "weight_range":
        items = network.get("projections") or []
    else:
        items = [n for n in network.get("nodes") or []
                 if isinstance(n, dict) and n.get("kind") != "monitor"]
    return [(str(i["id"]), str(i.get("label") or "")) for i in items
            if isinstance(i, dict) and "id" in i]


def resolve_target(text: str, targets: list[tuple[str, str]], what: str = "population",
                   where: str = "breakpoint") -> str:
    """The id of the item a user named by its id or its label (as shown in the editor).

    An exact id wins, then an exact label, then a case-insensitive match of either.

    Parameters
    ----------
    text
        What the user typed.
    targets
        ``(id, label)`` pairs (:func:`breakpoint_targets`).
    what
        ``"population"`` or ``"projection"``, for the messages.
    where
        Field name the messages start with.

    Raises
    ------
    SpikeStudioError
        For an empty, unknown or ambiguous name; the message lists the names to choose from.
    """
    name = str(text or "").strip()
    if not name:
        raise SpikeStudioError(f"{where}: name the {what} to watch ({_choices(targets)}).")
    folded = name.casefold()
    for match in (lambda i, lab: i == name, lambda i, lab: lab == name,
                  lambda i, lab: folded in (i.casefold(), lab.casefold())):
        found = sorted({i for i, lab in targets if match(i, lab)})
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise SpikeStudioError(f"{where}: {name!r} names {len(found)} {what}s "
                                   f"({', '.join(found)}): type the id of the one to watch.")
    raise SpikeStudioError(f"{where}: no {what} named {name!r} ({_choices(targets)}).")


def _choices(targets: list[tuple[str, str]], most: int = 12) -> str:
    """``choose from Excitatory (exc), Inhibitory (inh)`` (or says there is none)."""
    if not targets:
        return "this project has none"
    names = [f"{lab} ({i})" if lab and lab != i else i for i, lab in targets]
    more = f", ... ({len(names) - most} more)" if len(names) > most else ""
    return "choose from " + ", ".join(names[:most]) + more


__all__ = ["KINDS", "Breakpoint", "BreakpointHit", "breakpoint_targets", "resolve_target"]
