"""Scenarios: concrete input workloads applied to the user's own network, and the fit matrices.

A :class:`Scenario` is data: how the network's input encoders are driven (an
:class:`InputSpec` that overrides the project's spike encoders), how long to simulate, what one
inference is (``window_ms``), the latency deadline and the power budget. The default set
(:func:`default_scenarios`) is named after the selection matrix of ``/work/shared/REFERENCES.md``:
data character (sparse event stream vs dense rate-coded frames), real-time need (millisecond
control loop vs batch), power budget (battery vs mains), plus a bursty sensor and a
mostly-silent always-on device. Users add their own with :func:`scenario_from_dict`.

:func:`run_scenarios` simulates the network under every scenario (tasks of an
:mod:`engine.executor`: threads by default, the numba kernel releases the GIL), measures
activity sparsity, latency to the first output spike, SNN energy and mean power on every
hardware profile and the dense-ANN baseline (all through
:mod:`engine.energy.model`), and returns a :class:`ScenarioReport`. :func:`fit_matrices` turns the
report and explicit, editable :class:`Thresholds` into two long-format tables (scenarios x
criteria, scenarios x hardware profiles) whose cells carry a value, a rating in
``recommended / neutral / cautious`` and the reason. Everything comes from the simulations;
nothing is a static table. No Panel or Bokeh here.

The definitions (:class:`Scenario`, :class:`InputSpec`, :class:`Thresholds`, their validation
and (de)serialisation, :func:`default_scenarios`) live in :mod:`engine.scenarios.defs`, which the
project format uses without depending on the simulator; they are re-exported here.
"""

from __future__ import annotations

import copy
import io
import math
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from engine.encoders import SPIKE_ENCODERS
from engine.energy import model as E
from engine.errors import Problem, ProjectError
from engine.executor import Executor, make_executor
from engine.project import Project
from engine.scenarios.defs import (  # noqa: F401 - the definitions, re-exported
    PATTERNS,
    SCENARIOS_FORMAT,
    SCENARIOS_VERSION,
    InputSpec,
    Scenario,
    Thresholds,
    default_scenarios,
    load_scenarios,
    save_scenarios,
    scenario_from_dict,
    scenario_to_dict,
    scenarios_from_document,
    scenarios_to_document,
    thresholds_from_dict,
    validate_input,
    validate_scenario,
    validate_thresholds,
)

RATINGS = ("recommended", "neutral", "cautious")
#: Columns of the criteria matrix, in display order, with their headers and units.
CRITERIA: dict[str, tuple[str, str]] = {
    "activity_sparsity": ("Activity sparsity", ""),
    "latency_ms": ("Latency to first output spike", "ms"),
    "snn_energy_j": ("SNN energy / inference", "J"),
    "ann_energy_j": ("ANN energy / inference", "J"),
    "snn_ann_ratio": ("SNN / ANN (memory-inclusive)", "x"),
}
MATRIX_COLUMNS = ("scenario", "scenario_name", "column", "column_label", "value", "unit",
                  "text", "rating", "reason")
_MAX_TABLE_ROWS = 20_000  # rate-table rows a pattern may expand to (frames / bursts)


# ============================================================================ apply
def output_population(project: Project, requested: str | None = None) -> str:
    """The population whose spikes are the network's answer.

    ``requested`` if given (checked), else the last population without outgoing projections
    to *other* nodes (a self-recurrent output layer still counts), else the last population.
    """
    pops = [n.id for n in project.network.populations]
    if requested is not None:
        if requested not in pops:
            raise ProjectError([Problem("scenario.output", f"must be a population of the "
                                        f"project ({', '.join(pops)}), got {requested!r}")])
        return requested
    if not pops:
        raise ProjectError([Problem("network.nodes", "the project has no population")])
    feeding = {p.source for p in project.network.projections if p.source != p.target}
    sinks = [p for p in pops if p not in feeding]
    return (sinks or pops)[-1]


def driven_encoders(project: Project, scenario: Scenario) -> list[str]:
    """Ids of the encoder nodes the scenario drives (checked against the project)."""
    spike_encoders = [n.id for n in project.network.encoders if n.model in SPIKE_ENCODERS]
    if not scenario.targets:
        if scenario.input is not None and not spike_encoders:
            raise ProjectError([Problem("scenario.targets", "the project has no spike encoder "
                                        "to drive (current inputs carry no events)")])
        return spike_encoders
    encoders = {n.id for n in project.network.encoders}
    bad = [Problem(f"scenario.targets[{i}]", f"must be an encoder of the project "
                   f"({', '.join(sorted(encoders))}), got {t!r}")
           for i, t in enumerate(scenario.targets) if t not in encoders]
    if bad:
        raise ProjectError(bad)
    return list(scenario.targets)


def why_not_ratable(project: Project, scenarios: Sequence[Scenario] | None = None
                    ) -> str | None:
    """Why no scenario can be simulated on ``project`` (None when at least one can).

    Checked before anything is simulated, so the user reads one explanation with what to
    add instead of a failure per scenario.
    """
    scenarios = list(scenarios) if scenarios is not None else default_scenarios()
    if not scenarios:
        return "There are no scenarios to run: add one in the scenario definitions."
    if not project.network.populations:
        return ("The network has no neuron population, so there is no output to rate. Add a "
                "population (e.g. LIF) from the palette.")
    spike_encoders = [n.id for n in project.network.encoders if n.model in SPIKE_ENCODERS]
    reasons = []
    for scenario in scenarios:
        try:
            driven_encoders(project, scenario)
            output_population(project, scenario.output)
            return None
        except ProjectError as exc:
            reasons.append(f"{scenario.name}: {exc.problems[0].message}")
    if not spike_encoders:
        currents = [n.id for n in project.network.encoders if n.model not in SPIKE_ENCODERS]
        driven = (f" It is driven by current inputs only ({', '.join(currents)}), which carry "
                  f"no events." if currents else "")
        return ("This network cannot be rated: every scenario replaces the network's spike "
                "inputs with its own workload (frames, bursts, sparse events...), and the "
                f"network has no spike input encoder.{driven} Add a spike encoder (Poisson, "
                "regular, spike times, latency or delta coding) from the palette and connect "
                "it to the first population, then run the scenarios.")
    return "No scenario fits this network:\n" + "\n".join(reasons)


def encoder_override(spec: InputSpec, duration_ms: float, seed: int
                     ) -> tuple[str, dict[str, Any]]:
    """``(model, params)`` written to each driven encoder for ``spec`` over ``duration_ms``."""
    if spec.pattern == "custom":
        return spec.model, copy.deepcopy(spec.params)
    if spec.pattern == "constant":
        params: dict[str, Any] = {"rate_hz": float(spec.rate_hz), "start_ms": spec.start_ms}
        return spec.model, params
    starts = _pattern_starts(spec, duration_ms, seed)
    table: list[list[float]] = []
    for t in starts:
        table += [[float(t), float(spec.rate_hz)], [float(t + spec.on_ms), float(spec.off_rate_hz)]]
    # Before the first row the encoder's rate_hz holds: make that the background rate.
    return "poisson", {"rate_hz": float(spec.off_rate_hz), "rate_table": table,
                       "start_ms": spec.start_ms}


def _pattern_starts(spec: InputSpec, duration_ms: float, seed: int) -> np.ndarray:
    """Onsets of frames (regular) or bursts (exponential gaps, at least one burst long)."""
    if spec.pattern == "frames":
        starts = np.arange(spec.start_ms, duration_ms, spec.period_ms)
    else:
        rng = np.random.default_rng(seed)
        n = int(duration_ms / max(spec.period_ms, 1e-9)) * 3 + 3
        gaps = np.maximum(rng.exponential(spec.period_ms, n), spec.on_ms)
        starts = spec.start_ms + np.concatenate([[rng.uniform(0, spec.period_ms)],
                                                 gaps]).cumsum()
        starts = starts[starts < duration_ms]
    if len(starts) * 2 > _MAX_TABLE_ROWS:
        raise ProjectError([Problem("scenario.input.period_ms", f"{len(starts)} frames/bursts "
                                    f"in {duration_ms:g} ms is too many; raise period_ms")])
    return starts


def apply_scenario(project: Project, scenario: Scenario) -> Project:
    """A validated copy of ``project`` running under ``scenario`` (the input is not touched).

    The driven encoders get the scenario's model and parameters (their size, projections and
    label stay), the duration becomes ``scenario.duration_ms``, and the driven encoders and the
    output population are added to ``simulation.record_spikes`` when it is a list (latency is
    measured from their spikes).

    Raises
    ------
    ProjectError
        When a target or the output is not in the project, or the modified project is invalid
        (e.g. a custom encoder whose size rules do not fit the node).
    """
    targets = driven_encoders(project, scenario)
    output = output_population(project, scenario.output)
    document = project.to_dict()  # a deep copy: the caller's project is never mutated
    if scenario.input is not None:
        seed = _scenario_seed(project.simulation.seed, scenario.id)
        model, params = encoder_override(scenario.input, scenario.duration_ms, seed)
        for node in document["network"]["nodes"]:
            if node["id"] in targets:
                node["model"], node["params"] = model, copy.deepcopy(params)
    document["simulation"]["duration_ms"] = float(scenario.duration_ms)
    record = document["simulation"].get("record_spikes", "all")
    if isinstance(record, list):
        record += [n for n in [*targets, output] if n not in record]
    try:
        return Project.from_dict(document)
    except ProjectError as exc:
        raise ProjectError([Problem(f"scenario[{scenario.id}] -> {p.path}", p.message)
                            for p in exc.problems]) from None


def _scenario_seed(seed: int, scenario_id: str) -> int:
    # Stable across processes (unlike hash()): the same project + scenario gives the same bursts.
    return (int(seed) * 1_000_003 + zlib.crc32(scenario_id.encode())) % 2**32


# ============================================================================ measure
@dataclass(frozen=True)
class ScenarioProgress:
    """Progress of a batch, passed to the callback from worker threads."""

    scenario: str
    fraction: float           # of this scenario's run
    overall: float            # of the whole batch (equal weight per scenario)
    done: int
    total: int
    status: str               # running / completed / cancelled / failed


@dataclass
class ScenarioRun:
    """One scenario's simulation and measurements."""

    scenario: Scenario
    status: str
    error: str = ""
    result: Any = None                       # SimulationResult (kept for heatmaps)
    inputs: list[str] = field(default_factory=list)
    output: str = ""
    measurements: dict[str, Any] = field(default_factory=dict)
    energy: pd.DataFrame | None = None       # per profile
    ann: Any = None                          # engine.energy.model.AnnBaseline


@dataclass
class ScenarioReport:
    """Everything :func:`run_scenarios` measured.

    Attributes
    ----------
    runs
        Per scenario id, in the order given.
    profiles
        The hardware profiles used (energies per profile are in each run's ``energy``).
    """

    runs: dict[str, ScenarioRun]
    profiles: dict[str, E.HardwareProfile]
    _comparisons: dict[tuple[str, str, str], E.SnnAnnComparison] = field(
        default_factory=dict, repr=False)

    @property
    def completed(self) -> list[ScenarioRun]:
        """Runs that simulated their whole duration."""
        return [r for r in self.runs.values() if r.status == "completed"]

    def measurements(self) -> pd.DataFrame:
        """One row per scenario: status and the measured quantities."""
        rows = [{"scenario": r.scenario.id, "name": r.scenario.name, "status": r.status,
                 "error": r.error, **r.measurements} for r in self.runs.values()]
        return pd.DataFrame(rows)

    def energy(self) -> pd.DataFrame:
        """One row per (completed scenario, profile): SNN energy totals and mean power."""
        frames = [r.energy.assign(scenario=r.scenario.id) for r in self.completed
                  if r.energy is not None]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def comparison(self, scenario_id: str, snn_profile: str, ann_profile: str
                   ) -> E.SnnAnnComparison:
        """:func:`engine.energy.model.snn_vs_ann` of one scenario's run (cached)."""
        key = (scenario_id, snn_profile, ann_profile)
        if key not in self._comparisons:
            run = self.runs[scenario_id]
            res = run.result
            self._comparisons[key] = E.snn_vs_ann(
                res.counts, res.network_info, res.node_info, res.duration_ms, res.dt_ms,
                res.bin_ms, ann_profile=self.profiles[ann_profile],
                snn_profile=self.profiles[snn_profile], window_ms=run.scenario.window_ms)
        return self._comparisons[key]


def measure_latency(spikes: pd.DataFrame, inputs: Sequence[str], output: str,
                    window_ms: float, duration_ms: float, deadline_ms: float
                    ) -> dict[str, float]:
    """Latency from input to the first output spike.

    Returns
    -------
    dict
        ``first_input_ms`` (first spike of the driven encoders), ``first_output_ms`` (first
        output spike at or after it), ``latency_ms`` (their difference; NaN without an input
        or output spike), and per inference window with input: ``windows_with_input``,
        ``windows_answered`` (an output spike in the same window after its first input),
        ``median_window_latency_ms`` and ``deadline_met_fraction`` (answered within
        ``deadline_ms``, over windows with input).
    """
    pop = spikes["population"].astype(str)
    t_in = np.sort(spikes.loc[pop.isin(list(inputs)), "time_ms"].to_numpy(float))
    t_out = np.sort(spikes.loc[pop == output, "time_ms"].to_numpy(float))
    first_in = t_in[0] if len(t_in) else math.nan
    after = t_out[np.searchsorted(t_out, first_in):] if len(t_in) else t_out[:0]
    first_out = after[0] if len(after) else math.nan
    starts = np.arange(0.0, duration_ms, window_ms)
    lat = []
    for a in starts:
        w_in = t_in[(t_in >= a) & (t_in < a + window_ms)]
        if not len(w_in):
            continue
        w_out = t_out[(t_out >= w_in[0]) & (t_out < a + window_ms)]
        lat.append(w_out[0] - w_in[0] if len(w_out) else math.inf)
    lat_arr = np.asarray(lat, float)
    answered = lat_arr[np.isfinite(lat_arr)]
    return {"first_input_ms": float(first_in), "first_output_ms": float(first_out),
            "latency_ms": float(first_out - first_in),
            "windows_with_input": len(lat_arr), "windows_answered": len(answered),
            "median_window_latency_ms": float(np.median(answered)) if len(answered) else math.nan,
            "deadline_met_fraction": (float((lat_arr <= deadline_ms).mean()) if len(lat_arr)
                                      else math.nan)}


def measure_run(run: ScenarioRun, profiles: Mapping[str, E.HardwareProfile]) -> None:
    """Fill ``run.measurements``, ``run.energy`` and ``run.ann`` from ``run.result``."""
    res, sc = run.result, run.scenario
    counts = res.counts
    pops = counts[counts["kind"] == "population"]
    seconds = res.duration_ms * 1e-3
    n_neurons = float(res.node_info.loc[res.node_info["kind"] == "population", "size"].sum())
    inputs = counts[counts["node"].astype(str).isin(run.inputs)]
    run.measurements = {
        "duration_ms": res.duration_ms, "dt_ms": res.dt_ms, "window_ms": sc.window_ms,
        "n_inferences": res.duration_ms / sc.window_ms, "deadline_ms": sc.deadline_ms,
        "power_budget_w": sc.power_budget_w, "output": run.output,
        "activity_sparsity": E.activation_sparsity(counts),
        "mean_rate_hz": (float(pops["spikes"].sum()) / n_neurons / seconds
                         if n_neurons and seconds else math.nan),
        "input_events": int(inputs["spikes"].sum()),
        "output_spikes": int(counts.loc[counts["node"].astype(str) == run.output,
                                        "spikes"].sum()),
        **measure_latency(res.spikes, run.inputs, run.output, sc.window_ms, res.duration_ms,
                          sc.deadline_ms),
    }
    run.energy = _energy_table(res, profiles, run.measurements["n_inferences"])
    run.ann = E.ann_baseline(res.network_info, res.node_info, res.duration_ms, res.dt_ms,
                             window_ms=sc.window_ms, profiles=dict(profiles))


def _energy_table(res: Any, profiles: Mapping[str, E.HardwareProfile], n_inf: float
                  ) -> pd.DataFrame:
    rows = []
    seconds = res.duration_ms * 1e-3
    for pid, profile in profiles.items():
        totals = E.energy_totals(E.energy_of_result(res, profile))
        unpriced = E.unpriced_operations(res.counts, profile)
        rows.append({"profile": pid, "kind": profile.kind, "total_j": totals["total_j"],
                     "dynamic_j": totals["dynamic_j"], "static_j": totals["static_j"],
                     "event_driven_j": totals["event_driven_j"],
                     "neuron_idle_j": totals["neuron_idle_j"],
                     "idle_basis": E.idle_basis(profile, res.counts),
                     "per_inference_j": totals["total_j"] / n_inf if n_inf else math.nan,
                     "mean_power_w": totals["total_j"] / seconds if seconds else math.nan,
                     "unpriced": ", ".join(sorted(unpriced))})
    return pd.DataFrame(rows)


def run_scenarios(project: Project, scenarios: Sequence[Scenario],
                  profiles: Mapping[str, E.HardwareProfile] | None = None, *,
                  progress: Callable[[ScenarioProgress], None] | None = None,
                  cancel: threading.Event | None = None, max_workers: int = 2,
                  keep_results: bool = True,
                  simulate: Callable[..., Any] | None = None,
                  executor: Executor | None = None) -> ScenarioReport:
    """Simulate ``project`` under every scenario (in parallel) and measure each run.

    Parameters
    ----------
    project
        The user's network; never mutated (each scenario runs on :func:`apply_scenario`'s copy,
        with the project's seed, so the connectivity is the same in every scenario).
    scenarios
        Workloads to run (ids must be unique).
    profiles
        Hardware profiles to price the runs on (default: the built-in ones).
    progress
        Called from the worker threads with a :class:`ScenarioProgress`; a UI must hand it to
        its own event loop.
    cancel
        When set, running simulations stop at their next chunk and queued ones do not start;
        their runs have status ``cancelled``.
    max_workers
        Parallel simulations (threads: the numba kernel releases the GIL).
    keep_results
        Keep each run's ``SimulationResult`` (needed by :meth:`ScenarioReport.comparison`
        and for heatmaps of a scenario).
    simulate
        Runs one modified project, called as ``simulate(project, cancel=..., progress=...)``
        (default: :func:`engine.simulator.simulate` in this process; the workbench passes its
        worker pool's).
    executor
        Where the scenarios run (:func:`engine.executor.make_executor`); default: threads of
        this process, ``max_workers`` at a time. On worker processes or Dask each scenario
        runs with the engine's ``simulate`` in its worker: ``simulate`` is not used, progress
        comes per finished scenario and Stop drops the queued ones.

    Returns
    -------
    ScenarioReport
        With a :class:`ScenarioRun` per scenario: ``completed``, ``cancelled`` or ``failed``
        (``error`` says why; a failed scenario does not stop the others).
    """
    ids = [s.id for s in scenarios]
    if len(set(ids)) != len(ids):
        raise ProjectError([Problem("scenarios", "scenario ids must be unique")])
    profiles = dict(profiles if profiles is not None else E.load_profiles())
    cancel = cancel or threading.Event()
    tracker = _Tracker(ids, progress)

    own = executor is None
    executor = executor or make_executor(workers=max(1, int(max_workers)), in_process=True)
    here = executor.name == "threads"  # live progress, Stop and ``simulate`` reach the runs
    task = partial(_run_one, project, profiles=profiles, keep_results=keep_results,
                   tracker=tracker if here else None, cancel=cancel if here else None,
                   simulate=simulate if here else None)
    runs: dict[int, ScenarioRun] = {}
    try:
        for i, run in executor.map_unordered(task, scenarios, cancel=cancel):
            runs[i] = run
            tracker.finish(run.scenario.id, run.status)
    finally:
        if own:
            executor.close()
    for i, scenario in enumerate(scenarios):
        if i not in runs:  # dropped from the queue by Stop
            runs[i] = ScenarioRun(scenario, status="cancelled")
            tracker.finish(scenario.id, "cancelled")
    return ScenarioReport({scenarios[i].id: runs[i] for i in range(len(scenarios))}, profiles)


def _run_one(project: Project, scenario: Scenario, *, profiles: dict,
             tracker: _Tracker | None, cancel: threading.Event | None, keep_results: bool,
             simulate: Callable[..., Any] | None) -> ScenarioRun:
    """One scenario's run and measurements (an executor task: in a worker process
    ``tracker``, ``cancel`` and ``simulate`` are None)."""
    if simulate is None:
        # Deferred so that validating or rating scenarios never loads the numba kernels.
        from engine.simulator import simulate

    def stopped() -> bool:
        return cancel is not None and cancel.is_set()

    def moved(p: Any) -> None:
        if tracker is not None:
            tracker.update(scenario.id, p.fraction)

    run = ScenarioRun(scenario, status="cancelled")
    if stopped():
        return run
    try:
        modified = apply_scenario(project, scenario)
        run.inputs = driven_encoders(modified, scenario) or [
            n.id for n in modified.network.encoders]
        run.output = output_population(modified, scenario.output)
        result = simulate(modified, cancel=cancel, progress=moved)
        run.result = result
        run.status = "completed" if result.status == "completed" else result.status
        if run.status == "completed":
            measure_run(run, profiles)
        if not keep_results and run.status == "completed":
            run.result = _CountsOnly(result)
    except Exception as exc:  # noqa: BLE001 - one bad scenario must not sink the batch
        # Stopped while waiting for a worker is a cancellation, not a failure.
        run.status = "cancelled" if stopped() else "failed"
        run.error = str(exc)
    return run


class _CountsOnly:
    """What :meth:`ScenarioReport.comparison` needs when spikes were not kept."""

    def __init__(self, result: Any):
        for name in ("counts", "network_info", "node_info", "duration_ms", "dt_ms", "bin_ms"):
            setattr(self, name, getattr(result, name))


class _Tracker:
    """Thread-safe aggregation of per-scenario progress into one callback."""

    def __init__(self, ids: list[str], callback: Callable[[ScenarioProgress], None] | None):
        self._fraction = dict.fromkeys(ids, 0.0)
        self._done = 0
        self._lock = threading.Lock()
        self._callback = callback

    def update(self, sid: str, fraction: float, status: str = "running") -> None:
        with self._lock:
            self._fraction[sid] = fraction
            report = ScenarioProgress(sid, fraction, self._overall(), self._done,
                                      len(self._fraction), status)
        if self._callback is not None:
            self._callback(report)

    def finish(self, sid: str, status: str) -> None:
        with self._lock:
            self._done += 1
        self.update(sid, 1.0, status)

    def _overall(self) -> float:
        return sum(self._fraction.values()) / max(len(self._fraction), 1)


# ============================================================================ fit matrices
def _cell(run: ScenarioRun, column: str, label: str, value: float, unit: str, text: str,
          rating: str, reason: str) -> dict[str, Any]:
    return {"scenario": run.scenario.id, "scenario_name": run.scenario.name, "column": column,
            "column_label": label, "value": value, "unit": unit, "text": text,
            "rating": rating, "reason": reason}


def fit_matrices(report: ScenarioReport, thresholds: Thresholds | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rate every completed scenario against the thresholds.

    Returns
    -------
    (criteria, hardware)
        Long-format DataFrames with :data:`MATRIX_COLUMNS`: one row per cell, ``column`` a
        criterion of :data:`CRITERIA` or a profile id. ``value`` is the measured number (SI
        units), ``text`` its display form, ``rating`` in :data:`RATINGS`, ``reason`` why.
        Changing the thresholds only re-rates: nothing is simulated again.
    """
    t = thresholds or Thresholds()
    problems = validate_thresholds(t)
    for name in ("snn_profile", "ann_profile"):
        if getattr(t, name) not in report.profiles:
            problems.append(Problem(f"thresholds.{name}", f"unknown profile "
                                    f"{getattr(t, name)!r}; known: {', '.join(report.profiles)}"))
    if t.ann_profile in report.profiles and report.profiles[t.ann_profile].kind != "dense":
        problems.append(Problem("thresholds.ann_profile", f"{t.ann_profile!r} is not a dense "
                                                          "profile"))
    if problems:
        raise ProjectError(problems)
    criteria, hardware = [], []
    for run in report.completed:
        criteria += _criteria_cells(report, run, t)
        hardware += [_hardware_cell(report, run, pid, t) for pid in report.profiles]
    return (pd.DataFrame(criteria, columns=list(MATRIX_COLUMNS)),
            pd.DataFrame(hardware, columns=list(MATRIX_COLUMNS)))


def _criteria_cells(report: ScenarioReport, run: ScenarioRun, t: Thresholds) -> list[dict]:
    m = run.measurements
    comp = report.comparison(run.scenario.id, t.snn_profile, t.ann_profile)
    snn = run.energy.set_index("profile").loc[t.snn_profile]
    return [_sparsity_cell(run, m, t), _latency_cell(run, m, t),
            _snn_energy_cell(run, m, snn, t), _ann_energy_cell(run, m, comp, t),
            _ratio_cell(run, comp, t, CRITERIA["snn_ann_ratio"][0], "snn_ann_ratio")]


def _sparsity_cell(run: ScenarioRun, m: dict, t: Thresholds) -> dict:
    s = m["activity_sparsity"]
    basis = (f"{s:.4f} of neuron outputs are zero (NeuroBench activation sparsity at dt "
             f"{m['dt_ms']:g} ms; mean rate {m['mean_rate_hz']:.1f} Hz per neuron)")
    if not math.isfinite(s):
        rating, why = "neutral", "no population updates to measure"
    elif s >= t.sparsity_recommended:
        rating, why = "recommended", f"{basis} >= {t.sparsity_recommended:g}: event-driven " \
                                     "hardware skips most of the work"
    elif s < t.sparsity_cautious:
        rating, why = "cautious", f"{basis} < {t.sparsity_cautious:g}: dense activity erodes " \
                                  "the event-driven advantage"
    else:
        rating, why = "neutral", f"{basis}, between {t.sparsity_cautious:g} and " \
                                 f"{t.sparsity_recommended:g}"
    return _cell(run, "activity_sparsity", CRITERIA["activity_sparsity"][0], s, "",
                 f"{s:.4f}" if math.isfinite(s) else "n/a", rating, why)


def _latency_cell(run: ScenarioRun, m: dict, t: Thresholds) -> dict:
    lat, deadline = m["latency_ms"], m["deadline_ms"]
    windows = (f"; answered within the deadline in {m['deadline_met_fraction']:.0%} of "
               f"{m['windows_with_input']} windows with input"
               if m["windows_with_input"] else "")
    if not math.isfinite(m["first_input_ms"]):
        return _cell(run, "latency_ms", CRITERIA["latency_ms"][0], math.nan, "ms", "no input",
                     "cautious", "no input spike in the run: latency cannot be measured")
    if not math.isfinite(lat):
        return _cell(run, "latency_ms", CRITERIA["latency_ms"][0], math.nan, "ms",
                     "no output", "cautious", f"{run.output} never fired after the first "
                     f"input spike at {m['first_input_ms']:g} ms{windows}")
    basis = (f"first {run.output} spike {lat:g} ms after the first input spike "
             f"({m['first_input_ms']:g} ms); deadline {deadline:g} ms{windows}")
    if lat <= t.latency_margin * deadline:
        rating, why = "recommended", f"{basis}; within {t.latency_margin:g} x deadline"
    elif lat <= deadline:
        rating, why = "neutral", f"{basis}; meets the deadline with little margin"
    else:
        rating, why = "cautious", f"{basis}; misses the deadline"
    return _cell(run, "latency_ms", CRITERIA["latency_ms"][0], lat, "ms", f"{lat:.3g} ms",
                 rating, why)


def _power_rating(power: float, budget: float, t: Thresholds) -> tuple[str, str]:
    basis = f"mean power {format_si(power, 'W')} vs budget {format_si(budget, 'W')}"
    if power > budget:
        return "cautious", f"{basis}: over budget"
    if power <= t.power_margin * budget:
        return "recommended", f"{basis}: within {t.power_margin:g} x budget"
    return "neutral", f"{basis}: fits with little margin"


def _snn_energy_cell(run: ScenarioRun, m: dict, snn: pd.Series, t: Thresholds) -> dict:
    rating, why = _power_rating(snn["mean_power_w"], m["power_budget_w"], t)
    why = f"on {t.snn_profile}: {why}" + _unpriced_note(snn["unpriced"])
    if snn["unpriced"] and rating == "recommended":
        rating = "neutral"
    return _cell(run, "snn_energy_j", CRITERIA["snn_energy_j"][0], snn["per_inference_j"], "J",
                 format_si(snn["per_inference_j"], "J"), rating, why)


def _ann_energy_cell(run: ScenarioRun, m: dict, comp: E.SnnAnnComparison, t: Thresholds
                     ) -> dict:
    ann_j = comp.ann_memory_j
    power = ann_j * m["n_inferences"] / (m["duration_ms"] * 1e-3)
    basis = (f"dense ANN of the same architecture on {t.ann_profile}: {comp.dense_macs:,.0f} "
             f"MACs per {m['window_ms']:g} ms inference incl. weight reads, mean power "
             f"{format_si(power, 'W')} vs budget {format_si(m['power_budget_w'], 'W')}")
    if power > m["power_budget_w"]:
        rating, why = "recommended", f"{basis}: the ANN would exceed the budget"
    else:
        rating, why = "neutral", f"{basis}: the ANN fits the budget too"
    return _cell(run, "ann_energy_j", CRITERIA["ann_energy_j"][0], ann_j, "J",
                 format_si(ann_j, "J"), rating, why)


def _ratio_cell(run: ScenarioRun, comp: E.SnnAnnComparison, t: Thresholds, label: str,
                column: str, unpriced: str = "") -> dict:
    r = comp.ratio_memory
    basis = (f"SNN on {comp.snn_profile} {format_si(comp.snn_memory_j, 'J')} vs ANN on "
             f"{comp.ann_profile} {format_si(comp.ann_memory_j, 'J')} per inference "
             f"(memory-inclusive; arithmetic-only ratio {comp.ratio_literature:.3g})")
    if not math.isfinite(r):
        rating, why = "neutral", f"{basis}: the ANN costs nothing to compare with"
    elif r <= t.ratio_recommended:
        rating, why = "recommended", f"{basis}: ratio {r:.3g} <= {t.ratio_recommended:g}"
    elif r > t.ratio_cautious:
        rating, why = "cautious", f"{basis}: ratio {r:.3g} > {t.ratio_cautious:g}"
    else:
        rating, why = "neutral", f"{basis}: ratio {r:.3g}"
    return _cell(run, column, label, r, "x", f"{r:.3g}x" if math.isfinite(r) else "n/a",
                 rating, why)


def _hardware_cell(report: ScenarioReport, run: ScenarioRun, pid: str, t: Thresholds) -> dict:
    """SNN energy per inference on ``pid``; rated by power budget and SNN/ANN ratio."""
    profile = report.profiles[pid]
    row = run.energy.set_index("profile").loc[pid]
    ann = pid if profile.kind == "dense" else t.ann_profile
    comp = report.comparison(run.scenario.id, pid, ann)
    p_rating, p_why = _power_rating(row["mean_power_w"], run.measurements["power_budget_w"], t)
    r_cell = _ratio_cell(run, comp, t, "", "")
    order = {"cautious": 2, "neutral": 1, "recommended": 0}
    rating = max(p_rating, r_cell["rating"], key=order.__getitem__)
    if row["unpriced"] and rating == "recommended":
        rating = "neutral"  # a lower bound cannot recommend
    reason = (f"{profile.name}: {p_why}; {r_cell['reason']}" + _unpriced_note(row["unpriced"]))
    return _cell(run, pid, profile.name, row["per_inference_j"], "J",
                 format_si(row["per_inference_j"], "J"), rating, reason)


def _unpriced_note(unpriced: str) -> str:
    return f"; lower bound: {unpriced} not counted (no figure)" if unpriced else ""


def format_si(value: float, unit: str) -> str:
    """``2.3e-9, "J"`` -> ``"2.3 nJ"`` (three significant digits)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0:
        return f"0 {unit}"
    prefixes = [(1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"),
                (1e-15, "f"), (1e-18, "a")]
    for scale, prefix in prefixes:
        if abs(value) >= scale * 0.9995:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def matrix_wide(matrix: pd.DataFrame, what: str = "text") -> pd.DataFrame:
    """Scenarios x columns table of one field (``text``, ``value``, ``rating``, ``reason``)."""
    wide = matrix.pivot(index="scenario", columns="column", values=what)
    return wide.reindex(index=list(dict.fromkeys(matrix["scenario"])),
                        columns=list(dict.fromkeys(matrix["column"])))


# ============================================================================ CSV
def matrices_to_csv(criteria: pd.DataFrame, hardware: pd.DataFrame,
                    thresholds: Thresholds | None = None) -> str:
    """Both matrices as one long CSV (column ``matrix`` = ``criteria`` / ``hardware``).

    Floats are written with full precision, so :func:`matrices_from_csv` gives the same
    values back. The thresholds, when given, are written as ``#`` comment lines first.
    """
    frame = pd.concat([criteria.assign(matrix="criteria"), hardware.assign(matrix="hardware")],
                      ignore_index=True)[["matrix", *MATRIX_COLUMNS]]
    buffer = io.StringIO()
    if thresholds is not None:
        for key, value in thresholds.to_dict().items():
            buffer.write(f"# threshold {key}={value}\n")
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def matrices_from_csv(text: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inverse of :func:`matrices_to_csv` (comment lines are skipped)."""
    frame = pd.read_csv(io.StringIO(text), comment=None, skiprows=_comment_lines(text),
                        dtype={c: str for c in MATRIX_COLUMNS if c != "value"},
                        keep_default_na=False, na_values={"value": [""]})
    parts = []
    for name in ("criteria", "hardware"):
        part = frame[frame["matrix"] == name].drop(columns="matrix").reset_index(drop=True)
        part["value"] = part["value"].astype(float)
        parts.append(part[list(MATRIX_COLUMNS)])
    return parts[0], parts[1]


def _comment_lines(text: str) -> int:
    n = 0
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        n += 1
    return n


__all__ = [
    "CRITERIA", "InputSpec", "MATRIX_COLUMNS", "RATINGS", "Scenario", "ScenarioProgress",
    "ScenarioReport", "ScenarioRun", "Thresholds", "apply_scenario", "default_scenarios",
    "driven_encoders", "encoder_override", "fit_matrices", "format_si", "load_scenarios",
    "matrices_from_csv", "matrices_to_csv", "matrix_wide", "measure_latency", "measure_run",
    "output_population", "run_scenarios", "save_scenarios", "scenario_from_dict",
    "scenario_to_dict", "scenarios_from_document", "scenarios_to_document",
    "thresholds_from_dict", "validate_input", "validate_scenario", "validate_thresholds",
]
