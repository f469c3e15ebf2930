"""Plain tables of a run's energy on one hardware profile, for views (no Panel, no Bokeh).

:func:`energy_table` prices ``SimulationResult.counts`` with :mod:`engine.energy.model` and returns
everything an energy view draws: the per-bin breakdown with its operation counts, the
per-layer totals, the run totals and the operations the profile cannot price. Views only
arrange and colour these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.energy.model import (
    HardwareProfile,
    energy_breakdown,
    energy_totals,
    idle_basis,
    unpriced_operations,
)

#: Operation counts attached to each breakdown row.
OPERATION_COLUMNS = ("spikes", "neuron_updates", "active_updates", "syn_events",
                     "plasticity_updates")


@dataclass(frozen=True)
class EnergyTable:
    """A run priced on one profile.

    Attributes
    ----------
    profile, name
        Profile id and display name.
    breakdown
        :func:`engine.energy.model.energy_breakdown` (one row per node and bin) plus the bin's
        :data:`OPERATION_COLUMNS` and ``neuron_j`` (active plus idle neuron updates).
    layers
        Per node, in network order: ``kind``, ``size``, the energy columns and ``neuron_j``.
    totals
        ``total_j, dynamic_j, static_j, event_driven_j, neuron_idle_j`` of the whole run.
    unpriced
        Operations that happened but the profile has no figure for (``{figure: count}``):
        totals are then lower bounds.
    idle_basis
        What idle neuron updates are counted per on this profile in this run
        (:func:`engine.energy.model.idle_basis`, e.g. "per 1 ms hardware step"); empty when
        unknown (a table built from a breakdown alone).
    """

    profile: str
    name: str
    breakdown: pd.DataFrame
    layers: pd.DataFrame
    totals: dict[str, float]
    unpriced: dict[str, int] = field(default_factory=dict)
    idle_basis: str = ""


def energy_table(counts: pd.DataFrame, profile: HardwareProfile, bin_ms: float,
                 duration_ms: float | None = None) -> EnergyTable:
    """Price a run's operation ``counts`` on ``profile`` (see :class:`EnergyTable`)."""
    breakdown = energy_breakdown(counts, profile, bin_ms, duration_ms)
    return table_from_breakdown(breakdown, profile.id, profile.name, counts, bin_ms,
                                unpriced_operations(counts, profile),
                                idle_basis(profile, counts))


def table_from_breakdown(breakdown: pd.DataFrame, profile: str, name: str | None = None,
                         counts: pd.DataFrame | None = None, bin_ms: float = 1.0,
                         unpriced: dict[str, int] | None = None, idle_basis: str = ""
                         ) -> EnergyTable:
    """An :class:`EnergyTable` of an already priced breakdown (counts are zero without
    ``counts``)."""
    frame = _with_counts(breakdown, counts, bin_ms)
    frame["neuron_j"] = frame["neuron_active_j"] + frame["neuron_idle_j"]
    layers = energy_totals(breakdown, by="node")
    layers.index = layers.index.astype(str)
    layers["neuron_j"] = layers["neuron_active_j"] + layers["neuron_idle_j"]
    sums = energy_totals(breakdown)
    totals = {k: float(sums[k]) for k in ("total_j", "dynamic_j", "static_j",
                                          "event_driven_j", "neuron_idle_j")}
    return EnergyTable(profile, name or profile, frame, layers, totals, dict(unpriced or {}),
                       idle_basis)


def _with_counts(frame: pd.DataFrame, counts: pd.DataFrame | None, bin_ms: float
                 ) -> pd.DataFrame:
    """Attach the operation counts of each (bin, node) row (the breakdown drops them)."""
    key = np.rint(frame["bin_start_ms"].to_numpy(float) / bin_ms).astype(np.int64)
    frame = frame.assign(_bin=key, layer=frame["node"].astype(str))
    if counts is None:
        return frame.assign(**dict.fromkeys(OPERATION_COLUMNS, 0)).drop(columns="_bin")
    summed = (counts.assign(_bin=np.rint(counts["bin_start_ms"].to_numpy(float) / bin_ms)
                            .astype(np.int64), layer=counts["node"].astype(str))
              .groupby(["_bin", "layer"])[list(OPERATION_COLUMNS)].sum().reset_index())
    merged = frame.merge(summed, on=["_bin", "layer"], how="left")
    merged[list(OPERATION_COLUMNS)] = merged[list(OPERATION_COLUMNS)].fillna(0).astype(np.int64)
    return merged.drop(columns="_bin")




__all__ = ["OPERATION_COLUMNS", "EnergyTable", "energy_table", "table_from_breakdown"]
