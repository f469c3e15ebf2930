"""Save a paused :class:`~engine.simulator.Simulation` to one file and restore it elsewhere.

A checkpoint holds exactly the state :meth:`Simulation.run_for` continues from, so a run
restored in a fresh process and continued gives the spikes, traces, counts and weights of a
run that was never interrupted. The network itself is not stored: it is built again from the
project document (building is deterministic for a given seed), and the encoders' input
streams are functions of the time index, so only the arrays the kernel mutates and the
bookkeeping around them are saved.

Format: one ``.npz`` file (``numpy.savez``, no pickle: it is loaded with
``allow_pickle=False``) holding the state arrays by name and, under ``meta``, a JSON string
with the project document and the scalar state (Python's JSON: NaN is allowed, e.g. the
mean weight of an empty projection). The file is written to a temporary name and
renamed, so a reader never sees half a checkpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from engine.core.breakpoint_table import PROGRESS_FIELDS
from engine.core.breakpoints import BreakpointHit
from engine.core.limits import RunLimits, StopCheck
from engine.core.simulation import Simulation
from engine.core.stepping import rss_bytes
from engine.errors import SpikeStudioError
from engine.project import Project

FORMAT = "spikestudio-checkpoint"
VERSION = 1

#: Arrays of a Simulation that the kernel (or the loop around it) changes as the run goes on.
#: Everything else is rebuilt identically from the project, the duration reached and the
#: breakpoints. ``spk_k``/``spk_gid`` are saved up to ``n_spk`` only (they are allocated at
#: the record's capacity); ``syn_weight`` only when plasticity makes it the run's own copy.
STATE_ARRAYS = (
    "v", "u", "ie", "ii", "iext", "ref", "buf_e", "buf_i",
    "pre_trace", "post_trace", "pre_last", "post_last", "credited",
    "pend", "pend_cur", "pend_n", "pend_k",
    "cnt_spikes", "cnt_active", "cnt_syn", "cnt_plast", "hw_flag", "cnt_hw",
    "n_spk", "tr_out", "wt_out",
)
#: The breakpoints' windows in progress (``Simulation.breaks.arrays``, a
#: :class:`~engine.core.kernel_data.Watch`; set_breakpoints rebuilds the rest from the conditions),
#: saved under these names.
BREAKPOINT_ARRAYS = {name: "hit_out" if name == "hit" else name for name in PROGRESS_FIELDS}


def save_checkpoint(sim: Simulation, path: str | os.PathLike) -> Path:
    """Write the state of a paused (or not yet started) run to ``path``.

    Parameters
    ----------
    sim
        The run. It is not changed and can go on afterwards.
    path
        The file to write (``.npz``); written atomically (temporary name, then renamed).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    SpikeStudioError
        When the run's state is invalid (NaN or infinite): such a run cannot be continued.
    """
    if sim.invalid:
        raise SpikeStudioError("A run in an invalid (NaN or infinite) state cannot be "
                               "checkpointed: it cannot be continued.")
    c = sim.net
    n_spk = int(sim.n_spk[0])
    arrays: dict[str, np.ndarray] = {name: getattr(sim, name) for name in STATE_ARRAYS}
    for field, name in BREAKPOINT_ARRAYS.items():
        arrays[name] = getattr(sim.breaks.arrays, field)
    arrays["spk_k"], arrays["spk_gid"] = sim.spk_k[:n_spk], sim.spk_gid[:n_spk]
    plastic = sim.syn_weight is not c.syn_weight
    if plastic:
        arrays["syn_weight"] = sim.syn_weight
    snaps: dict[str, int] = {}
    for j, pid in enumerate(sim.snap_times):  # by position: ids need not be valid keys
        for i, snap in enumerate(sim.snaps[pid]):
            arrays[f"snap_{j}_{i}"] = snap
        snaps[pid] = len(sim.snaps[pid])
        for i, (_, _, counts) in enumerate(sim.snap_stats[pid]):
            arrays[f"hist_{j}_{i}"] = counts
    meta = {
        "format": FORMAT, "version": VERSION,
        "project": sim.project.to_dict(),
        "n_steps": int(c.n_steps), "k": int(sim.k), "status": sim.status,
        "messages": list(sim.messages), "hit": None if sim.hit is None else sim.hit.to_dict(),
        "wall_s": float(sim.wall_s), "build_time_s": float(sim.build_time_s),
        "record_capacity": int(sim.record_capacity), "plastic": plastic,
        "breakpoints": [b.to_dict() for b in sim.breakpoints],
        "snap_times": {pid: [int(t) for t in times] for pid, times in sim.snap_times.items()},
        "snap_stats": {pid: [[float(m), float(s)] for m, s, _ in stats]
                       for pid, stats in sim.snap_stats.items()},
        "snaps": snaps,
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | os.PathLike, *, limits: RunLimits | None = None,
                    stop: StopCheck | None = None) -> Simulation:
    """A new Simulation in the state saved by :func:`save_checkpoint`.

    Parameters
    ----------
    path
        The checkpoint file.
    limits
        The caps of the run from here on (the memory budget is checked when the network is
        built again; wall time already spent counts against ``max_wall_s``).
    stop
        Cancel / time check while the network is built again (see :class:`Simulation`).

    Returns
    -------
    Simulation
        Ready for ``run_for``: it continues exactly where the saved run paused.

    Raises
    ------
    SpikeStudioError
        When the file is not a checkpoint of this version.
    MemoryBudgetError
        When the network or its recordings no longer fit the memory budget.
    engine.core.limits.RunStopped
        When ``stop`` fired while building.
    """
    rss0 = rss_bytes()  # the restored state counts against the budget, as it did before
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, ValueError) as exc:
        raise SpikeStudioError(f"{path}: not a simulation checkpoint ({exc})") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise SpikeStudioError(f"{path}: not a version {VERSION} simulation checkpoint")
    project = Project.from_dict(meta["project"])
    sim = Simulation(project, limits=limits, stop=stop)
    sim._rss0 = rss0
    sim._extend(int(meta["n_steps"]))  # recordings and input streams as far as the saved run
    sim.k = int(meta["k"])
    sim.set_breakpoints(meta["breakpoints"])  # conditions first: they size the window arrays
    for name in STATE_ARRAYS:
        _put(sim, name, arrays[name])
    for field, name in BREAKPOINT_ARRAYS.items():
        _fill(name, getattr(sim.breaks.arrays, field), arrays[name])
    if meta["plastic"]:
        _put(sim, "syn_weight", arrays["syn_weight"])
    n_spk = int(sim.n_spk[0])
    if n_spk > sim.spk_k.shape[0]:  # the saved run had made room beyond the capacity
        sim.spk_k = np.empty(n_spk + sim.net.n_neurons + 1024, np.int64)
        sim.spk_gid = np.empty_like(sim.spk_k, dtype=np.int32)
    sim.spk_k[:n_spk], sim.spk_gid[:n_spk] = arrays["spk_k"], arrays["spk_gid"]
    sim.record_capacity = int(meta["record_capacity"])
    sim.status, sim.messages = meta["status"], list(meta["messages"])
    sim.hit = None if meta["hit"] is None else _hit(meta["hit"])
    sim.wall_s, sim.build_time_s = float(meta["wall_s"]), float(meta["build_time_s"])
    for j, (pid, times) in enumerate(meta["snap_times"].items()):
        sim.snap_times[pid] = list(times)
        sim.snaps[pid] = [arrays[f"snap_{j}_{i}"] for i in range(meta["snaps"][pid])]
        sim.snap_stats[pid] = [(m, s, arrays[f"hist_{j}_{i}"])
                               for i, (m, s) in enumerate(meta["snap_stats"][pid])]
    return sim


def _put(sim: Simulation, name: str, saved: np.ndarray) -> None:
    """Copy a saved array into the rebuilt one, which must have its shape and type."""
    current = getattr(sim, name)
    if current is getattr(sim.net, name, None):  # shared with the compiled network
        current = current.copy()
        setattr(sim, name, current)
    _fill(name, current, saved)


def _fill(name: str, current: np.ndarray, saved: np.ndarray) -> None:
    """``current[...] = saved``, which must have its shape and type."""
    if current.shape != saved.shape or current.dtype != saved.dtype:
        raise SpikeStudioError(
            f"checkpoint: {name} is {saved.dtype}{list(saved.shape)} but the rebuilt run has "
            f"{current.dtype}{list(current.shape)} (the project or the engine changed)")
    current[...] = saved


def _hit(data: dict[str, Any]) -> BreakpointHit:
    synapse = data.get("synapse")
    return BreakpointHit(**{**data, "synapse": None if synapse is None else tuple(synapse)})
