"""Scenario definitions: the data of a workload and its validation, nothing that runs.

A :class:`Scenario` says how the network's input encoders are driven (an :class:`InputSpec`),
how long to simulate, what one inference is (``window_ms``), the latency deadline and the power
budget; :class:`Thresholds` are the editable rules of the fit matrices. This module checks and
(de)serialises them and imports nothing from the simulator or from :mod:`engine.project`, so the
project format can validate its ``scenarios`` section without depending on the analyses.
Running scenarios and rating them is :mod:`engine.evaluation.scenario_fit`, which re-exports
every name here.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from engine.encoders import SPIKE_ENCODERS
from engine.errors import Problem, ProjectError
from engine.files import atomic_write_text
from engine.validation import ID_RE as _ID_RE

SCENARIOS_FORMAT = "spikestudio-scenarios"
SCENARIOS_VERSION = 1
PATTERNS = ("constant", "frames", "bursts", "custom")


# ============================================================================ data
@dataclass(frozen=True)
class InputSpec:
    """How a scenario drives the network's spike encoders.

    Parameters
    ----------
    pattern
        ``"constant"``: every input neuron fires at ``rate_hz`` for the whole run (Poisson, or
        regular with ``model="regular"``). ``"frames"``: rate-coded static frames, one every
        ``period_ms``, shown at ``rate_hz`` for ``on_ms`` then ``off_rate_hz`` until the next
        frame. ``"bursts"``: ``off_rate_hz`` background with bursts of ``rate_hz`` lasting
        ``on_ms``, starting at random times ``period_ms`` apart on average (exponential gaps
        drawn from the project seed, so runs repeat). ``"custom"``: ``model`` and ``params``
        are written to the encoder as they are (any spike encoder whose size rules fit).
    model
        Encoder model: ``poisson`` for the patterns (``regular`` allowed with ``constant``).
    rate_hz, off_rate_hz
        Rate during frames / bursts (or the constant rate) and between them, Hz per neuron.
    period_ms, on_ms, start_ms
        Frame or mean burst period, how long each frame / burst lasts, input onset.
    params
        Encoder parameters for ``"custom"``.
    """

    pattern: Literal["constant", "frames", "bursts", "custom"] = "constant"
    model: str = "poisson"
    rate_hz: float = 10.0
    off_rate_hz: float = 0.0
    period_ms: float = 50.0
    on_ms: float = 40.0
    start_ms: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """One input workload applied to the user's network.

    Parameters
    ----------
    id, name, description
        Identity and what the workload stands for.
    input
        The encoder override; ``None`` keeps the project's encoders as designed.
    targets
        Encoder node ids the override drives; empty = every spike encoder of the project.
    duration_ms
        Simulated time.
    window_ms
        One inference (one presentation window); energies are also given per inference.
    deadline_ms
        Latency budget: the first output spike must follow the first input spike within it.
    power_budget_w
        Mean power the deployment can afford (battery vs mains).
    output
        Population whose first spike counts as the answer; ``None`` = the last population
        without outgoing projections (see :func:`output_population`).
    tags
        Where the scenario sits in the selection matrix, e.g. ``{"data": "sparse events",
        "real_time": "control loop", "power": "battery"}`` (free text, shown in the UI).
    """

    id: str
    name: str
    description: str = ""
    input: InputSpec | None = field(default_factory=InputSpec)
    targets: tuple[str, ...] = ()
    duration_ms: float = 500.0
    window_ms: float = 100.0
    deadline_ms: float = 50.0
    power_budget_w: float = 1e-2
    output: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    """The explicit, editable rules that colour the fit matrices.

    Attributes
    ----------
    sparsity_recommended, sparsity_cautious
        NeuroBench activation sparsity at or above the first is *recommended*, below the
        second *cautious*. Sparsity is per simulation step, so it depends on ``dt_ms``: at
        1 ms, 0.98 is a mean rate of 20 Hz and 0.9 one of 100 Hz.
    latency_margin
        Latency at most ``latency_margin x deadline`` is *recommended*; up to the deadline
        *neutral*; later, or no output spike, *cautious*.
    power_margin
        Mean power at most ``power_margin x budget`` is *recommended*; up to the budget
        *neutral*; over it *cautious*.
    ratio_recommended, ratio_cautious
        Memory-inclusive SNN / ANN energy at most the first is *recommended*, above the
        second *cautious*.
    snn_profile
        Hardware profile of the criteria matrix's SNN energy and power.
    ann_profile
        Dense profile of the ANN baseline (and of the SNN / ANN ratio of neuromorphic
        profiles; a dense profile is compared with an ANN on itself).
    """

    sparsity_recommended: float = 0.98
    sparsity_cautious: float = 0.90
    latency_margin: float = 0.5
    power_margin: float = 0.5
    ratio_recommended: float = 0.5
    ratio_cautious: float = 1.0
    snn_profile: str = "loihi"
    ann_profile: str = "cmos45_fp32"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for saving with a project)."""
        return asdict(self)


# ============================================================================ defaults
def default_scenarios() -> list[Scenario]:
    """The built-in workloads, named after the selection matrix of the references."""
    sparse = InputSpec("constant", rate_hz=5.0)
    dense = InputSpec("frames", rate_hz=150.0, off_rate_hz=0.0, period_ms=50.0, on_ms=40.0)
    return [
        Scenario("sparse_events", "Sparse event stream",
                 "Event-camera-like input: every input fires rarely and asynchronously "
                 "(5 Hz Poisson).", sparse, duration_ms=500.0, window_ms=100.0,
                 deadline_ms=50.0, power_budget_w=1e-2,
                 tags={"data": "sparse events", "real_time": "soft", "power": "any"}),
        Scenario("dense_frames", "Dense rate-coded frames",
                 "Static frames rate-coded at 150 Hz for 40 ms of every 50 ms frame: every "
                 "input fires in every frame.", dense, duration_ms=500.0, window_ms=50.0,
                 deadline_ms=50.0, power_budget_w=1e-2,
                 tags={"data": "dense frames", "real_time": "soft", "power": "any"}),
        Scenario("control_loop", "Millisecond control loop",
                 "A closed loop that needs an answer within 5 ms of each sensor event "
                 "(20 Hz Poisson input, 10 ms control period).", InputSpec(rate_hz=20.0),
                 duration_ms=500.0, window_ms=10.0, deadline_ms=5.0, power_budget_w=1e-1,
                 tags={"data": "events", "real_time": "ms control loop", "power": "any"}),
        Scenario("batch", "Batch (offline) frames",
                 "Offline processing of rate-coded frames: latency hardly matters (1 s).",
                 replace(dense, rate_hz=100.0), duration_ms=500.0, window_ms=50.0,
                 deadline_ms=1000.0, power_budget_w=10.0,
                 tags={"data": "dense frames", "real_time": "batch", "power": "mains"}),
        Scenario("battery_wearable", "Battery wearable",
                 "A battery-powered sensor streaming sparse events into a 1 mW budget.",
                 replace(sparse, rate_hz=10.0), duration_ms=500.0, window_ms=100.0,
                 deadline_ms=100.0, power_budget_w=1e-3,
                 tags={"data": "sparse events", "real_time": "soft", "power": "battery"}),
        Scenario("mains_edge", "Mains-powered edge box",
                 "Dense frames at full rate on a mains-powered box (10 W budget).",
                 replace(dense, rate_hz=200.0), duration_ms=500.0, window_ms=50.0,
                 deadline_ms=50.0, power_budget_w=10.0,
                 tags={"data": "dense frames", "real_time": "soft", "power": "mains"}),
        Scenario("bursty_sensor", "Bursty sensor",
                 "Near-silence (0.5 Hz) broken by 20 ms bursts at 150 Hz, about every "
                 "150 ms at random.", InputSpec("bursts", rate_hz=150.0, off_rate_hz=0.5,
                                                period_ms=150.0, on_ms=20.0),
                 duration_ms=600.0, window_ms=100.0, deadline_ms=20.0, power_budget_w=1e-2,
                 tags={"data": "bursty events", "real_time": "soft", "power": "battery"}),
        Scenario("always_on", "Mostly-silent always-on",
                 "A wake-word / presence detector: rare events (0.5 Hz) and a tight "
                 "1 mW budget around the clock.", InputSpec(rate_hz=0.5), duration_ms=1000.0,
                 window_ms=1000.0, deadline_ms=200.0, power_budget_w=1e-3,
                 tags={"data": "mostly silent", "real_time": "soft", "power": "battery"}),
    ]


# ============================================================================ (de)serialise
def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The JSON form of a scenario (inverse of :func:`scenario_from_dict`)."""
    data = asdict(scenario)
    data["targets"] = list(scenario.targets)
    if scenario.input is None:
        data["input"] = None
    return copy.deepcopy(data)


def scenario_from_dict(data: Any, path: str = "scenario") -> Scenario:
    """Validate a scenario's JSON form and build a :class:`Scenario`.

    Raises
    ------
    ProjectError
        Listing every problem with its field path, e.g.
        ``scenarios[2].deadline_ms: must be > 0 ms, got -1``.
    """
    problems = validate_scenario(data, path)
    if problems:
        raise ProjectError(problems)
    values = {f.name: copy.deepcopy(data[f.name]) for f in fields(Scenario) if f.name in data}
    raw = values.get("input", {})
    values["input"] = None if raw is None else InputSpec(**raw)
    values["targets"] = tuple(values.get("targets", ()))
    for key in ("duration_ms", "window_ms", "deadline_ms", "power_budget_w"):
        if key in values:
            values[key] = float(values[key])
    return Scenario(**values)


def _number_problem(value: Any, path: str, unit: str, *, positive: bool = True) -> list[Problem]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return [Problem(path, f"must be a finite number{' in ' + unit if unit else ''}, "
                              f"got {value!r}")]
    if positive and value <= 0:
        return [Problem(path, f"must be > 0{' ' + unit if unit else ''}, got {value:g}")]
    if not positive and value < 0:
        return [Problem(path, f"must be >= 0{' ' + unit if unit else ''}, got {value:g}")]
    return []


def validate_scenario(data: Any, path: str = "scenario") -> list[Problem]:
    """Every problem of one scenario's JSON form, each naming its field path."""
    if not isinstance(data, dict):
        return [Problem(path, f"must be an object, got {type(data).__name__}")]
    allowed = {f.name for f in fields(Scenario)}
    problems = [Problem(f"{path}.{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
                for k in sorted(set(data) - allowed, key=str)]
    problems += [Problem(f"{path}.{k}", "is required") for k in ("id", "name") if k not in data]
    if "id" in data and not (isinstance(data["id"], str) and _ID_RE.match(data["id"])):
        problems.append(Problem(f"{path}.id", "must be 1-64 characters: a letter or _ first, "
                                              f"then letters, digits, _ or -; got {data['id']!r}"))
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            problems.append(Problem(f"{path}.{key}", "must be a string"))
    if "name" in data and isinstance(data["name"], str) and not data["name"].strip():
        problems.append(Problem(f"{path}.name", "must not be empty"))
    for key, unit in (("duration_ms", "ms"), ("window_ms", "ms"), ("deadline_ms", "ms"),
                      ("power_budget_w", "W")):
        if key in data:
            problems += _number_problem(data[key], f"{path}.{key}", unit)
    problems += _validate_lists(data, path)
    if data.get("input") is not None:
        problems += validate_input(data["input"], f"{path}.input")
    return problems


def _validate_lists(data: dict, path: str) -> list[Problem]:
    problems = []
    targets = data.get("targets", [])
    if not isinstance(targets, (list, tuple)):
        problems.append(Problem(f"{path}.targets", "must be a list of encoder ids"))
    else:
        problems += [Problem(f"{path}.targets[{i}]", f"must be a node id, got {t!r}")
                     for i, t in enumerate(targets) if not isinstance(t, str)]
    if data.get("output") is not None and not isinstance(data["output"], str):
        problems.append(Problem(f"{path}.output", "must be a population id or null"))
    tags = data.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in tags.items()):
        problems.append(Problem(f"{path}.tags", "must map strings to strings"))
    return problems


def validate_input(data: Any, path: str = "scenario.input") -> list[Problem]:
    """Every problem of an :class:`InputSpec`'s JSON form."""
    if not isinstance(data, dict):
        return [Problem(path, f"must be an object or null, got {type(data).__name__}")]
    allowed = {f.name for f in fields(InputSpec)}
    problems = [Problem(f"{path}.{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
                for k in sorted(set(data) - allowed, key=str)]
    pattern = data.get("pattern", "constant")
    model = data.get("model", "poisson")
    if not isinstance(pattern, str) or pattern not in PATTERNS:
        problems.append(Problem(f"{path}.pattern", f"must be one of {', '.join(PATTERNS)}; "
                                                   f"got {pattern!r}"))
    if not isinstance(model, str) or model not in SPIKE_ENCODERS:
        problems.append(Problem(f"{path}.model", f"must be a spike encoder "
                                                 f"({', '.join(SPIKE_ENCODERS)}); got {model!r}"))
    elif pattern in ("frames", "bursts") and model != "poisson":
        problems.append(Problem(f"{path}.model", f"pattern {pattern!r} needs 'poisson', "
                                                 f"got {model!r}"))
    elif pattern == "constant" and model not in ("poisson", "regular"):
        problems.append(Problem(f"{path}.model", "pattern 'constant' needs 'poisson' or "
                                                 f"'regular', got {model!r}"))
    for key, positive in (("rate_hz", False), ("off_rate_hz", False), ("period_ms", True),
                          ("on_ms", False), ("start_ms", False)):
        if key in data:
            problems += _number_problem(data[key], f"{path}.{key}", _unit(key),
                                        positive=positive)
    for key in ("rate_hz", "off_rate_hz"):
        if isinstance(data.get(key), (int, float)) and data[key] > 10_000:
            problems.append(Problem(f"{path}.{key}", f"must be <= 10000 Hz, got {data[key]:g}"))
    if model == "regular" and pattern == "constant" and data.get("rate_hz", 10.0) == 0:
        problems.append(Problem(f"{path}.rate_hz", "must be > 0 Hz for a regular encoder"))
    if "params" in data and not isinstance(data["params"], dict):
        problems.append(Problem(f"{path}.params", "must be an object of encoder parameters"))
    return problems


def _unit(key: str) -> str:
    return "Hz" if key.endswith("_hz") else "ms"


def scenarios_to_document(scenarios: Iterable[Scenario]) -> dict[str, Any]:
    """``{"format", "version", "scenarios": [...]}`` (what a project or file stores)."""
    return {"format": SCENARIOS_FORMAT, "version": SCENARIOS_VERSION,
            "scenarios": [scenario_to_dict(s) for s in scenarios]}


def scenarios_from_document(document: Any) -> list[Scenario]:
    """Validate a scenarios document (or a bare list) and build the scenarios.

    Raises
    ------
    ProjectError
        With every problem of every scenario (``scenarios[i].field: ...``) and duplicate ids.
    """
    items = document.get("scenarios") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ProjectError([Problem("scenarios", "must be a list of scenario objects")])
    problems: list[Problem] = []
    if isinstance(document, dict) and document.get("format", SCENARIOS_FORMAT) != SCENARIOS_FORMAT:
        problems.append(Problem("format", f"must be {SCENARIOS_FORMAT!r}"))
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        problems += validate_scenario(item, f"scenarios[{i}]")
        sid = item.get("id") if isinstance(item, dict) else None
        if isinstance(sid, str) and sid in seen:
            problems.append(Problem(f"scenarios[{i}].id",
                                    f"{sid!r} is already used by scenarios[{seen[sid]}]"))
        elif isinstance(sid, str):
            seen[sid] = i
    if problems:
        raise ProjectError(problems)
    return [scenario_from_dict(item, f"scenarios[{i}]") for i, item in enumerate(items)]


def save_scenarios(scenarios: Iterable[Scenario], path: str | os.PathLike[str]) -> None:
    """Write scenarios as JSON, atomically."""
    text = json.dumps(scenarios_to_document(scenarios), indent=2, allow_nan=False) + "\n"
    atomic_write_text(Path(path), text)


def load_scenarios(path: str | os.PathLike[str]) -> list[Scenario]:
    """Read and validate a scenarios file (JSON only)."""
    try:
        document = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ProjectError([Problem("", f"cannot read scenarios from {path}: {exc}")]) from None
    return scenarios_from_document(document)


def thresholds_from_dict(data: Any, path: str = "thresholds") -> Thresholds:
    """Validate and build :class:`Thresholds` (missing keys take the defaults)."""
    if not isinstance(data, dict):
        raise ProjectError([Problem(path, "must be an object")])
    allowed = {f.name for f in fields(Thresholds)}
    problems = [Problem(f"{path}.{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
                for k in sorted(set(data) - allowed, key=str)]
    if problems:
        raise ProjectError(problems)
    thresholds = replace(Thresholds(), **data)
    problems = validate_thresholds(thresholds, path)
    if problems:
        raise ProjectError(problems)
    return thresholds


def validate_thresholds(t: Thresholds, path: str = "thresholds") -> list[Problem]:
    """Every inconsistency of a :class:`Thresholds`, each naming its field."""
    problems: list[Problem] = []
    for name in ("sparsity_recommended", "sparsity_cautious"):
        problems += _number_problem(getattr(t, name), f"{path}.{name}", "", positive=False)
    for name in ("latency_margin", "power_margin", "ratio_recommended", "ratio_cautious"):
        problems += _number_problem(getattr(t, name), f"{path}.{name}", "")
    if problems:
        return problems
    if not 0 <= t.sparsity_cautious <= t.sparsity_recommended <= 1:
        problems.append(Problem(f"{path}.sparsity_cautious", "need 0 <= sparsity_cautious <= "
                                f"sparsity_recommended <= 1, got {t.sparsity_cautious:g} and "
                                f"{t.sparsity_recommended:g}"))
    for name in ("latency_margin", "power_margin"):
        if getattr(t, name) > 1:
            problems.append(Problem(f"{path}.{name}", f"must be <= 1, got {getattr(t, name):g}"))
    if t.ratio_recommended > t.ratio_cautious:
        problems.append(Problem(f"{path}.ratio_recommended", "must be <= ratio_cautious "
                                f"({t.ratio_cautious:g}), got {t.ratio_recommended:g}"))
    for name in ("snn_profile", "ann_profile"):
        if not isinstance(getattr(t, name), str) or not getattr(t, name):
            problems.append(Problem(f"{path}.{name}", "must be a profile id"))
    return problems
