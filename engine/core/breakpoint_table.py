"""A run's breakpoints as the kernel checks them, and what a hit means.

:class:`BreakpointTable` turns the conditions of :mod:`engine.core.breakpoints` into the
:class:`~engine.core.kernel_data.Watch` arrays the kernel checks at the end of every step, reads
the hit the kernel reports back into a :class:`~engine.core.breakpoints.BreakpointHit`, and removes
one-shot conditions once they fired.
"""

from __future__ import annotations

import numpy as np

from engine.core import kernels
from engine.core.breakpoints import Breakpoint, BreakpointHit
from engine.core.build import CompiledNetwork
from engine.core.kernel_data import Watch
from engine.errors import SpikeStudioError

#: Watch fields that hold a run's progress through its conditions (a checkpoint keeps them;
#: the others follow from the conditions).
PROGRESS_FIELDS = ("rate_ring", "rate_sum", "rate_from", "node_now", "wb_seen", "hit")


class BreakpointTable:
    """The conditions that pause a run, and their kernel arrays (:attr:`arrays`).

    Parameters
    ----------
    net
        The compiled network the conditions refer to.
    breakpoints
        The conditions (:class:`Breakpoint` or their dicts).
    k
        The run's next time index: a rate condition's window starts filling here (it is
        checked once a whole window has been simulated from here).

    Raises
    ------
    SpikeStudioError
        For an unknown population, projection or neuron, naming the field.
    """

    def __init__(self, net: CompiledNetwork, breakpoints: list[Breakpoint | dict], k: int):
        self.net = net
        bps = [b if isinstance(b, Breakpoint) else Breakpoint.from_dict(b, f"breakpoints[{i}]")
               for i, b in enumerate(breakpoints)]
        c = net
        n, dt = c.n_neurons, c.dt_ms
        watch = np.zeros(n if any(b.kind == "spike" for b in bps) else 0, np.uint8)
        rates, weights = [], []
        for i, b in enumerate(bps):
            where = f"breakpoints[{i}]"
            if b.kind == "weight_range":
                if b.projection not in c.proj_ids:
                    raise SpikeStudioError(f"{where}.projection: no projection {b.projection!r}")
                if not b.w_min <= b.w_max:
                    raise SpikeStudioError(f"{where}.w_max: must be >= w_min ({b.w_min:g})")
                weights.append(b)
                continue
            if b.population not in c.node_ids:
                raise SpikeStudioError(f"{where}.population: no population or encoder "
                                       f"{b.population!r}")
            node = c.node_ids.index(b.population)
            size = int(c.node_start[node + 1] - c.node_start[node])
            if b.kind == "spike":
                if not 0 <= b.neuron < size:
                    raise SpikeStudioError(f"{where}.neuron: {b.population!r} has neurons 0 to "
                                           f"{size - 1}, got {b.neuron}")
                watch[int(c.node_start[node]) + b.neuron] = 1
            else:
                if not b.window_ms >= dt:
                    raise SpikeStudioError(f"{where}.window_ms: must be at least dt "
                                           f"({dt:g} ms), got {b.window_ms:g}")
                rates.append((b, node, size))
        #: The conditions, in the order given.
        self.breakpoints = bps
        self._rate_bps = [r[0] for r in rates]
        self._weight_bps = weights
        windows = [max(1, int(round(b.window_ms / dt))) for b, _, _ in rates]
        #: What the kernel checks (changed in place by the kernel).
        self.arrays = Watch(
            watch=watch,
            rate_node=np.array([node for _, node, _ in rates], np.int64),
            rate_window=np.array(windows, np.int64),
            rate_from=np.array([k + w - 1 for w in windows], np.int64),
            # Typed explicitly: a whole-number rate ("above 50 Hz") would otherwise make an
            # int64 array, another kernel signature, and a second compile of the kernel.
            rate_scale=np.array([1000.0 / (size * w * dt) for (_, _, size), w
                                 in zip(rates, windows, strict=True)], np.float64),
            rate_above=np.array([b.rate_hz if b.kind == "rate_above" else np.inf
                                 for b, _, _ in rates], np.float64),
            rate_below=np.array([b.rate_hz if b.kind == "rate_below" else -np.inf
                                 for b, _, _ in rates], np.float64),
            rate_ring=np.zeros((len(rates), max(windows, default=1)), np.int64),
            rate_sum=np.zeros(len(rates), np.int64),
            node_now=np.zeros(len(c.node_ids), np.int64),
            wb_proj=np.array([c.proj_ids.index(b.projection) for b in weights], np.int64),
            wb_lo=np.array([b.w_min for b in weights], np.float64),
            wb_hi=np.array([b.w_max for b in weights], np.float64),
            wb_seen=np.zeros(len(weights), np.int64),
            hit=np.zeros(3, np.int64),
        )

    def where(self, gid: int) -> tuple[str, int]:
        """(population, neuron) of global neuron ``gid``."""
        node = int(self.net.node_of[gid])
        return self.net.node_ids[node], gid - int(self.net.node_start[node])

    def hit(self, k_next: int, syn_weight: np.ndarray
            ) -> tuple[BreakpointHit, BreakpointTable]:
        """The hit the kernel reported after step ``k_next - 1``, and the table to go on with:
        this one, or for a one-shot rate or weight condition a table without it (spike
        conditions stay set: continuing runs to the next such spike)."""
        c = self.net
        kind, j, what = (int(x) for x in self.arrays.hit)
        t = (k_next - 1) * c.dt_ms
        if kind == kernels.HIT_SPIKE:
            pop, neuron = self.where(what)
            bp = next(b for b in self.breakpoints if b.kind == "spike"
                      and b.population == pop and b.neuron == neuron)
            return BreakpointHit("spike", t, pop, neuron, f"Paused at t = {t:g} ms: neuron "
                                 f"{neuron} of {pop!r} spiked.", bp.to_dict()), self
        if kind == kernels.HIT_RATE:
            bp = self._rate_bps[j]
            rate = float(self.arrays.rate_sum[j] * self.arrays.rate_scale[j])
            return BreakpointHit(bp.kind, t, bp.population, 0,
                                 f"Paused at t = {t:g} ms: {bp.describe()} ({rate:.4g} Hz).",
                                 bp.to_dict(), value=rate), self._without(bp, k_next)
        bp = self._weight_bps[j]
        p = c.proj_ids.index(bp.projection)
        rows = c.rowptr[c.proj_row_off[p]:c.proj_row_off[p]
                        + int(c.node_start[c.proj_src[p] + 1] - c.node_start[c.proj_src[p]]) + 1]
        pre = int(np.searchsorted(rows, what, side="right")) - 1
        post = int(c.syn_post[what])
        w = float(syn_weight[what])
        target = c.node_ids[int(c.proj_tgt[p])]
        return BreakpointHit("weight_range", t, target, post,
                             f"Paused at t = {t:g} ms: {bp.describe()}: synapse {pre} -> {post} "
                             f"has weight {w:.6g}.", bp.to_dict(), synapse=(pre, post),
                             value=w), self._without(bp, k_next)

    def _without(self, bp: Breakpoint, k: int) -> BreakpointTable:
        """This table without ``bp``; the other rate windows go on where they are."""
        table = BreakpointTable(self.net, [b for b in self.breakpoints if b is not bp], k)
        table._keep_windows_of(self)
        return table

    def _keep_windows_of(self, old: BreakpointTable) -> None:
        """Continue the rate windows of the conditions this table shares with ``old``."""
        rows = {id(b): i for i, b in enumerate(old._rate_bps)}
        for i, b in enumerate(self._rate_bps):
            if id(b) not in rows:
                continue
            j = rows[id(b)]
            ring = old.arrays.rate_ring[j]
            self.arrays.rate_ring[i, :ring.shape[0]] = ring[:self.arrays.rate_ring.shape[1]]
            self.arrays.rate_sum[i] = old.arrays.rate_sum[j]
            self.arrays.rate_from[i] = old.arrays.rate_from[j]

    def invalid_hit(self, k: int, gid: int) -> BreakpointHit:
        """A NaN/inf state in step k (half done: the run cannot go on)."""
        pop, neuron = self.where(gid)
        t = k * self.net.dt_ms
        return BreakpointHit(
            "invalid_state", t, pop, neuron,
            f"Stopped at t = {t:g} ms: neuron {neuron} of {pop!r} reached an invalid (NaN or "
            f"infinite) membrane potential. Check its input weights and currents, or use a "
            f"smaller dt.")
