"""Stepping: run a :class:`~engine.simulator.Simulation` forward in chunks of model time.

The whole time loop runs inside the numba kernel (:func:`engine.core.kernels.run_chunk`); Python
only runs between chunks to report progress, honour a cancel or pause request and the limits,
set piecewise-constant input currents, fetch the input spikes of the next chunk and take
weight snapshots. Chunk lengths adapt so each kernel call takes about ``chunk_wall_s``
seconds: long enough to amortise the call, short enough that Stop acts within a fraction of a
second.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable

import numpy as np

from engine.core import kernels
from engine.core.assembly import HIST_BINS
from engine.core.build import MAX_CHUNK_EVENTS, CompiledNetwork
from engine.core.limits import RECORD_RATE_HZ, StopCheck
from engine.core.progress import Progress
from engine.core.threads import kernel_threads
from engine.encoders import BLOCK_STEPS, BlockSpikeSource

#: Called between chunks with the run's progress.
ProgressCallback = Callable[[Progress], None]
#: A cancel or pause request: an Event, or a callable that returns True when set.
CancelCheck = threading.Event | Callable[[], bool] | None


def rss_bytes() -> int | None:
    """Resident memory of this process (None where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _split_points(c: CompiledNetwork) -> np.ndarray:
    """Time indices where a chunk must end: current changes and weight snapshots."""
    points = [c.n_steps + 1]
    for schedule in c.current_sources.values():
        points.extend((schedule.change_k + 1).tolist())
    for rec in c.weight_records:
        points.extend(range(1, c.n_steps + 2, rec["every"]))
    points.extend(c.reset_k.tolist())
    points = np.unique(np.asarray(points, np.int64))
    return points[(points > 0) & (points <= c.n_steps + 1)]


def events_per_step(c: CompiledNetwork) -> int:
    """Input events per time index on average over a block (bursts of fixed sources
    are bounded by their totals, which the memory estimate holds anyway)."""
    rate = 0.0
    for source in c.spike_sources.values():
        if isinstance(source, BlockSpikeSource):
            rate += source.block_events_bound() / BLOCK_STEPS
        else:
            rate += len(source.k) / max(1, c.n_steps)
    return int(math.ceil(rate))


def _events(c: CompiledNetwork, k_lo: int, k_hi: int,
            stop: StopCheck | None = None) -> tuple[np.ndarray, np.ndarray]:
    ks, gids = [], []
    for node, source in c.spike_sources.items():
        if stop is not None and stop.status() is not None:
            break  # the caller sees the stop request before using these events
        if isinstance(source, BlockSpikeSource) and stop is not None:
            k, n = source.events(k_lo, k_hi, lambda: stop.status() is not None)
        else:
            k, n = source.events(k_lo, k_hi)
        ks.append(k)
        gids.append(n.astype(np.int32) + np.int32(c.node_start[node]))
    if not ks:
        return np.empty(0, np.int64), np.empty(0, np.int32)
    k = np.concatenate(ks)
    order = np.argsort(k, kind="stable")
    return k[order], np.concatenate(gids)[order]


def max_chunk_steps(c: CompiledNetwork) -> int:
    """Most steps of one kernel call: chunks are shortened so that one call fetches a
    bounded number of input events."""
    return int(min(1_000_000, max(1, MAX_CHUNK_EVENTS // max(1, events_per_step(c)))))


class Stepping:
    """The chunked time loop of :class:`engine.core.simulation.Simulation` (a mixin: it runs on
    the run's state arrays, which Simulation allocates)."""

    def _advance(self, end: int, progress: ProgressCallback | None, stop: StopCheck,
                 chunk_wall_s: float, pause: StopCheck | None = None) -> None:
        """Run time indices ``self.k .. end`` (inclusive) in chunks; set status and hit."""
        c = self.net
        start = time.perf_counter()
        budget = c.memory.budget_mb * 1024 * 1024
        if self._rss0 is None:
            self._rss0 = rss_bytes()
        rss0 = self._rss0
        splits = _split_points(c)
        # The kernel of several threads only where it splits the neurons (its first call
        # compiles it when `spikestudio warm` did not).
        split = kernels.thread_parts(self.threads, c.n_neurons) > 1
        kernel = kernels.run_chunk_threaded if split else kernels.run_chunk
        chunk = 100
        k = self.k
        status = "completed"
        messages: list[str] = []
        self.hit = None
        try:
            while k <= end:
                if pause is not None and pause.status() is not None:
                    status = "paused"
                    break
                halt = stop.status()
                if halt is not None:
                    status = halt
                    if halt == "time_limit":
                        messages.append(f"Stopped at {max(k - 1, 0) * c.dt_ms:g} ms: "
                                        f"{stop.reason(halt)}.")
                    break
                rss = rss_bytes()
                if rss is not None and rss0 is not None and rss - rss0 > budget:
                    status = "memory_limit"
                    messages.append(
                        f"Stopped at {max(k - 1, 0) * c.dt_ms:g} ms: the run used "
                        f"{(rss - rss0) / 2**20:,.0f} MB, more than {c.memory.budget_source}. "
                        f"Record fewer neurons or less often, or simulate less time.")
                    break
                boundary = int(splits[np.searchsorted(splits, k, side="right")])
                stop_k = min(k + min(chunk, self.max_chunk_steps), boundary, end + 1)
                if k in self._resets:
                    self._reset_state()
                self._set_currents(max(k, 1))
                ev_k, ev_gid = _events(c, k, stop_k, stop)
                if stop.status() is not None:
                    continue  # reported at the top of the loop
                tick = time.perf_counter()
                k_next = k
                ev_ptr = 0
                while k_next < stop_k:
                    with kernel_threads(self.threads if split else 1):
                        code, k_next, ev_ptr, bad = kernel(
                            k_next, stop_k, *self.kernel_data(), ev_k, ev_gid, ev_ptr)
                    if code == kernels.INVALID_STATE:
                        self.invalid = True
                        self.hit = self.breaks.invalid_hit(int(k_next), int(bad))
                        break
                    if code == kernels.BREAKPOINT:
                        self.hit, self.breaks = self.breaks.hit(int(k_next), self.syn_weight)
                        break
                    if code == kernels.SPIKE_BUFFER_FULL:
                        if not self._make_room(int(k_next), len(ev_k) - int(ev_ptr)):
                            status = "memory_limit"
                            messages.append(self._record_full(int(k_next)))
                            break
                k = int(k_next)
                if self.invalid:
                    break
                self._snapshot_weights(k)
                if status != "completed" or self.hit is not None:
                    break
                elapsed = time.perf_counter() - tick
                # Aim each call at chunk_wall_s; grow at most 4x per chunk to stay responsive.
                scale = chunk_wall_s / elapsed if elapsed > 1e-4 else 4.0
                chunk = int(min(max(chunk * min(scale, 4.0), 10), 1_000_000))
                if progress is not None:
                    progress(Progress(t_ms=max(k - 1, 0) * c.dt_ms,
                                      duration_ms=c.n_steps * c.dt_ms,
                                      elapsed_s=time.perf_counter() - start,
                                      spikes=int(self.n_spk[0])))
        except MemoryError:
            status = "memory_limit"
            messages.append(f"Stopped at {max(k - 1, 0) * c.dt_ms:g} ms: this machine could not "
                            f"allocate more memory (the budget is {c.memory.budget_source}). "
                            f"Record fewer neurons, use fewer input events or a shorter run.")
        self.k = k
        self.status, self.messages = status, messages
        self.wall_s += time.perf_counter() - start

    def _make_room(self, k: int, events_left: int) -> bool:
        """After SPIKE_BUFFER_FULL: make room for one more step, or say the record is full.

        The kernel wants room for every neuron and every input event of the step. The record
        never grows past its capacity; only an input burst above the estimated bound (a
        6-sigma Poisson draw) can need a larger scratch or a little more headroom.
        """
        c = self.net
        n_spk = int(self.n_spk[0])
        if n_spk >= self.record_capacity and n_spk > 0:  # (nothing recorded: capacity 0)
            return False
        want = c.n_neurons + events_left
        if self.spk_now.shape[0] < want:
            self.spk_now = np.empty(want, np.int32)
        if n_spk + want > self.spk_k.shape[0]:
            for name in ("spk_k", "spk_gid"):
                old = getattr(self, name)
                grown = np.empty(n_spk + want, old.dtype)
                grown[:n_spk] = old[:n_spk]
                setattr(self, name, grown)
        return True

    def _set_currents(self, k: int) -> None:
        """External input for steps k.. (the value held over the interval (k-1, k])."""
        c = self.net
        self.iext[:] = c.bias
        for row, node in enumerate(c.current_nodes):
            amplitude = c.current_sources[node].value_at(k - 1)
            if node in c.current_channels:
                channel, target, weight = c.current_channels[node]
                if np.any(amplitude):
                    self.iext += np.bincount(target, weights=amplitude[channel] * weight,
                                             minlength=self.iext.shape[0])
            elif amplitude:
                self.iext += amplitude * c.current_gain[row]

    def _reset_state(self) -> None:
        """A new dataset sample: every neuron back to its initial state, nothing in flight."""
        c = self.net
        self.v[:] = c.initial_v
        self.u[:] = c.initial_u
        for state in (self.ie, self.ii, self.ref, self.buf_e, self.buf_i):
            state[...] = 0

    def _record_full(self, k: int) -> str:
        c = self.net
        worst = c.memory.record_worst
        return (f"Stopped at {max(k - 1, 0) * c.dt_ms:g} ms: the spike record is full "
                f"({self.record_capacity:,} spikes; these neurons could fire up to {worst:,} "
                f"times). The network fires faster than a mean of {RECORD_RATE_HZ:g} Hz per "
                f"recorded neuron: record fewer populations (simulation.record_spikes), "
                f"simulate less time, or check for runaway activity.")

    def _snapshot_weights(self, k_next: int) -> None:
        """Keep weights after step k_next - 1 when that is a snapshot time."""
        c = self.net
        k_done = k_next - 1
        for rec in c.weight_records:
            if k_done >= 0 and k_done % rec["every"] == 0:
                times = self.snap_times[rec["projection"]]
                if times and times[-1] == k_done:
                    continue
                times.append(k_done)
                weights = self.syn_weight[rec["lo"]:rec["hi"]]
                edges = self.hist_edges[rec["projection"]]
                mean, std, counts = kernels.weight_stats(weights, edges[0], edges[-1],
                                                         HIST_BINS)
                self.snap_stats[rec["projection"]].append((float(mean), float(std), counts))
                if rec["full"]:
                    self.snaps[rec["projection"]].append(weights.copy())

    # ------------------------------------------------------------------ breakpoints
