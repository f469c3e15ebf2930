"""Sweep rows summarised for a plot: a metric's mean and spread over seeds per point."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from engine.sweep.task import HEAD_COLUMNS, STATUS_COLUMNS, TAIL_COLUMNS


def metric_columns(frame: pd.DataFrame, fields: Sequence[str]) -> list[str]:
    """The numeric metric columns of sweep rows (not the head, fields, status or run ones)."""
    skip = {*HEAD_COLUMNS, *fields, *TAIL_COLUMNS, "status", "error"}
    return [c for c in frame.columns if c not in skip
            and pd.api.types.is_numeric_dtype(frame[c])] or [
        c for c in STATUS_COLUMNS if c in frame and c not in ("status", "error")]


def over_seeds(frame: pd.DataFrame, fields: Sequence[str], metric: str) -> pd.DataFrame:
    """Per point (each combination of the ``fields``' values): ``mean``, ``std`` (ddof 0;
    0 with one seed) and ``n`` of ``metric`` over the completed rows, NaN metrics left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``*fields, mean, std, n``, sorted by the fields' values.
    """
    columns = [*fields, "mean", "std", "n"]
    if frame.empty or metric not in frame:
        return pd.DataFrame(columns=columns)
    done = frame[(frame["status"] == "completed") & np.isfinite(
        pd.to_numeric(frame[metric], errors="coerce"))]
    if done.empty:
        return pd.DataFrame(columns=columns)
    grouped = done.groupby(list(fields), sort=True)[metric]
    out = grouped.agg(mean="mean", n="count").reset_index()
    out["std"] = grouped.std(ddof=0).to_numpy()
    return out[columns]
