"""Per-population firing statistics table (the output of ``population_summary``).

Tabulator's JS/CSS ship inside Panel (``panel/dist/bundled/datatabulator``) and ``panel serve``
serves them from the app's own origin; tests/test_plot_widgets.py checks no external URL is
referenced.
"""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

COLUMNS = ["population", "size", "spikes", "mean_rate_hz", "active_fraction", "cv_isi",
           "fano_factor"]

TITLES = {"population": "Population", "size": "Neurons", "spikes": "Spikes",
          "mean_rate_hz": "Rate (Hz)", "active_fraction": "Active", "cv_isi": "CV ISI",
          "fano_factor": "Fano"}

TOOLTIPS = {
    "mean_rate_hz": "Spikes per neuron per second, over the whole run.",
    "active_fraction": "Fraction of neurons that fired at least once.",
    "cv_isi": "std/mean of inter-spike intervals, per neuron with >= 3 spikes, averaged. "
              "0 = regular, ~1 = Poisson.",
    "fano_factor": "Variance/mean of spike counts in fixed windows, per active neuron, "
                   "averaged. ~0 = regular, ~1 = Poisson.",
}


class SummaryTable(pn.viewable.Viewer):
    """Read-only table of :func:`engine.spike_stats.population_summary`.

    The Tabulator is created with the first summary (before that a one-line hint is shown),
    so a page that never shows statistics does not pay for building it. Because it may appear
    after the page has loaded, load its extension up front: ``pn.extension("tabulator")``.

    Parameters
    ----------
    summary
        DataFrame with the columns of ``population_summary`` (missing ones are skipped) and
        optionally a boolean ``recorded`` column: populations whose spikes were not recorded
        show "not recorded" instead of 0 spikes and empty statistics.
    """

    summary = param.DataFrame(default=None, allow_None=True)

    def __init__(self, **params):
        super().__init__(**params)
        self._table: pn.widgets.Tabulator | None = None
        self._hint = pn.pane.HTML("<em>No statistics yet: run the simulation.</em>",
                                  css_classes=["ss-summary-empty"])
        self._holder = pn.Column(self._hint, sizing_mode="stretch_width")
        if self.summary is not None:
            self._update()

    def _frame(self) -> pd.DataFrame:
        frame = self.summary if self.summary is not None else pd.DataFrame(columns=COLUMNS)
        return summary_display(frame)

    @param.depends("summary", watch=True)
    def _update(self) -> None:
        if self.summary is None:  # cleared: say so rather than show an empty table
            self._holder[:] = [self._hint]
        elif self._table is None:
            self._holder[:] = [self.table]
        else:
            self._table.value = self._frame()
            self._holder[:] = [self._table]

    @property
    def table(self) -> pn.widgets.Tabulator:
        """The underlying Tabulator widget (created on first use)."""
        if self._table is None:
            self._table = pn.widgets.Tabulator(
                self._frame(), disabled=True, show_index=False, sortable=True,
                titles=TITLES, header_tooltips=TOOLTIPS, layout="fit_data_table",
                formatters=_formatters(), css_classes=["ss-summary-table"],
                sizing_mode="stretch_width")
        return self._table

    def __panel__(self):
        return self._holder


NOT_RECORDED = "not recorded"


def summary_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as shown: unrecorded populations say so, undefined statistics are blank.

    A population outside ``simulation.record_spikes`` has no spikes in the result; showing
    "0 spikes, NaN" would read as a silent population.
    """
    out = frame[[c for c in COLUMNS if c in frame.columns]].reset_index(drop=True)
    stats = [c for c in COLUMNS[2:] if c in out.columns]
    out[stats] = out[stats].astype(object).where(out[stats].notna(), None)
    if "recorded" in frame.columns:
        missing = ~frame["recorded"].to_numpy(dtype=bool)
        for c in stats:
            out.loc[missing, c] = NOT_RECORDED if c == "spikes" else None
    return out


def _formatters() -> dict:
    def number(precision: int) -> dict:
        return {"type": "money", "precision": precision, "thousand": ",", "symbol": ""}

    return {"size": number(0), "spikes": number(0), "mean_rate_hz": number(2),
            "active_fraction": {"type": "progress", "max": 1, "legend": True},
            "cv_isi": number(3), "fano_factor": number(3)}
