"""The Compression section's data: the sweep its inputs describe, and the table its Pareto
plot and before/after table show, from :func:`engine.compression.evaluate_settings`' points.

Pure functions (no Panel); the section is :mod:`workbench.compression_section`.
"""

from __future__ import annotations

import itertools
import re

import pandas as pd

from engine.compression import (
    WEIGHT_BITS,
    CompressionPoint,
    CompressionSettings,
    pareto_front,
)
from engine.errors import SpikeStudioError
from engine.evaluation.scenario_fit import format_si

#: Most settings in one sweep (each is one simulation of the test samples, idle pruning one
#: more): enough for a front, few enough for a class server.
MAX_SETTINGS = 24
DEFAULT_BITS = "8, 4, 2"
DEFAULT_PRUNE = "0.5, 0.8"


def _items(text: str) -> list[str]:
    return [t for t in re.split(r"[,;\s]+", str(text or "").strip()) if t]


def parse_bits(text: str) -> list[int]:
    """``"8, 4 2"`` -> ``[8, 4, 2]``: weight precisions in bits (empty: none)."""
    out = []
    for item in _items(text):
        try:
            bits = int(item)
        except ValueError:
            raise SpikeStudioError(f"weight bits: {item[:20]!r} is not a whole number") \
                from None
        if bits not in WEIGHT_BITS:
            raise SpikeStudioError(f"weight bits: {bits} is not in {WEIGHT_BITS[0]}.."
                                   f"{WEIGHT_BITS[-1]}")
        if bits not in out:
            out.append(bits)
    return out


def parse_fractions(text: str) -> list[float]:
    """``"0.5, 80%"`` -> ``[0.5, 0.8]``: pruning fractions in [0, 1) (empty: none)."""
    out = []
    for item in _items(text):
        try:
            value = float(item[:-1]) / 100.0 if item.endswith("%") else float(item)
        except ValueError:
            raise SpikeStudioError(f"prune fractions: {item[:20]!r} is not a number") from None
        if not 0.0 < value < 1.0:
            raise SpikeStudioError(f"prune fractions: {item} is not in (0, 1) (0.5 removes "
                                   f"half of each projection's synapses)")
        if value not in out:
            out.append(value)
    return out


def sweep_settings(bits: list[int], fractions: list[float],
                   idle: bool) -> list[CompressionSettings]:
    """Every combination of a precision (or none), a pruning fraction (or none) and idle
    pruning (when ``idle``: with and without), except leaving everything as it is (the
    baseline, which the sweep measures first anyway).

    Raises
    ------
    SpikeStudioError
        Nothing to try, or more than :data:`MAX_SETTINGS` combinations.
    """
    combos = [CompressionSettings(weight_bits=b, prune=f, prune_idle=i)
              for b, f, i in itertools.product([None, *bits], [0.0, *fractions],
                                               [False, True] if idle else [False])]
    combos = [c for c in combos if not c.is_identity]
    if not combos:
        raise SpikeStudioError("compression sweep: give weight bits, prune fractions or idle "
                               "pruning")
    if len(combos) > MAX_SETTINGS:
        raise SpikeStudioError(f"compression sweep: {len(combos)} combinations, at most "
                               f"{MAX_SETTINGS}; give fewer bits or fractions")
    return combos


def points_frame(points: list[CompressionPoint], profile: str) -> pd.DataFrame:
    """One row per point (the baseline first), priced on ``profile``.

    Columns ``label, accuracy, synaptic_events, energy_j, size_bytes, neurons, synapses,
    on_front, baseline, energy_text, size_text``.
    """
    front = set(pareto_front(points, profile)) if points else set()
    rows = [{"label": p.label, "accuracy": p.accuracy,
             "synaptic_events": p.synaptic_events_per_inference,
             "energy_j": p.energy_per_inference_j.get(profile, float("nan")),
             "size_bytes": p.size_bytes, "neurons": p.neurons, "synapses": p.synapses,
             "on_front": i in front, "baseline": i == 0,
             "energy_text": format_si(p.energy_per_inference_j.get(profile, float("nan")),
                                      "J"),
             "size_text": f"{p.size_bytes:,} bytes"} for i, p in enumerate(points)]
    return pd.DataFrame(rows, columns=["label", "accuracy", "synaptic_events", "energy_j",
                                       "size_bytes", "neurons", "synapses", "on_front",
                                       "baseline", "energy_text", "size_text"])
