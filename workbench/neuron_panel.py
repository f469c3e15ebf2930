"""The neuron panel beside the raster: one neuron of the shown run, and how to find neurons.

Clicking a raster row (or a spike) selects a neuron; the panel then shows its firing
statistics and ISI histogram at once (from the run's spikes) and asks a simulation worker
to record it again (:func:`engine.analysis.neuron_probe.probe_neuron`, through
:func:`workbench.runner.probe`): its membrane and input currents, its synapses in and out,
the spikes that reached it and the spike-triggered average of its input. The re-run waits in
a thread ("recording..."), is cached per neuron for the shown result and forgotten with it.
A neuron a state monitor recorded with its currents needs no re-run for its traces (only its
synapses are looked up).

The ranking control lists the first ``N`` neurons of a population by first spike, rate, CV
or burstiness (:func:`engine.analysis.neuron_stats.rank_neurons`); clicking one selects it in the
raster like a click on its row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import panel as pn

from engine.analysis.neuron_probe import NeuronProbe, arrived_spikes, synapse_summary
from engine.analysis.neuron_stats import (
    RANKINGS,
    input_current,
    isi_histogram,
    rank_neurons,
    spike_triggered_average,
)
from engine.core.results import SimulationResult, TraceRecord
from engine.errors import SpikeStudioError
from engine.spike_stats import spike_train_burstiness, spike_train_cv
from widgets.neuron_plots import NeuronPlots
from widgets.session_thread import held, run_in_session
from workbench.style import hint_html, html_pane, text_html

log = logging.getLogger(__name__)

#: Probes kept per result, and the most memory their traces may hold (a 100 s run's neuron
#: is about 30 MB): older neurons are recorded again when shown again.
CACHE_SIZE = 8
CACHE_BYTES = 64 * 2**20
#: Window of the spike-triggered average.
STA_WINDOW_MS = 20.0
#: Spike times listed in the header.
LISTED_SPIKES = 20
#: The variables a monitor must have recorded for its traces to be used without a re-run.
NEEDED = ("v", "i_exc", "i_inh")

RANK_LABELS = {"first spike": "first_spike", "rate": "rate", "CV of ISI": "cv",
               "burstiness": "burstiness"}

Prober = Callable[..., NeuronProbe]


def _num(x: float, digits: int = 3) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


class NeuronPanel(pn.viewable.Viewer):
    """One neuron of the shown run, beside the raster.

    Parameters
    ----------
    x_range
        The raster's time range (the trace plots share it).
    probe
        ``probe(document, population, neuron, duration_ms, variables=..., cancel=...)`` ->
        :class:`~engine.analysis.neuron_probe.NeuronProbe`, blocking (default
        :func:`workbench.runner.probe`: in a simulation worker).
    width
        Width of the panel (px).

    Notes
    -----
    ``on_pick(population, neuron, time_ms)`` is called when a neuron is chosen here (ranking
    entry, typed index; ``time_ms`` its first spike when ranked by it, else None); the owner
    selects it in the raster, which calls :meth:`show_neuron`.
    """

    def __init__(self, x_range=None, probe: Prober | None = None, width: int = 440):
        super().__init__()
        self._probe = probe
        self.on_pick: Callable[[str, int, float | None], None] | None = None
        self.result: SimulationResult | None = None
        self.document: dict | None = None
        self.sizes: dict[str, int] = {}
        self.shown: tuple[str, int] | None = None
        self.timing: dict[str, float] = {}  # of the last probe: wall seconds, click -> plot
        self._cache: OrderedDict[tuple[str, int], NeuronProbe] = OrderedDict()
        self._token: object | None = None
        self._cancel: threading.Event | None = None
        self.population = pn.widgets.Select(label="Population", options=[], width=150,
                                            css_classes=["ss-pick-population"])
        self.index = pn.widgets.IntInput(label="Neuron index", value=0, start=0, width=110,
                                         css_classes=["ss-pick-neuron"])
        self.show_button = pn.widgets.Button(label="Show neuron", width=110, align="end",
                                             css_classes=["ss-pick-show"])
        self.show_button.on_click(lambda e: self._pick_typed())
        self.rank_by = pn.widgets.Select(label="Rank by", options=RANK_LABELS, width=150,
                                         css_classes=["ss-rank-by"])
        self.rank_top = pn.widgets.IntInput(label="Top", value=9, start=1, end=60, width=80,
                                            css_classes=["ss-rank-top"])
        self._rank_buttons: list[pn.widgets.Button] = []
        # id(button) -> (population, neuron, time) the ranking's button shows
        self._rank_targets: dict[int, tuple[str, int, float | None]] = {}
        self.ranking = pn.FlexBox(flex_wrap="wrap", css_classes=["ss-ranking"],
                                  sizing_mode="stretch_width", margin=0)
        for widget in (self.population, self.rank_by, self.rank_top):
            widget.param.watch(lambda e: self._rank(), "value")
        self.header = html_pane(self._hint(), css_classes=["ss-neuron"])
        self.note = html_pane("")
        self.plots = NeuronPlots(x_range, width=width - 20)
        self.tables = html_pane("")
        self._layout = pn.Column(
            pn.Row(self.population, self.index, self.show_button, margin=0),
            pn.Row(self.rank_by, self.rank_top, margin=0), self.ranking,
            self.header, self.note, self.plots, self.tables,
            width=width, height=660, scroll=True, css_classes=["ss-neuron-panel"])

    def __panel__(self):
        return self._layout

    # ------------------------------------------------------------------ result
    def set_result(self, result: SimulationResult, document: dict | None,
                   sizes: dict[str, int]) -> None:
        """A new result is shown: its spiking nodes (``sizes``) and the document it ran."""
        self.result, self.document, self.sizes = result, document, dict(sizes)
        self._forget()
        options = list(sizes)
        if self.population.options != options:
            self.population.options = options
        self._rank()
        if self.shown is not None and self.shown[0] in sizes:
            self.show_neuron(*self.shown)  # the same neuron in the new result
        else:
            self._show_hint()

    def clear(self) -> None:
        """Forget the result (the project was replaced)."""
        self.result = self.document = None
        self.sizes = {}
        self.shown = None
        self._forget()
        self.population.options = []
        self.ranking.objects = []
        self._show_hint()

    def _forget(self) -> None:
        self._cache.clear()
        self._token = None
        if self._cancel is not None:
            self._cancel.set()
            self._cancel = None

    def _show_hint(self, text: str | None = None) -> None:
        self.header.object = text or self._hint()
        self.note.object = self.tables.object = ""
        self.plots.clear()

    def run_going_on(self) -> None:
        """A new run is drawn live: the panel waits for it (the spikes it would analyse are
        the new run's, and its result is not there yet)."""
        if self.result is None:
            return
        # The population list and the ranking's buttons stay: the next result usually has
        # the same populations, and rebuilding those widgets at every run made the browser
        # build their views again (the buttons are relabelled when the result arrives).
        self.result = self.document = None
        self._forget()
        self._show_hint('<p class="ss-hint" data-testid="neuron-detail">The run is going on: '
                        'pause it, or wait for it to finish, to look at a neuron.</p>')

    @staticmethod
    def _hint() -> str:
        return hint_html("Click a spike or a row of the raster, or pick a neuron here, to see "
                         "its membrane, input currents, incoming spikes and ISIs.")

    # ------------------------------------------------------------------ choosing
    def _pick(self, population: str, neuron: int, time_ms: float | None = None) -> None:
        if self.on_pick is not None:
            self.on_pick(population, neuron, time_ms)
        else:
            self.show_neuron(population, neuron)

    def _pick_typed(self) -> None:
        pop, n = self.population.value, self.index.value
        size = self.sizes.get(pop, 0) if pop is not None else 0
        if n is None or not 0 <= n < size:
            self.header.object = (f'<p class="ss-hint" data-testid="neuron-detail">Neuron '
                                  f'index must be in [0, {max(size - 1, 0)}] for '
                                  f'{text_html(str(pop))}.</p>')
            return
        self._pick(pop, int(n))

    def _rank(self) -> None:
        """The ranking list of the chosen population."""
        pop, r = self.population.value, self.result
        if r is None or pop is None or pop not in self.sizes:
            self.ranking.objects = []
            return
        by = self.rank_by.value
        ranked = rank_neurons(r, pop, by, top=int(self.rank_top.value or 1))
        digits, unit = {"first_spike": (4, " ms"), "rate": (3, " Hz")}.get(by, (3, ""))
        entries = []
        for k, row in enumerate(ranked.itertuples()):
            at = float(row.first_spike_ms) if by == "first_spike" else None
            entries.append((f"{k + 1}. [{row.neuron}] {_num(row.value, digits)}{unit}",
                            f"{pop}[{row.neuron}]: {RANKINGS[by][2]} {_num(row.value, 6)}",
                            (pop, int(row.neuron), at)))
        if not entries:
            self.ranking.objects = [html_pane(hint_html(f"No neuron of {text_html(pop)} has a "
                                                        f"{text_html(RANKINGS[by][2])}."))]
            return
        buttons = [self._rank_button(k) for k in range(len(entries))]
        for button, (label, description, target) in zip(buttons, entries, strict=True):
            self._rank_targets[id(button)] = target
            button.param.update(label=label, description=description)
        if self.ranking.objects != buttons:
            self.ranking.objects = buttons

    def _rank_button(self, k: int) -> pn.widgets.Button:
        """The ranking's k-th button, made once and relabelled for each ranking (a new
        button is a new view for the browser to build)."""
        while len(self._rank_buttons) <= k:
            button = pn.widgets.Button(label="", color="light", width=128, height=30,
                                       margin=(2, 2), css_classes=["ss-rank-entry"])
            button.on_click(lambda e, b=button: self._pick(*self._rank_targets[id(b)]))
            self._rank_buttons.append(button)
        return self._rank_buttons[k]

    # ------------------------------------------------------------------ one neuron
    def show_neuron(self, population: str, neuron: int) -> None:
        """Show one neuron: statistics now, traces and synapses once recorded."""
        # One patch for the browser (widgets.session_thread explains why).
        with held(pn.state.curdoc):
            self._show_neuron(population, neuron)

    def _show_neuron(self, population: str, neuron: int) -> None:
        r = self.result
        if r is None or population not in r.sizes:
            return
        clicked = time.perf_counter()
        self.shown = (population, int(neuron))
        if self.population.value != population and population in self.sizes:
            self.population.value = population
        self.index.value = int(neuron)
        times = r.neuron_spike_times(population, neuron)
        self.header.object = self._header_html(population, neuron, times)
        self.plots.set_isi(*isi_histogram(times))
        key = (population, int(neuron))
        recorded = self._recorded(population, neuron)
        self._show_traces(recorded, times)
        if key in self._cache:
            self._cache.move_to_end(key)
            self._apply(self._cache[key], times)
            return
        self.plots.set_incoming(None)
        self.tables.object = ""
        if self.document is None:
            self._note("error", "The project this run came from is not known: cannot record "
                                "the neuron again.")
            return
        encoder = r.node_info.set_index("node")["kind"].get(population) != "population"
        self._note("recording", "Recording this neuron's synapses…" if recorded or encoder
                   else "Recording… (the run is repeated in a simulation worker with a "
                        "monitor on this neuron: same seed, exactly the same dynamics)")
        self._start_probe(key, [] if recorded is not None else None, clicked)

    def _recorded(self, population: str, neuron: int) -> tuple[TraceRecord, int] | None:
        """A monitor's record of this neuron with its membrane and currents, if any."""
        for rec in self.result.traces.values():
            if rec.population == population and set(NEEDED) <= set(rec.values):
                hit = np.flatnonzero(rec.neurons == int(neuron))
                if len(hit):
                    return rec, int(hit[0])
        return None

    def _start_probe(self, key: tuple[str, int], variables: list | None,
                     clicked: float) -> None:
        if self._cancel is not None:
            self._cancel.set()  # the neuron shown before: its probe is not wanted now
        token, cancel = object(), threading.Event()
        self._token, self._cancel = token, cancel
        result, document, doc = self.result, self.document, pn.state.curdoc
        prober = self._probe or _runner_probe

        def fetch() -> None:
            t0 = time.perf_counter()
            probe, error = None, None
            try:
                probe = prober(document, key[0], key[1], result.duration_ms,
                               variables=variables, cancel=cancel)
            except SpikeStudioError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - the user sees a message, the log the rest
                log.exception("recording a neuron failed")
                error = f"Internal error while recording the neuron ({type(exc).__name__})."
            wall = time.perf_counter() - t0
            try:
                run_in_session(doc, lambda: self._arrived(token, result, key, probe, error,
                                                          clicked, wall))
            except RuntimeError:  # the session is gone
                pass

        threading.Thread(target=fetch, daemon=True, name="spikestudio-neuron-probe").start()

    def _arrived(self, token: object, result: SimulationResult, key: tuple[str, int],
                 probe: NeuronProbe | None, error: str | None, clicked: float,
                 wall: float) -> None:
        if result is not self.result:
            return  # another run is shown now
        if probe is not None:
            self._cache[key] = probe
            while len(self._cache) > 1 and (len(self._cache) > CACHE_SIZE
                                            or _cached_bytes(self._cache) > CACHE_BYTES):
                self._cache.popitem(last=False)
        if token is not self._token or key != self.shown:
            return  # the user moved on (it is cached for when they come back)
        self._token = self._cancel = None
        if probe is None:
            self._note("error", f"Could not record this neuron: {error}")
            return
        self._apply(probe, result.neuron_spike_times(*key))
        self.timing = {"probe_s": wall, "click_to_plot_s": time.perf_counter() - clicked}
        log.info("neuron %s[%d] recorded in %.2f s (%.2f s from the click)", key[0], key[1],
                 wall, self.timing["click_to_plot_s"])

    def _apply(self, probe: NeuronProbe, times: np.ndarray) -> None:
        """Traces, incoming spikes and tables of a probe."""
        r = self.result
        recorded = self._recorded(probe.population, probe.neuron)
        if probe.traces is not None:
            self._show_traces((probe.traces, 0), times)
        elif recorded is None:
            self._show_traces(None, times)
        arrivals = arrived_spikes(probe.incoming, r.spikes, r.duration_ms, r.dt_ms)
        self.plots.set_incoming(arrivals, probe.incoming)
        self.tables.object = self._tables_html(probe, arrivals)
        if probe.traces is not None:
            self._note("recorded", f"Recorded again in {probe.wall_s:.2f} s: every step of "
                                   f"this neuron, exactly as a monitor would have.")
        elif recorded is not None:
            self._note("monitor", f"Traces from the state monitor {recorded[0].monitor!r}.")
        else:
            self._note("encoder", "An input encoder has no membrane: its spikes and "
                                  "outgoing synapses only.")

    def _show_traces(self, found: tuple[TraceRecord, int] | None, times: np.ndarray) -> None:
        if found is None:
            self.plots.set_traces(None, {}, times)
            self.plots.set_sta(np.empty(0), np.empty(0), 0)
            return
        rec, col = found
        values = {v: rec.values[v][:, col] for v in ("v", "i_exc", "i_inh") if v in rec.values}
        net = input_current(rec, col)
        if net is not None:
            values["net"] = net
        self.plots.set_traces(rec.time_ms, values, times, rec.units.get("i_exc", ""))
        if net is not None and len(rec.time_ms) > 1:
            step = float(rec.time_ms[1] - rec.time_ms[0])
            self.plots.set_sta(*spike_triggered_average(net, times, STA_WINDOW_MS, step,
                                                        float(rec.time_ms[0])))

    # ------------------------------------------------------------------ text
    def _note(self, state: str, text: str) -> None:
        self.note.object = (f'<div class="ss-neuron-note" data-testid="neuron-trace-status" '
                            f'data-state="{text_html(state)}">{text_html(text)}</div>')

    def _header_html(self, population: str, neuron: int, times: np.ndarray) -> str:
        r = self.result
        rate = len(times) / max(r.duration_ms, 1e-9) * 1000.0
        listed = ", ".join(f"{t:g}" for t in times[:LISTED_SPIKES])
        more = " …" if len(times) > LISTED_SPIKES else ""
        first = f"{times[0]:g} ms" if len(times) else "–"
        return (f'<div data-testid="neuron-detail" class="ss-neuron-head" '
                f'data-population="{text_html(population)}" data-neuron="{int(neuron)}" '
                f'data-spikes="{len(times)}"><h4>{text_html(population)}[{int(neuron)}]</h4>'
                f'<p><b>{len(times)} spikes</b> · {rate:.2f} Hz · CV of ISI '
                f'{_num(spike_train_cv(times))} · burstiness '
                f'{_num(spike_train_burstiness(times))} · first spike {first}</p>'
                f'<p class="ss-hint">Spike times (ms): {listed or "none"}{more}</p></div>')

    @staticmethod
    def _tables_html(probe: NeuronProbe, arrivals) -> str:
        when = (f"at the end of the run (t = {probe.duration_ms:g} ms: plastic weights "
                f"as learned)" if bool(probe.incoming["plastic"].any()
                                       or probe.outgoing["plastic"].any()) else "")
        parts = [f'<div class="ss-neuron-tables"><h5>Incoming synapses {text_html(when)}</h5>']
        incoming = synapse_summary(probe.incoming, arrivals)
        parts.append(_table(incoming, "source", "neuron-incoming", "spikes arrived"))
        if len(probe.currents):
            rows = "".join(f"<li>{text_html(c.source)} ({text_html(c.projections)}): gain "
                           f"{_num(c.gain)}{'' if c.channel < 0 else f', channel {c.channel}'}"
                           f"</li>" for c in probe.currents.itertuples())
            parts.append(f'<p>Current inputs:</p><ul data-testid="neuron-currents">{rows}</ul>')
        parts.append("<h5>Outgoing synapses</h5>")
        parts.append(_table(synapse_summary(probe.outgoing), "target", "neuron-outgoing"))
        return "".join(parts) + "</div>"


def _table(summary, end: str, testid: str, count: str | None = None) -> str:
    """An HTML table of :func:`engine.analysis.neuron_probe.synapse_summary` rows (text escaped)."""
    if summary.empty:
        return f'<p class="ss-hint" data-testid="{testid}">none</p>'
    head = ("<tr><th>projection</th><th>" + ("from" if end == "source" else "to")
            + "</th><th>synapses</th><th>weight mean [min, max]</th><th>delay (ms)</th>"
            + (f"<th>{count}</th>" if count else "") + "</tr>")
    rows = []
    for row in summary.itertuples():
        delay = (_num(row.delay_min_ms) if row.delay_min_ms == row.delay_max_ms
                 else f"{_num(row.delay_min_ms)}–{_num(row.delay_max_ms)}")
        plastic = " (plastic)" if row.plastic else ""
        rows.append(
            f"<tr><td>{text_html(row.projection)}{plastic}</td>"
            f"<td>{text_html(getattr(row, end))} ({text_html(row.receptor)})</td>"
            f"<td>{row.synapses}</td><td>{_num(row.weight_mean)} [{_num(row.weight_min)}, "
            f"{_num(row.weight_max)}]</td><td>{delay}</td>"
            + (f"<td>{row.spikes}</td>" if count else "") + "</tr>")
    return (f'<table class="ss-neuron-table" data-testid="{testid}">{head}{"".join(rows)}'
            f'</table>')


def _cached_bytes(cache: OrderedDict) -> int:
    return sum(sum(v.nbytes for v in p.traces.values.values()) + p.traces.time_ms.nbytes
               for p in cache.values() if p.traces is not None)


def _runner_probe(*args: Any, **kwargs: Any) -> NeuronProbe:
    from workbench import runner  # the pool starts with the first probe, not on import

    return runner.probe(*args, **kwargs)
