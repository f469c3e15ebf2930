"""The worker process that runs simulations for the server: ``python -m workbench.workers FD``.

The server never simulates: each run is sent to one of a few long-lived worker processes
(:mod:`workbench.runner` starts and supervises them). A worker loads and warms the numba kernels
once, then runs one project at a time under operating-system limits, so a run that exhausts
its memory, crashes or hangs takes down only itself.

Protocol over the duplex connection ``FD`` (pickled tuples; both ends are our own code):

server -> worker
    ``("run", document, limits)``: simulate the project document (a JSON-able dict) with
    ``limits`` = ``{"max_memory_mb": float | None, "max_wall_s": float | None}``; with
    ``limits["probe"]`` = ``{"population", "neuron", "duration_ms", "variables"}``
    record that neuron again instead (the result is an
    :class:`engine.analysis.neuron_probe.NeuronProbe`);
    ``("cancel",)``: stop the current run at its next chunk (ignored when idle);
    ``("pause",)``: pause the current run at its next chunk (``limits["debug"]`` runs);
    ``None``: exit.

    ``limits`` may also hold ``store_dir``, ``keep_spikes_mb`` and ``live_max_spikes``
    (:func:`workbench.runner.result_transport`): a result (or paused result) whose spikes
    take more than ``keep_spikes_mb`` has them written to a
    :class:`~engine.core.spike_store.SpikeStore` under ``store_dir`` and is sent without them
    (its ``spike_store`` says where they are), so the server never holds them whole; live
    spikes stop after ``live_max_spikes`` (then ``("live_capped",)`` is sent once).

    A run whose ``limits`` hold ``"debug": {"breakpoints": [...], "checkpoint": path,
    "resume": None | {"ms", "breakpoints", "live_from"}}`` is an
    :class:`engine.simulator.Simulation` that can pause: at a breakpoint or a pause request
    the worker saves it to ``path`` (:func:`engine.core.checkpoint.save_checkpoint`), sends
    ``("paused", result, message)`` and is free for the next job (no ``done`` follows). A
    Continue or Step is a new ``run`` of the same document with ``resume`` set: the worker
    restores the run from ``path`` and continues it for ``resume["ms"]`` and pauses again (a
    step; it may go past the duration), or with ``ms`` None to the end of its duration, with
    new breakpoints (None: keep them); live spikes are sent from record index
    ``resume["live_from"]`` on (the ones the server already has).
worker -> server
    ``("ready", warm_s)`` once the kernels are loaded; for each run ``("started", pid)``, then
    ``("progress", t_ms, duration_ms, elapsed_s, spikes)`` a few times a second,
    with ``debug["live"]`` also ``("live", time_ms, node, neuron, node_ids)``: the spikes
    recorded since the last such message (arrays; ``node`` indexes ``node_ids``),
    ``("stopping",)`` when it has seen a cancel request, ``("finishing",)`` once the
    simulation returned, and ``("done", result, error)`` with a
    :class:`~engine.core.results.SimulationResult` (or ``None``) and a message for the user (or
    ``None``).
"""

from __future__ import annotations

import ctypes
import inspect
import logging
import os
import signal
import sys
import time
import traceback
import uuid
from multiprocessing.connection import Connection
from typing import Any

# The OS caps are engine-generic (the sweep executors apply them too); re-exported here.
from engine.executor.caps import (  # noqa: F401
    SLACK_MB,
    memory_limit_message,
    restore_memory_limit,
    set_memory_limit,
    trim_heap,
    vm_size_bytes,
)

log = logging.getLogger("spikestudio.worker")

#: Seconds between two progress messages (the page polls about 7 times a second).
PROGRESS_EVERY_S = 0.2
#: Scheduling priority below the server's, so pages stay responsive while every core simulates.
NICENESS = 5


# ---------------------------------------------------------------------------- OS limits
def _die_with_parent() -> None:
    """Linux: get SIGKILL when the server process exits, so no worker outlives it."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_trim_heap = trim_heap


# ---------------------------------------------------------------------------- one run
class _Channel:
    """The worker's end: throttled progress and cancel requests read between chunks."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.cancelled = False
        self.paused = False
        self._last = 0.0

    def _read(self, message: Any) -> Any:
        if message is None:
            raise SystemExit(0)
        if message[0] == "cancel" and not self.cancelled:
            self.cancelled = True
            self.conn.send(("stopping",))  # the server need not replace us
        elif message[0] == "pause":
            self.paused = True
        return message

    def cancel_requested(self) -> bool:
        while not self.cancelled and self.conn.poll():
            self._read(self.conn.recv())
        return self.cancelled

    def pause_requested(self) -> bool:
        self.cancel_requested()
        return self.paused

    def progress(self, p: Any) -> bool:
        """Send progress when the last was long enough ago; True when it was sent."""
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.conn.send(("progress", p.t_ms, p.duration_ms, p.elapsed_s, p.spikes))
            return True
        return False


def _simulate_kwargs(simulate: Any, limits: dict) -> dict:
    """``limits=RunLimits(...)`` when this engine's simulate() enforces limits itself."""
    try:
        accepted = "limits" in inspect.signature(simulate).parameters
    except (TypeError, ValueError):
        accepted = False
    if not accepted:
        return {}
    from engine.core.limits import RunLimits

    return {"limits": RunLimits(max_memory_mb=limits.get("max_memory_mb"),
                                max_wall_s=limits.get("max_wall_s"),
                                max_threads=limits.get("max_threads", 1))}


def run_job(channel: _Channel, document: Any, limits: dict) -> tuple[Any, str | None]:
    """Validate, build and simulate ``document``; returns (result or None, message or None)."""
    from engine.core.limits import RunLimits, effective_memory_mb
    from engine.errors import SimulationError, SpikeStudioError
    from engine.project import Project
    from engine.simulator import simulate

    try:
        # The server validated this very document (one validation per change); anything it
        # did not mark as checked is validated here.
        project = (Project.from_checked(document) if limits.get("checked")
                   else Project.from_dict(document))
    except SpikeStudioError as exc:
        return None, str(exc)
    # The OS limit is the run's memory budget: the project's, lowered to the server's cap.
    cap_mb = effective_memory_mb(project.simulation.memory_budget_mb,
                                 RunLimits(max_memory_mb=limits.get("max_memory_mb")))
    old = set_memory_limit(cap_mb)
    try:
        if limits.get("probe") is not None:
            return run_probe(channel, project, limits)
        if limits.get("debug") is not None:
            return run_paused(channel, project, limits)
        result = simulate(project, progress=channel.progress, cancel=channel.cancel_requested,
                          **_simulate_kwargs(simulate, limits))
        return result, None
    except SimulationError as exc:
        return getattr(exc, "partial_result", None), str(exc)
    except SpikeStudioError as exc:
        return None, str(exc)
    except MemoryError:
        return None, memory_limit_message(cap_mb)
    except Exception as exc:  # noqa: BLE001 - the user sees a message, the log the traceback
        log.error("simulation failed:\n%s", traceback.format_exc())
        return None, (f"Internal error while simulating ({type(exc).__name__}: {exc}). "
                      f"The server log has the details.")
    finally:
        restore_memory_limit(old)


def run_probe(channel: _Channel, project: Any, limits: dict) -> tuple[Any, str | None]:
    """Record one neuron of a run again (``limits["probe"]``): a NeuronProbe, or a message."""
    from engine.analysis.neuron_probe import probe_neuron
    from engine.core.limits import RunLimits

    request = limits["probe"]
    probe = probe_neuron(project, request["population"], int(request["neuron"]),
                         request.get("variables"), duration_ms=request.get("duration_ms"),
                         limits=RunLimits(max_memory_mb=limits.get("max_memory_mb"),
                                          max_wall_s=limits.get("max_wall_s"),
                                          max_threads=limits.get("max_threads", 1)),
                         cancel=channel.cancel_requested, progress=channel.progress)
    if probe.status == "completed":
        return probe, None
    if probe.status == "cancelled":
        return None, "Recording the neuron was cancelled."
    return None, (" ".join(probe.messages)
                  or f"Recording the neuron stopped early ({probe.status}).")


#: What :func:`run_paused` returns for a run it saved to its checkpoint (no ``done`` is sent).
RELEASED = object()


def run_paused(channel: _Channel, project: Any, limits: dict) -> tuple[Any, str | None]:
    """A run that can pause, step and continue (see the module docstring).

    Returns ``(RELEASED, None)`` once the run paused and was saved to its checkpoint.
    """
    from engine.core.checkpoint import load_checkpoint, save_checkpoint
    from engine.core.limits import RunLimits, RunStopped, StopCheck
    from engine.errors import MemoryBudgetError
    from engine.simulator import Simulation, unbuilt_result

    debug = limits["debug"]
    resume = debug.get("resume")
    run_limits = RunLimits(max_memory_mb=limits.get("max_memory_mb"),
                           max_wall_s=limits.get("max_wall_s"),
                           max_threads=limits.get("max_threads", 1))
    t0 = time.perf_counter()
    stop = StopCheck(channel.cancel_requested, run_limits.max_wall_s, t0)
    try:
        if resume is not None:
            sim = load_checkpoint(debug["checkpoint"], limits=run_limits, stop=stop)
        else:
            sim = Simulation(project, limits=run_limits, stop=stop)
            sim.set_breakpoints(debug.get("breakpoints") or [])
    except RunStopped as exc:
        if resume is not None:  # (the server still shows what it had when it paused)
            return None, f"The paused run was stopped while it was being restored: {exc}"
        return unbuilt_result(project, exc.status, str(exc), time.perf_counter() - t0), None
    # spikes of the record already sent to live views (by this worker or an earlier one)
    live_from = 0 if resume is None else int(resume["live_from"])
    live_max = limits.get("live_max_spikes")  # None: no cap
    live_capped = False

    def progress(p: Any) -> None:
        nonlocal live_from, live_capped
        if not (channel.progress(p) and debug.get("live")) or live_capped:
            return
        t, node, neuron = sim.new_spikes(live_from)
        if live_max is not None and live_from + len(t) > live_max:
            # The server keeps live spikes in memory: past the session's share, stop.
            live_capped = True
            channel.conn.send(("live_capped",))
            return
        live_from += len(t)
        channel.conn.send(("live", t, node, neuron, sim.net.node_ids))

    end_ms = project.simulation.duration_ms
    ms = end_ms
    stepping = False  # a Continue for given ms (a step) pauses again after it; may go past
    if resume is not None:
        stepping = resume["ms"] is not None
        ms = resume["ms"] if stepping else max(0.0, end_ms - sim.t_ms)
        if resume["breakpoints"] is not None:
            sim.set_breakpoints(resume["breakpoints"])
    notes = []
    if sim.net.memory.budget_mb < project.simulation.memory_budget_mb:
        notes.append(f"Memory budget: {sim.net.memory.budget_source}.")
    message = None
    try:
        result = sim.run_for(ms, progress=progress, cancel=channel.cancel_requested,
                             pause=channel.pause_requested)
    except MemoryBudgetError as exc:  # continuing that far would not fit: stay paused
        result, message = sim.result(), str(exc)
        result.status = "paused"
    result.messages[:0] = notes
    if stepping and result.status == "completed":  # a step pauses again when done
        result.status = "paused"
    if channel.cancelled or sim.invalid or result.status != "paused":
        return result, (sim.hit.message if sim.invalid else None)
    # Paused: the run goes to disk and this worker to the next job; any worker continues it.
    try:
        save_checkpoint(sim, debug["checkpoint"])
    except OSError as exc:  # a full disk, say: the run ends with what it has
        result.status, result.breakpoint = "cancelled", None
        return result, f"The paused run could not be saved to continue it later ({exc})."
    channel.conn.send(("paused", spill_if_large(result, limits, f"pause-{uuid.uuid4().hex[:8]}"),
                       message))
    return RELEASED, None


def spill_if_large(result: Any, limits: dict, name: str) -> Any:
    """``result`` with its spikes moved to ``limits["store_dir"]/name`` when they take more
    than ``limits["keep_spikes_mb"]`` (see the module docstring); else unchanged."""
    from engine.core.results import SimulationResult
    from engine.core.spike_store import BYTES_PER_SPIKE

    store_dir, keep_mb = limits.get("store_dir"), limits.get("keep_spikes_mb")
    if (store_dir is None or keep_mb is None or not isinstance(result, SimulationResult)
            or result.spike_store is not None
            or len(result.spikes) * BYTES_PER_SPIKE <= keep_mb * 2**20):
        return result
    try:
        result.spill_spikes(os.path.join(store_dir, name))
    except OSError as exc:  # disk full, say: the page is told, the spikes are not sent
        log.error("could not write the spikes of a run to %s: %s", store_dir, exc)
        count = len(result.spikes)
        result.spikes = result.spikes.iloc[0:0].copy()
        result.messages.append(f"The run's {count:,} spikes were too many to keep in the "
                               f"server's memory and could not be written to disk "
                               f"({exc.strerror or exc}); they are not shown.")
    return result


def _send_result(conn: Connection, result: Any, error: str | None, limits: dict) -> None:
    result = spill_if_large(result, limits, "result")
    try:
        conn.send(("done", result, error))
    except MemoryError:  # pickling a huge result: report it instead of dying
        conn.send(("done", None, "The run finished but its results are too large to send "
                                 "back. Record fewer populations or simulate less time."))


def serve(conn: Connection) -> None:
    """Warm the kernels, then run jobs until the server says stop or goes away."""
    from engine.core.warmup import warm_up

    # One thread per run unless the server raises its cap: the kernel of several threads
    # loads from the cache of `spikestudio warm` at its first use.
    conn.send(("ready", warm_up(several_threads=False)))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        if message[0] != "run":  # a late cancel for a run that already ended
            continue
        _, document, limits = message
        channel = _Channel(conn)
        if channel.cancel_requested():  # stopped while on its way here
            conn.send(("done", None, "Run cancelled before it started."))
            continue
        conn.send(("started", os.getpid()))
        result, error = run_job(channel, document, limits)
        if result is not RELEASED:  # (a paused run was saved and said so itself)
            conn.send(("finishing",))
            _send_result(conn, result, error, limits)
        del result
        _trim_heap()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _die_with_parent()
    # Simulations are background work: the server answering pages comes first.
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    # Ctrl+C in the server's terminal is the server's business; it stops us by closing the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO,
                        format=f"spikestudio-worker[{os.getpid()}] %(levelname)s %(message)s")
    conn = Connection(int(argv[0]))
    try:
        serve(conn)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the server went away
    return 0


if __name__ == "__main__":
    sys.exit(main())
