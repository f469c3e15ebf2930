"""The Evaluation tab's data: what it may evaluate, its inputs parsed, and the plain tables its
plots draw, from an :class:`engine.evaluation.presentation_sweep.PresentationSweep`.

Pure functions (no Panel): the tab (:mod:`workbench.evaluation_tab`) calls them and hands the
tables to the widgets of :mod:`widgets.evaluation_plots`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from engine.energy import model as E
from engine.errors import SpikeStudioError
from engine.evaluation.ann_reference import AnnReference
from engine.evaluation.classify import dataset_node, output_population, project_samples
from engine.evaluation.datasets import Dataset, load_dataset
from engine.evaluation.presentation_sweep import PresentationPoint
from engine.evaluation.scenario_fit import format_si
from engine.project import Project

#: Dataset choices of the tab (value -> label).
DATASETS = {"digits": "Digits (held-out split, 1,000)", "project": "This project's samples",
            "upload": "Uploaded file (.csv / .npz)"}
DEFAULT_TIMES = "10, 20, 50, 100, 200"
NO_ENCODER = ("The Evaluation tab classifies a labelled dataset: it needs a dataset encoder "
              "(palette: Encoders, “Dataset (spikes)” or “Dataset (currents)”) feeding the "
              "first layer, and an output population with one neuron per class. Convert an "
              "ONNX classifier (spikestudio convert) or open the sample “Digits MLP "
              "(converted)” for a ready one.")


@dataclass(frozen=True)
class EvalSetup:
    """What the tab offers for a project: its dataset encoder, populations, default output,
    how many samples the project holds and whether the digits fit its input."""

    encoder: str
    populations: list[str]
    default_output: str
    own_samples: int
    input_size: int
    digits_fit: bool


def eval_setup(project: Project) -> EvalSetup:
    """The tab's choices for ``project``.

    Raises
    ------
    SpikeStudioError
        When the project has no (or more than one) dataset encoder: the message says what
        to add.
    """
    try:
        node = dataset_node(project)
    except SpikeStudioError as exc:
        if "no dataset encoder" in str(exc):
            raise SpikeStudioError(NO_ENCODER) from None
        raise
    pops = [n.id for n in project.network.populations]
    if not pops:
        raise SpikeStudioError("network: add the layers to classify with (populations fed "
                               "by the dataset encoder)")
    try:
        default = output_population(project)
    except SpikeStudioError:
        default = pops[-1]  # the last layer drawn, when no population is the only sink
    samples = len(node.resolved_params().get("samples") or [])
    return EvalSetup(encoder=node.id, populations=pops, default_output=default,
                     own_samples=samples, input_size=node.size, digits_fit=node.size == 64)


def parse_times(text: str) -> list[float]:
    """``"10, 20 50"`` -> ``[10.0, 20.0, 50.0]`` (commas or spaces between times in ms)."""
    items = [t for t in re.split(r"[,;\s]+", str(text or "").strip()) if t]
    if not items:
        raise SpikeStudioError("presentation times: give at least one time in ms, e.g. "
                               f"{DEFAULT_TIMES}")
    out = []
    for item in items:
        try:
            value = float(item.removesuffix("ms"))
        except ValueError:
            raise SpikeStudioError(f"presentation times: {item[:20]!r} is not a number of "
                                   f"ms") from None
        out.append(value)
    return out


def choose_dataset(kind: str, project: Project, upload: Dataset | None) -> Dataset:
    """The dataset the tab evaluates on: ``digits``, ``project`` (its own samples) or
    ``upload`` (the file uploaded last)."""
    if kind == "digits":
        return load_dataset("digits")
    if kind == "project":
        return project_samples(project)
    if kind == "upload":
        if upload is None:
            raise SpikeStudioError("dataset: upload a .csv or .npz file first")
        return upload
    raise SpikeStudioError(f"dataset: unknown choice {kind!r}")


def rates_frame(point: PresentationPoint, populations: list[str]) -> pd.DataFrame:
    """``population, rate_hz`` in network order (silent populations at 0 Hz)."""
    return pd.DataFrame({"population": populations,
                         "rate_hz": [point.rates_hz.get(p, 0.0) for p in populations]})


def energy_frame(point: PresentationPoint, ann: AnnReference | None,
                 profiles: Mapping[str, E.HardwareProfile]) -> pd.DataFrame:
    """Energy per inference, one row per (side, profile): the SNN on every profile, the ANN
    on the dense ones.

    Columns ``side, profile, label, total_j, part_j, total_text, part_text, basis``: for the
    SNN ``part_j`` is the event-driven energy (zero without input) and ``basis`` says how
    idle neuron updates are counted (per hardware step, per simulation step or not at all);
    for the ANN ``part_j`` is the arithmetic alone and ``basis`` how its MACs were counted.
    """
    def row(side: str, pid: str, total: float, part: float, part_text: str,
            basis: str) -> dict:
        profile = profiles.get(pid)
        return {"side": side, "profile": pid,
                "label": f"{side} · {profile.name if profile is not None else pid}",
                "total_j": total, "part_j": part, "total_text": format_si(total, "J"),
                "part_text": part_text, "basis": basis}

    rows = []
    for pid, e in point.report["energy_per_inference_j"].items():
        profile = profiles.get(pid)
        rest = e["total"] - e["event_driven"]
        rows.append(row("SNN", pid, e["total"], e["event_driven"],
                        f"event-driven {format_si(e['event_driven'], 'J')}, idle updates and "
                        f"static power {format_si(rest, 'J')}",
                        f"idle neuron updates {profile.time_step.label()}"
                        if profile is not None else ""))
    if ann is not None:
        macs = f"{ann.macs_per_inference:,.0f} MACs ({ann.macs_basis})"
        for pid, e in ann.energy_per_inference_j.items():
            rows.append(row("ANN", pid, e["total"], e["compute"],
                            f"arithmetic {format_si(e['compute'], 'J')}, memory "
                            f"{format_si(e['memory'], 'J')}", macs))
    return pd.DataFrame(rows, columns=["side", "profile", "label", "total_j", "part_j",
                                       "total_text", "part_text", "basis"])


def percent(value: float | None) -> str:
    """``0.975`` -> ``"97.5%"``; ``None`` -> ``"n/a"``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100.0 * value:.1f}%"
