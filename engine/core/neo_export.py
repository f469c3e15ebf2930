"""A run's spikes and traces as a Neo ``Block``, for Elephant and the Neo ecosystem.

Layout (docs/export.md):

- one ``Block`` holding one ``Segment`` (the run, ``t_start = 0``, ``t_stop`` = the simulated
  time);
- one ``SpikeTrain`` per neuron of every node whose spikes are given, in ms, named
  ``"node[i]"`` and annotated with ``population`` and ``neuron`` (its local index);
- one ``Group`` per node (population or input) holding its spike trains and its traces;
- one ``AnalogSignal`` per recorded variable of every state monitor (one channel per
  recorded neuron, array annotation ``neuron``), in the variable's unit (mV, or
  dimensionless for the variables without one).

``neo`` and ``quantities`` are optional: this module is imported only when a conversion is
asked for, and a missing package gives a message naming the extra that installs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import SpikeStudioError

# The run is typed Any: engine.core.results imports this module (SimulationResult.to_neo), and
# engine modules must not import each other both ways (tests/test_architecture.py).


def require_neo() -> tuple[Any, Any]:
    """The ``neo`` and ``quantities`` packages, or a clear message naming the extra."""
    try:
        import neo
        import quantities as pq
    except ImportError as exc:
        raise SpikeStudioError(f"Neo output needs the packages 'neo' and 'quantities' "
                               f"(pip install 'spikestudio[neo]'): {exc}") from None
    return neo, pq


def _unit(pq: Any, name: str) -> Any:
    """The quantities unit of a trace variable ('' is dimensionless)."""
    if not name:
        return pq.dimensionless
    try:
        return pq.Quantity(1.0, name).units
    except (LookupError, ValueError):  # a unit quantities does not know: keep the number
        return pq.dimensionless


def _spike_trains(result: Any, node: str, size: int, neo: Any,
                  pq: Any) -> list[Any]:
    """One SpikeTrain per neuron of ``node`` (empty trains for silent neurons)."""
    spikes = result.spikes
    mine = spikes[spikes["population"].astype(str) == node]
    times = mine["time_ms"].to_numpy(dtype=np.float64)
    neurons = mine["neuron"].to_numpy(dtype=np.int64)
    order = np.lexsort((times, neurons))
    times, neurons = times[order], neurons[order]
    bounds = np.searchsorted(neurons, np.arange(size + 1))
    t_stop = max(result.duration_ms, float(times.max()) if times.size else 0.0)
    return [neo.SpikeTrain(times[bounds[i]:bounds[i + 1]] * pq.ms, t_start=0.0 * pq.ms,
                           t_stop=t_stop * pq.ms, name=f"{node}[{i}]",
                           population=node, neuron=i)
            for i in range(size)]


def _signals(record: Any, neo: Any, pq: Any) -> list[Any]:
    """The AnalogSignals (regular sampling) or IrregularlySampledSignals of one monitor."""
    out = []
    t = np.asarray(record.time_ms, dtype=np.float64)
    steps = np.diff(t)
    regular = t.size >= 2 and np.allclose(steps, steps[0], rtol=1e-9, atol=1e-12)
    for variable, values in record.values.items():
        unit = _unit(pq, record.units.get(variable, ""))
        common = {"name": f"{record.monitor}.{variable}", "monitor": record.monitor,
                  "population": record.population, "variable": variable,
                  "array_annotations": {"neuron": np.asarray(record.neurons, np.int64)}}
        data = np.asarray(values, dtype=np.float64)
        if regular:
            out.append(neo.AnalogSignal(data, units=unit, t_start=t[0] * pq.ms,
                                        sampling_period=steps[0] * pq.ms, **common))
        else:  # one sample, or a run cut short: give the times themselves
            out.append(neo.IrregularlySampledSignal(t * pq.ms, data, units=unit,
                                                    time_units=pq.ms, **common))
    return out


def to_neo(result: Any, recorded: Iterable[str] | None = None,
           name: str = "SpikeStudio run") -> Any:
    """Convert a run into a ``neo.Block`` (see the module docstring for the layout).

    Parameters
    ----------
    result
        A finished (or partial) run (:class:`engine.core.results.SimulationResult`).
    recorded
        Nodes whose spikes were recorded (``simulation.record_spikes``); ``None``: every
        population and input of the run. Other nodes get no spike trains: an unrecorded
        node is not silent.
    name
        Name of the block (the project's name, say).

    Returns
    -------
    neo.Block
    """
    neo, pq = require_neo()

    wanted = None if recorded is None else set(recorded)
    block = neo.Block(name=name, dt_ms=float(result.dt_ms), status=result.status)
    segment = neo.Segment(name="run", t_start=0.0 * pq.ms,
                          t_stop=float(result.duration_ms) * pq.ms)
    block.segments.append(segment)
    groups: dict[str, Any] = {}
    for row in result.node_info.itertuples():
        node = str(row.node)
        if row.kind == "monitor" or (wanted is not None and node not in wanted):
            continue
        trains = _spike_trains(result, node, int(row.size), neo, pq)
        segment.spiketrains.extend(trains)
        groups[node] = neo.Group(trains, name=node, kind=str(row.kind), model=str(row.model),
                                 size=int(row.size))
    for record in result.traces.values():
        signals = _signals(record, neo, pq)
        # Lists, not generators: Neo's ObjectList.extend reads its argument twice.
        segment.analogsignals.extend([s for s in signals if isinstance(s, neo.AnalogSignal)])
        segment.irregularlysampledsignals.extend(
            [s for s in signals if isinstance(s, neo.IrregularlySampledSignal)])
        if record.population not in groups:  # traces of a node whose spikes were not kept
            groups[record.population] = neo.Group(name=record.population)
        groups[record.population].add(*signals)
    block.groups.extend(groups.values())
    block.check_relationships()
    return block


def write_nix(block: Any, path: str | Path) -> Path:
    """Write ``block`` with Neo's NixIO (an HDF5 ``.nix`` file), replacing ``path``.

    Raises
    ------
    SpikeStudioError
        When ``nixio`` is missing or the file cannot be written (the message names it).
    """
    neo, _ = require_neo()
    try:
        import nixio  # noqa: F401 - NixIO needs it; a clear message when it is missing
    except ImportError:
        raise SpikeStudioError("--neo: writing .nix files needs the package 'nixio' "
                               "(pip install 'spikestudio[neo]')") from None
    path = Path(path)
    if not path.parent.is_dir():
        raise SpikeStudioError(f"--neo: folder {str(path.parent)!r} does not exist")
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # NixIO appends to an existing file
    try:
        with neo.NixIO(str(tmp), mode="ow") as io:
            io.write_block(block)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpikeStudioError(f"--neo: cannot write {str(path)!r}: {exc}") from None
    return path
