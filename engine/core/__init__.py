"""The simulator core: everything that runs a network, from a validated project to its result.

Users call the public face, :mod:`engine.simulator` (``simulate``, ``Simulation``); the
result type is :class:`engine.core.results.SimulationResult`. Inside, one module a job:

- :mod:`engine.core.build`: a project to a ``CompiledNetwork`` (flat arrays, CSR synapses,
  with :mod:`engine.connectivity.generate`), the memory estimate first;
- :mod:`engine.core.kernels`: the numba kernel that steps the network for a chunk of time,
  taking the containers of :mod:`engine.core.kernel_data`;
- :mod:`engine.core.simulation`: ``Simulation``, a run's state and controls; its chunked time
  loop in :mod:`engine.core.stepping`, its breakpoints in :mod:`engine.core.breakpoint_table`
  (the conditions themselves: :mod:`engine.core.breakpoints`), its results assembled by
  :mod:`engine.core.assembly`;
- :mod:`engine.core.results`, :mod:`engine.core.spike_store`: the result and its spikes on disk;
- :mod:`engine.core.checkpoint`: a paused run saved and restored;
- :mod:`engine.core.limits`, :mod:`engine.core.progress`: memory and time caps, progress;
- :mod:`engine.core.warmup`: loading the compiled kernels ahead of the first run.

Nothing is imported here, so importing one module (the results, say) never loads numba.
"""
