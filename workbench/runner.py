"""Runs simulations in worker processes, shared by every browser session of the server.

The server process never simulates. A small pool of long-lived worker processes (one per core
by default, :mod:`workbench.workers`) each loads the numba kernels once and then runs one
project at a time under the administrator's limits (:class:`engine.core.limits.RunLimits`, from
``spikestudio serve --max-run-memory-mb ... --max-run-seconds ... --workers ...``). A run that
exhausts its memory, crashes or hangs takes down only its own worker, which is replaced; the
other runs and every session keep going.

For each worker a supervising thread in the server sends it the project document, forwards
Stop, enforces the wall-time backstop and fills in the run's :class:`RunHandle`, whose fields
the session polls from its own event loop (a periodic callback), so no UI object is ever
touched from another thread.

A paused run holds no worker: the worker saves the paused simulation to a checkpoint file
(:mod:`engine.core.checkpoint`) and takes the next job; Continue and Step queue the run again and
any free worker restores it from the file. Waiting runs are served round-robin across their
owners (one per browser workspace), so one user's queued runs cannot starve another's.
"""

from __future__ import annotations

import atexit
import copy
import dataclasses
import logging
import math
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.core.limits import RunLimits
from engine.core.progress import Progress
from engine.executor.caps import trim_heap
from engine.spike_stats import empty_spikes

log = logging.getLogger(__name__)

#: Environment variables through which ``spikestudio serve`` hands its caps to the server.
ENV_WORKERS = "SPIKESTUDIO_WORKERS"
ENV_MAX_MEMORY_MB = "SPIKESTUDIO_MAX_RUN_MEMORY_MB"
ENV_MAX_SECONDS = "SPIKESTUDIO_MAX_RUN_SECONDS"
ENV_MAX_THREADS = "SPIKESTUDIO_MAX_RUN_THREADS"
ENV_MAX_SESSION_MEMORY_MB = "SPIKESTUDIO_MAX_SESSION_MEMORY_MB"
#: Default share of one page (session) in the server: this fraction of the machine's memory.
SESSION_MEMORY_FRACTION = 1 / 16
#: The server holds a page's spikes several times over for a moment (the message from the
#: worker, the frame, the raster's index, the live frame, a pinned run): a result keeps its
#: spikes in memory only up to this fraction of the session's cap, else they go to disk.
IN_MEMORY_SHARE = 1 / 4
#: Server memory per live spike while a run is drawn live: the streamed parts, the frame made
#: of them, the raster's index and rates (measured, about 5 x 16 bytes).
LIVE_BYTES_PER_SPIKE = 80

#: After Stop, a worker that has not acknowledged it within this many seconds (it is busy
#: building a large network, say) is replaced.
CANCEL_GRACE_S = 5.0
#: The engine stops a run at ``max_wall_s`` itself; the worker is killed only this much later.
WALL_GRACE_S = 10.0
_POLL_S = 0.05
_REPO = Path(__file__).resolve().parent.parent



@dataclass
class RunHandle:
    """State of one submitted run, written by its supervisor thread and read by the session."""

    duration_ms: float
    cancel: threading.Event = field(default_factory=threading.Event)
    state: str = "queued"           # queued -> running (-> paused -> queued -> running) -> done
    progress: Progress | None = None
    result: Any = None              # engine.core.results.SimulationResult (partial while paused)
    error: str | None = None
    pauses: int = 0                 # times it paused (the session sees each new pause)
    pause_message: str | None = None  # why a Continue was refused (the run stays paused)
    debug: dict | None = None       # a run that can pause: {"breakpoints": [...], ...}
    #: A neuron probe instead of a run (engine.analysis.neuron_probe.probe_neuron): {"population",
    #: "neuron", "duration_ms"}; ``result`` is then a NeuronProbe.
    probe: dict | None = None
    #: Directory where the worker may put the run's spikes on disk (engine.core.spike_store) when
    #: they are too large to send; the result's ``spike_store`` then points into it.
    store_dir: Path | None = None
    #: True once the live spikes reached the session's share: the rest are not streamed (the
    #: result, when it arrives, has them all).
    live_capped: bool = False
    #: With ``debug["live"]``: the spikes so far while it runs, in arrival order, as
    #: (time_ms, node index, neuron) arrays, and the node ids the indices refer to.
    live: list = field(default_factory=list)
    live_nodes: list[str] = field(default_factory=list)
    submitted: float = field(default_factory=time.monotonic)
    worker_pid: int | None = None   # the process running it, once it started
    #: Where a paused run's simulation is saved (its worker is then free); deleted when done.
    checkpoint: Path | None = None
    owner: Any = None               # whose run it is: queued runs are served fairly per owner
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _claimed: bool = field(default=False, repr=False)
    _commands: queue.Queue = field(default_factory=queue.Queue, repr=False)
    #: (pool, document, checked) to queue the run again on Continue / Step.
    _job: tuple | None = field(default=None, repr=False)
    #: The pending Continue / Step ({"ms", "breakpoints", "live_from"}); a queued job runs only
    #: while it is still this one (a Pause before it started withdraws it).
    _resume: dict | None = field(default=None, repr=False)

    @property
    def paused(self) -> bool:
        return self.state == "paused"

    def live_spikes(self) -> tuple[pd.DataFrame, int]:
        """The spikes streamed so far as a spikes DataFrame, and how many parts it holds.

        The supervisor thread appends parts meanwhile: the parts counted are the ones in the
        frame, so a caller can tell whether new ones arrived since.
        """
        parts = list(self.live)
        if not parts:
            return empty_spikes(self.live_nodes), 0
        times, nodes, neurons = (np.concatenate([part[i] for part in parts]) for i in range(3))
        return pd.DataFrame({
            "time_ms": times,
            "population": pd.Categorical.from_codes(nodes, categories=self.live_nodes),
            "neuron": neurons}), len(parts)

    def pause(self) -> None:
        """Pause a running run at its next chunk (its state goes to a checkpoint file and the
        worker is freed); a Continue still waiting for a worker is withdrawn."""
        with self._lock:
            if self.state == "running":
                self._commands.put(("pause",))
            elif self.state == "queued" and self._resume is not None and not self._claimed:
                self._resume = None
                self.state = "paused"
                self.pauses += 1

    def resume(self, ms: float | None = None, breakpoints: list[dict] | None = None) -> None:
        """Continue a paused run for ``ms`` of model time (None: to the end of its duration)
        with new breakpoints (None: keep them). It queues for a free worker, which restores
        it from its checkpoint."""
        with self._lock:
            if self.state != "paused" or self._job is None:
                return
            pool, document, checked = self._job
            live_from = sum(len(part[0]) for part in self.live)  # spikes the page has
            self._resume = {"ms": ms, "breakpoints": breakpoints, "live_from": live_from}
            self.state = "queued"
            self.pause_message = None
        pool._jobs.put((self, document, checked, self._resume), self.owner)

    @property
    def done(self) -> bool:
        return self.state == "done"

    def stop(self) -> None:
        """Stop the run: at once while queued or paused (a paused run ends with what it has),
        else at its next chunk (well under a second)."""
        with self._lock:
            self.cancel.set()
            if self._claimed or self.done:
                return
            if self.result is None:
                self.error = "Run cancelled before it started."
            else:  # paused, or waiting for a worker to continue it
                self.result = dataclasses.replace(self.result, status="cancelled",
                                                  breakpoint=None)
            self._discard_checkpoint()
            self.state = "done"

    def _claim(self, resume: dict | None = None) -> bool:
        """Taken by a worker; False when it was stopped (or paused again) while queued."""
        with self._lock:
            if self.done or resume is not self._resume:
                return False
            self._claimed = True
            return True

    def _paused(self, result: Any, message: str | None) -> None:
        """The worker saved the paused run to its checkpoint and took the next job."""
        with self._lock:
            self._claimed = False
            while not self._commands.empty():  # a late Pause was for the part that ran
                self._commands.get()
            self.result, self.pause_message = result, message
            self.state = "paused"
            self.pauses += 1
        if self.cancel.is_set():  # Stop arrived as it paused
            self.stop()

    def _finish(self, result: Any, error: str | None) -> None:
        with self._lock:
            self.result, self.error = result, error
            self._discard_checkpoint()
            self.state = "done"

    def _discard_checkpoint(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- limits
def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _env_number(name: str, cast: type) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = cast(raw)
    except ValueError:
        value = None
    if value is None or not value > 0 or (cast is float and not math.isfinite(value)):
        log.warning("ignoring %s=%r: expected a positive number", name, raw)
        return None
    return value


def default_session_memory_mb() -> float:
    """The default cap of one page's share of the server: a fraction of physical memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (AttributeError, ValueError, OSError):  # not POSIX: assume a small machine
        total = 4096.0
    return max(128.0, total * SESSION_MEMORY_FRACTION)


def session_memory_mb() -> float:
    """Cap of one page's share of the server's memory, from ``spikestudio serve
    --max-session-memory-mb`` (else :func:`default_session_memory_mb`)."""
    return _env_number(ENV_MAX_SESSION_MEMORY_MB, float) or default_session_memory_mb()


def result_transport(store_dir: Path | None, session_mb: float | None) -> dict:
    """What a worker needs to keep a run's result within a session's share of the server.

    Returns
    -------
    dict
        ``store_dir``: where spikes go when there are too many (None: always sent);
        ``keep_spikes_mb``: spikes up to this size are sent whole, larger ones are written to
        ``store_dir`` and only a handle is sent; ``live_max_spikes``: live streaming stops
        after this many spikes.
    """
    if store_dir is None or session_mb is None:
        return {"store_dir": None, "keep_spikes_mb": None, "live_max_spikes": None}
    keep_mb = float(session_mb) * IN_MEMORY_SHARE
    return {"store_dir": str(store_dir), "keep_spikes_mb": keep_mb,
            "live_max_spikes": int(keep_mb * 2**20 // LIVE_BYTES_PER_SPIKE)}


def release_memory() -> None:
    """Give memory freed by dropped results back to the OS (glibc keeps it otherwise)."""
    trim_heap()


def discard_run_files(handle: RunHandle | None, runs_dir: Path) -> None:
    """Remove a closed page's run files (``runs_dir``) and give its memory back, once its
    last run (stopped by the caller) has ended: its worker may still be writing them."""
    def remove() -> None:
        deadline = time.monotonic() + CANCEL_GRACE_S + WALL_GRACE_S
        while handle is not None and not handle.done and time.monotonic() < deadline:
            time.sleep(_POLL_S)
        shutil.rmtree(runs_dir, ignore_errors=True)
        release_memory()

    if handle is None or handle.done:
        remove()
    else:
        threading.Thread(target=remove, daemon=True, name="spikestudio-run-files").start()


def server_config() -> tuple[int, RunLimits]:
    """Workers and per-run caps of this server, from ``spikestudio serve``'s environment."""
    workers = _env_number(ENV_WORKERS, int) or default_workers()
    defaults = RunLimits.for_server(workers)
    memory = _env_number(ENV_MAX_MEMORY_MB, float) or defaults.max_memory_mb
    seconds = _env_number(ENV_MAX_SECONDS, float) or defaults.max_wall_s
    threads = _env_number(ENV_MAX_THREADS, int) or defaults.max_threads
    return workers, RunLimits(max_memory_mb=memory, max_wall_s=seconds, max_threads=threads)


# ---------------------------------------------------------------------------- deaths
def _oom_kills() -> int | None:
    """Processes the kernel's out-of-memory killer has killed since boot (Linux), or None."""
    try:
        with open("/proc/vmstat") as vmstat:
            for line in vmstat:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _address_space(pid: int) -> tuple[int, int | None] | None:
    """``(peak, soft limit)`` of a process's address space in bytes (the limit None when
    unlimited), what the worker's RLIMIT_AS memory cap counts; None when unreadable."""
    try:
        with open(f"/proc/{pid}/status") as status:
            peak = next(int(line.split()[1]) * 1024 for line in status
                        if line.startswith("VmPeak:"))
        with open(f"/proc/{pid}/limits") as limits:
            soft = next(line.split()[3] for line in limits
                        if line.startswith("Max address space"))
    except (OSError, ValueError, StopIteration, IndexError):
        return None
    return peak, None if soft == "unlimited" else int(soft)


@dataclass
class _DeathWatch:
    """What the supervisor knows of a running worker to say later why it died."""

    oom_kills: int | None = field(default_factory=_oom_kills)  # the kernel's count at start
    peak_bytes: int = 0            # the worker's largest address space seen while it ran
    limit_bytes: int | None = None  # its address-space cap (the run's memory cap + baseline)

    def sample(self, pid: int | None) -> None:
        seen = _address_space(pid) if pid else None
        if seen is not None:
            self.peak_bytes, self.limit_bytes = max(self.peak_bytes, seen[0]), seen[1]

    def near_cap(self) -> bool:
        """The worker was within the slack of its cap (a failed allocation there kills
        native code with SIGABRT or SIGSEGV instead of raising MemoryError)."""
        return (self.limit_bytes is not None
                and self.limit_bytes - self.peak_bytes < _NEAR_CAP_MB * 2**20)

    def oom_killed(self) -> bool:
        now = _oom_kills()
        return self.oom_kills is not None and now is not None and now > self.oom_kills


#: A worker dead by a signal within this much of its address-space cap hit the memory cap.
_NEAR_CAP_MB = 512.0


def death_message(code: int | None, cap_mb: float | None, watch: _DeathWatch | None) -> str:
    """Why a worker process ended (its exit code: ``-N`` for signal N), for the user.

    The memory cap is named only when there is evidence: the kernel's out-of-memory killer
    acted during the run, or the worker had come within :data:`_NEAR_CAP_MB` of its cap.
    """
    cap = f" (this server allows {cap_mb:,.0f} MB per run)" if cap_mb else ""
    advice = " Use fewer neurons or synapses, record less or simulate less time."
    if code is None or code >= 0:
        return (f"The run crashed: its worker process exited unexpectedly (exit code "
                f"{code}). The server log may have details.")
    try:
        name = f"signal {-code}, {signal.Signals(-code).name}"
    except ValueError:
        name = f"signal {-code}"
    if watch is not None and watch.oom_killed():
        return (f"The run was stopped: the operating system's out-of-memory killer ended its "
                f"worker process ({name}) because the machine ran out of memory{cap}."
                + advice)
    if watch is not None and watch.near_cap():
        return (f"The run was stopped at the memory cap: its worker process died ({name}) "
                f"when it reached the memory allowed for one run{cap}." + advice)
    used = (f" after using {watch.peak_bytes / 2**20:,.0f} MB of address space"
            if watch is not None and watch.peak_bytes else "")
    what = ("crashed: its worker process died of" if -code in _CRASH_SIGNALS
            else "was stopped: its worker process was killed by")
    return (f"The run {what} {name}{used}, not by the memory cap. Other runs are not "
            f"affected; the server log may have details.")


#: Signals a process gets from its own faults (the others come from another process).
_CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT}


def _salvage(handle: RunHandle, document: dict, message: str, memory: bool) -> Any:
    """The partial result of a run whose worker died: the last paused result, else the
    spikes it streamed live (None when there is nothing)."""
    from engine.project import Project
    from engine.simulator import salvaged_result

    status = "memory_limit" if memory else "cancelled"
    if handle.result is not None:  # its result at its last pause
        result = copy.copy(handle.result)
        result.status, result.breakpoint = status, None
        result.messages = [*result.messages, message]
        return result
    spikes, parts = handle.live_spikes()
    if not parts or handle.probe is not None:
        return None
    t_ms = handle.progress.t_ms if handle.progress is not None else 0.0
    try:
        project = Project.from_checked(document)
    except Exception:  # noqa: BLE001 - a salvage must never hide the death message
        log.exception("could not rebuild the project of a dead run")
        return None
    return salvaged_result(project, spikes, t_ms, status, message)


# ---------------------------------------------------------------------------- one worker
class _WorkerDied(Exception):
    def __init__(self, message: str, memory: bool = False, started: bool = True):
        super().__init__(message)
        # started: False when it died before it took the run (e.g. killed while idle).
        self.message, self.memory, self.started = message, memory, started


class _Slot:
    """One worker process and the thread that feeds it runs and watches over it."""

    def __init__(self, pool: WorkerPool, index: int):
        self.pool = pool
        self.index = index
        self.proc: subprocess.Popen | None = None
        self.conn: Connection | None = None
        self.ready_s: float | None = None  # wall time of the last start-up (import + warm-up)
        self.current: RunHandle | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True,
                                       name=f"spikestudio-worker-{index}")

    # -------------------------------------------------------------- process
    def _spawn(self) -> None:
        """Start a worker and wait until its kernels are loaded."""
        parent, child = Pipe(duplex=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_REPO), env.get("PYTHONPATH", "")) if p)
        start = time.monotonic()
        # A fresh interpreter (not fork): the server is multi-threaded.
        # (A local name: shutdown may clear self.proc from another thread meanwhile.)
        self.proc = proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.workers", str(child.fileno())],
            pass_fds=(child.fileno(),), env=env, cwd=str(_REPO), stdin=subprocess.DEVNULL)
        child.close()
        self.conn = parent
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            raise _WorkerDied(self._death_message()) from None
        if message[0] != "ready":
            raise _WorkerDied(f"unexpected first message from the worker: {message[0]!r}")
        self.ready_s = time.monotonic() - start
        log.info("simulation worker %d (pid %d) ready in %.2f s (kernels warmed in %.2f s)",
                 self.index, proc.pid, self.ready_s, message[1])

    def _alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _kill(self) -> None:
        proc, conn = self.proc, self.conn
        self.proc, self.conn = None, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if conn is not None:
            conn.close()

    def _death_message(self, watch: _DeathWatch | None = None) -> str:
        """Why the worker process ended, for the user (``watch``: what was seen of it while
        it ran)."""
        proc = self.proc
        try:
            code = proc.wait(timeout=5) if proc is not None else None
        except subprocess.TimeoutExpired:
            code = None
        self._kill()
        return death_message(code, self.pool.limits.max_memory_mb, watch)

    # -------------------------------------------------------------- jobs
    def _loop(self) -> None:
        while True:
            failure = None
            if not self._alive():
                try:
                    self._spawn()
                except (_WorkerDied, OSError) as exc:
                    failure = getattr(exc, "message", str(exc))
                    if not self.pool._closed:
                        log.error("simulation worker %d could not start: %s", self.index,
                                  failure)
                    self._kill()
            handle, document, checked, resume = self.pool._jobs.get()
            if handle is None:
                self._kill()
                return
            if not handle._claim(resume):
                continue
            if failure is not None:
                handle._finish(None, f"No simulation worker could be started ({failure}).")
                time.sleep(1.0)  # do not spin on a broken installation
                continue
            self.current = handle
            try:
                try:
                    self._execute(handle, document, checked, resume)
                except _WorkerDied as exc:
                    if exc.started:
                        raise
                    # The worker died before it took the run (killed while idle, its death
                    # not yet seen): nothing of the run was lost, so a new worker runs it.
                    log.info("simulation worker %d died before a run: replacing it",
                             self.index)
                    self._kill()
                    self._execute(handle, document, checked, resume)
            except _WorkerDied as exc:
                handle._finish(_salvage(handle, document, exc.message, exc.memory),
                               exc.message)
            except Exception as exc:  # noqa: BLE001 - a supervisor must never die
                log.exception("supervising a run failed")
                self._kill()
                handle._finish(None, f"Internal error while running ({type(exc).__name__}: "
                                     f"{exc}). The server log has the details.")
            finally:
                self.current = None

    def _execute(self, handle: RunHandle, document: dict, checked: bool = False,
                 resume: dict | None = None) -> None:
        limits = self.pool.limits
        if not self._alive():  # it died while idle: the run has not started, so start one
            self._spawn()
        assert self.conn is not None
        transport = result_transport(handle.store_dir, self.pool.session_memory_mb)
        debug = handle.debug
        if debug is not None:  # where a pause saves the run, and what a Continue asks
            debug = {**debug, "checkpoint": str(handle.checkpoint), "resume": resume}
        try:
            self.conn.send(("run", document, {"max_memory_mb": limits.max_memory_mb,
                                              "max_wall_s": limits.max_wall_s,
                                              "max_threads": limits.max_threads,
                                              "checked": checked, "debug": debug,
                                              "probe": handle.probe, **transport}))
        except OSError:
            raise _WorkerDied(self._death_message(), started=False) from None
        watch = _DeathWatch()
        started = False  # the worker said it took the run

        def died() -> _WorkerDied:
            message = self._death_message(watch)
            return _WorkerDied(message, memory=watch.oom_killed() or watch.near_cap(),
                               started=started)

        sent = time.monotonic()
        deadline = None if limits.max_wall_s is None else sent + limits.max_wall_s + WALL_GRACE_S
        cancel_sent: float | None = None
        finishing = 0.0  # when the simulation returned (results on their way)
        stopping = False  # the worker saw the cancel request between two chunks
        while True:
            if self.conn.poll(_POLL_S):
                try:
                    message = self.conn.recv()
                except (EOFError, OSError):
                    raise died() from None
                kind = message[0]
                if kind == "progress":
                    handle.progress = Progress(*message[1:])
                    watch.sample(handle.worker_pid)
                elif kind == "started":
                    started = True
                    handle.worker_pid = message[1]
                    handle.state = "running"
                elif kind == "stopping":
                    stopping = True
                elif kind == "live":
                    handle.live_nodes = message[4]
                    handle.live.append(message[1:4])
                elif kind == "live_capped":
                    handle.live_capped = True
                elif kind == "paused":  # saved to its checkpoint: this worker is free
                    handle._paused(message[1], message[2])
                    return
                elif kind == "finishing":
                    finishing = time.monotonic()
                elif kind == "done":
                    if finishing:
                        log.debug("worker %d: results received %.3f s after the simulation "
                                  "returned", self.index, time.monotonic() - finishing)
                    handle._finish(message[1], message[2])
                    return
            now = time.monotonic()
            while not handle._commands.empty():
                command = handle._commands.get()
                try:
                    self.conn.send(command)
                except OSError:
                    pass  # it died: the next poll reports how
            if handle.cancel.is_set() and cancel_sent is None:
                cancel_sent = now
                try:
                    self.conn.send(("cancel",))
                except OSError:
                    pass  # it died: the next poll reports how
            if (cancel_sent is not None and not (stopping or finishing)
                    and now - cancel_sent > CANCEL_GRACE_S):
                log.info("worker %d did not stop within %.0f s: replacing it", self.index,
                         CANCEL_GRACE_S)
                self._kill()
                handle._finish(None, "Run stopped before it had results to show.")
                return
            if deadline is not None and now > deadline:
                log.warning("worker %d exceeded the run's wall time: killing it", self.index)
                self._kill()
                handle._finish(None, f"The run was stopped: it took longer than "
                                     f"{limits.max_wall_s:g} s, the limit for one run on this "
                                     f"server (time_limit).")
                return


# ---------------------------------------------------------------------------- the pool
class FairQueue:
    """Jobs waiting for a worker, served round-robin across their owners.

    Each owner (a browser workspace, say) has its own first-in first-out lane; :meth:`get`
    takes the next job of the owner at the front and moves that owner to the back, so an
    owner with many queued runs gets one worker turn for each turn of every other owner.
    """

    def __init__(self) -> None:
        self._lanes: OrderedDict[Any, deque] = OrderedDict()
        self._ready = threading.Condition()

    def put(self, item: Any, owner: Any = None) -> None:
        """Queue ``item`` at the back of ``owner``'s lane."""
        with self._ready:
            self._lanes.setdefault(owner, deque()).append(item)
            self._ready.notify()

    def get(self) -> Any:
        """The next job, waiting for one."""
        with self._ready:
            while not self._lanes:
                self._ready.wait()
            return self._pop()

    def get_nowait(self) -> Any:
        """The next job; ``queue.Empty`` when there is none."""
        with self._ready:
            if not self._lanes:
                raise queue.Empty
            return self._pop()

    def _pop(self) -> Any:
        owner, lane = next(iter(self._lanes.items()))
        item = lane.popleft()
        del self._lanes[owner]
        if lane:  # its next job waits for every other owner's turn
            self._lanes[owner] = lane
        return item


class WorkerPool:
    """Worker processes shared by all sessions; runs wait in one queue for a free worker.

    Parameters
    ----------
    workers
        Number of worker processes (default: one per core).
    limits
        Caps on every run (default: :meth:`engine.core.limits.RunLimits.for_server`). A project's
        ``simulation.memory_budget_mb`` can only lower the memory cap.
    session_memory_mb
        Cap of one page's share of the server (None: no cap). A run submitted with a
        ``store_dir`` keeps its spikes on disk when they exceed a fraction of it
        (:func:`result_transport`).
    """

    def __init__(self, workers: int | None = None, limits: RunLimits | None = None,
                 session_memory_mb: float | None = None):
        self.workers = max(1, int(workers or default_workers()))
        self.limits = limits if limits is not None else RunLimits.for_server(self.workers)
        self.session_memory_mb = session_memory_mb
        self._jobs = FairQueue()
        self._checkpoints: Path | None = None  # for paused runs that name no directory
        self._slots = [_Slot(self, i) for i in range(self.workers)]
        self._closed = False
        for slot in self._slots:
            slot.thread.start()

    def submit(self, project: Any, debug: dict | None = None, probe: dict | None = None,
               owner: Any = None, store_dir: Path | None = None) -> RunHandle:
        """Queue a simulation of ``project`` (a ``Project`` or its document); returns at once.

        Parameters
        ----------
        project
            A ``Project`` or its document.
        debug
            ``{"breakpoints": [...], "live": bool, "checkpoint_dir": path}`` makes a run that
            can pause (:meth:`RunHandle.pause`, :meth:`RunHandle.resume`). A paused run is
            saved to a checkpoint file in ``checkpoint_dir`` (default: a directory of this
            pool) and frees its worker; the file is deleted when the run ends or is stopped.
        probe
            ``{"population": id, "neuron": i, "duration_ms": t}``: re-run the project to
            record one neuron (:func:`engine.analysis.neuron_probe.probe_neuron`) instead.
        owner
            Whose run it is (a workspace key): while every worker is busy, queued runs are
            served round-robin across owners (:class:`FairQueue`).
        store_dir
            A directory of the session's workspace that receives the run's spikes when they
            are too large to hold in the server (the result's ``spike_store``); the caller
            removes it.
        """
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        # A copy: the session may edit its document while the run waits for a worker.
        # A Project was validated when it was built: the worker does not validate it again.
        checked = hasattr(project, "to_dict")
        document = project.to_dict() if checked else copy.deepcopy(project)
        handle = RunHandle(duration_ms=float(document["simulation"]["duration_ms"]),
                           debug=debug, probe=probe, owner=owner,
                           store_dir=None if store_dir is None else Path(store_dir))
        if debug is not None:
            folder = (Path(debug["checkpoint_dir"]) if debug.get("checkpoint_dir")
                      else self._own_checkpoints())
            folder.mkdir(parents=True, exist_ok=True)
            handle.checkpoint = folder / f"paused-{uuid.uuid4().hex}.npz"
            handle._job = (self, document, checked)
        self._jobs.put((handle, document, checked, None), owner)
        return handle

    def _own_checkpoints(self) -> Path:
        if self._checkpoints is None:
            self._checkpoints = Path(tempfile.mkdtemp(prefix="spikestudio-paused-"))
        return self._checkpoints

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Wait until every worker has loaded its kernels (benchmarks, tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while any(s.ready_s is None for s in self._slots):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def worker_pids(self) -> list[int | None]:
        """Process id of each worker (None while it is being replaced)."""
        return [s.proc.pid if s.proc is not None else None for s in self._slots]

    def close(self, timeout: float = 5.0) -> None:
        """Stop every worker (queued runs are cancelled, running ones killed)."""
        if self._closed:
            return
        self._closed = True
        while True:
            try:
                handle = self._jobs.get_nowait()[0]
            except queue.Empty:
                break
            if handle is not None:
                handle.stop()
        for slot in self._slots:
            if slot.current is not None:
                slot.current.stop()
            self._jobs.put((None, None, False, None), object())  # one per worker
        for slot in self._slots:
            slot.thread.join(timeout)
        for slot in self._slots:
            slot._kill()
        if self._checkpoints is not None:
            shutil.rmtree(self._checkpoints, ignore_errors=True)


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """The server's pool, started on first use with :func:`server_config`."""
    global _pool
    with _pool_lock:
        if _pool is None:
            workers, limits = server_config()
            session_mb = session_memory_mb()
            log.info("starting %d simulation workers (per run: %s MB, %s s; per page %s MB)",
                     workers,
                     f"{limits.max_memory_mb:,.0f}" if limits.max_memory_mb else "no cap",
                     f"{limits.max_wall_s:g}" if limits.max_wall_s else "no limit",
                     f"{session_mb:,.0f}")
            _pool = WorkerPool(workers, limits, session_memory_mb=session_mb)
        return _pool


def warm_up_in_background() -> None:
    """Start the workers (each loads the numba kernels once) without waiting for them."""
    pool()


def submit(project: Any, debug: dict | None = None, owner: Any = None,
           store_dir: Path | None = None) -> RunHandle:
    """Queue a simulation of ``project`` on the server's pool; returns immediately
    (see :meth:`WorkerPool.submit`)."""
    return pool().submit(project, debug, owner=owner, store_dir=store_dir)


def simulate(project: Any, *, progress: Any = None, cancel: threading.Event | None = None,
             pool_: WorkerPool | None = None) -> Any:
    """``engine.simulator.simulate`` through the pool: blocks the calling thread, not a core.

    For batches that run in their own threads (the scenario matrix): their simulations queue
    with everyone's runs and get the same limits and isolation.

    Raises
    ------
    SimulationError
        The run failed with partial results (``partial_result``).
    SpikeStudioError
        The run failed without results (limits, crash, invalid project, stopped while
        queued); the message is the user's.
    """
    return _wait((pool_ or pool()).submit(project), progress, cancel)


def probe(document: dict, population: str, neuron: int, duration_ms: float, *,
          variables: list[str] | None = None, cancel: threading.Event | None = None,
          pool_: WorkerPool | None = None) -> Any:
    """Record one neuron of a run again, in a worker
    (:func:`engine.analysis.neuron_probe.probe_neuron`).

    Blocks the calling thread (not a core) until the probe is back.

    Parameters
    ----------
    document
        The project document exactly as it was run.
    population, neuron
        The neuron.
    duration_ms
        The model time that run reached.
    variables
        State variables to record (None: all of its model; ``[]``: only its synapses).
    cancel
        Set it to give up (the worker stops at its next chunk).

    Returns
    -------
    engine.analysis.neuron_probe.NeuronProbe

    Raises
    ------
    SpikeStudioError
        The probe failed or was stopped; the message is the user's.
    """
    request = {"population": str(population), "neuron": int(neuron),
               "duration_ms": float(duration_ms), "variables": variables}
    return _wait((pool_ or pool()).submit(document, probe=request), None, cancel)


def _wait(handle: RunHandle, progress: Any, cancel: threading.Event | None) -> Any:
    """Wait for a submitted job; its result, or its error raised (see :func:`simulate`)."""
    from engine.errors import SimulationError, SpikeStudioError

    reported = None
    while not handle.done:
        if cancel is not None and cancel.is_set():
            handle.stop()
        if progress is not None and handle.progress is not reported:
            reported = handle.progress
            progress(reported)
        time.sleep(_POLL_S)
    if handle.error is None:
        return handle.result
    if handle.result is not None:
        error = SimulationError(handle.error)
        error.partial_result = handle.result
        raise error
    raise SpikeStudioError(handle.error)


@atexit.register
def _close_pool() -> None:
    if _pool is not None:
        _pool.close(timeout=1.0)
