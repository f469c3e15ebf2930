"""The kernel's inputs: a run's arrays grouped in five typed containers.

:func:`engine.core.kernels.run_chunk` takes the time range, the input events of the chunk and
these five named tuples of numpy arrays (numba types each as a tuple of arrays and reads the
fields by name, and caches the compiled kernel on disk like one with flat arguments):

- :class:`Network`: the compiled network's topology, with the run's own weights;
- :class:`Neurons`: membrane, synaptic and refractory state and the synaptic delay rings;
- :class:`Plasticity`: the rules' parameters, traces and queues of pre spikes;
- :class:`Recording`: the spike record, operation counts, state monitors, weight trajectories;
- :class:`Watch`: the breakpoints' conditions and the hit the kernel reports.

The arrays are the run's (:class:`engine.simulator.Simulation` owns and resizes them); a
container is only a view of them for one kernel call, so it is built afresh for each call by
:meth:`Simulation.kernel_data`. Shapes: ``n`` neurons, ``n_nodes`` nodes, ``n_proj``
projections, ``ring`` the synaptic delay ring (longest delay + 1), ``n_bins`` count bins.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Network(NamedTuple):
    """What the compiled network fixes (``engine.core.build.CompiledNetwork``), and the weights."""

    bin_steps: int             # steps per count bin
    dt: float                  # ms
    threads: int               # threads that update the neurons (engine.core.kernels)
    node_type: np.ndarray      # int32 (n_nodes,) neuron model code, < 0 for an encoder
    node_start: np.ndarray     # int64 (n_nodes + 1,) global neuron range of each node
    node_params: np.ndarray    # float64 (n_nodes, N_NODE_PARAMS) the models' packed constants
    node_record: np.ndarray    # bool (n_nodes,) record the node's spikes
    node_of: np.ndarray        # int32 (n,) node of each neuron
    proj_tgt: np.ndarray       # int32 (n_proj,) target node
    proj_inh: np.ndarray       # int8 (n_proj,) 1 = inhibitory receptor
    proj_row_off: np.ndarray   # int64 (n_proj,) offset into rowptr
    proj_syn_off: np.ndarray   # int64 (n_proj + 1,) offset into the synapse arrays
    proj_delay: np.ndarray     # int64 (n_proj,) one delay in steps, -1 = per synapse
    proj_dsyn_off: np.ndarray  # int64 (n_proj,) offset into syn_delay (per-synapse delays)
    rowptr: np.ndarray         # int64 CSR rows (pre neurons) of every projection
    syn_post: np.ndarray       # int32 target neuron within its node
    syn_weight: np.ndarray     # float32 the run's weights (plasticity rewrites them)
    syn_delay: np.ndarray      # uint16 per-synapse delays in steps
    out_proj_ptr: np.ndarray   # int64 (n_nodes + 1,) projections leaving each node
    out_proj: np.ndarray       # int32
    node_hetero: np.ndarray    # int64 (n_nodes,) start of a node's block in neuron_params, -1
    neuron_params: np.ndarray  # float64 per-neuron packed constants: a block (N_NODE_PARAMS,
    #                            size) per heterogeneous node, flattened (engine.core.build)


class Neurons(NamedTuple):
    """The neurons' state (the state variables' kernel arrays, engine.neurons.base)."""

    v: np.ndarray      # float64 (n,) membrane potential
    u: np.ndarray      # float64 (n,) the model's auxiliary variable
    ie: np.ndarray     # float64 (n,) excitatory synaptic current
    ii: np.ndarray     # float64 (n,) inhibitory synaptic current
    iext: np.ndarray   # float64 (n,) external input of this chunk
    ref: np.ndarray    # int64 (n,) refractory steps left
    buf_e: np.ndarray  # float64 (ring, n) excitatory arrivals per delay slot
    buf_i: np.ndarray  # float64 (ring, n) inhibitory arrivals per delay slot


class Plasticity(NamedTuple):
    """The plastic projections' rules (engine.plasticity), traces and pre-spike queues."""

    rule: np.ndarray        # int32 (n_proj,) rule code, 0 = static
    params: np.ndarray      # float64 (n_proj, N_PLASTICITY_PARAMS) packed rule parameters
    col_off: np.ndarray     # int64 (n_proj,) offset into colptr
    pre_off: np.ndarray     # int64 (n_proj,) offset into the pre-side state
    post_off: np.ndarray    # int64 (n_proj,) offset into the post-side state
    pend_off: np.ndarray    # int64 (n_proj,) offset into the queue of pre spikes
    dmax: np.ndarray        # int64 (n_proj,) longest delay in steps
    colptr: np.ndarray      # int64 CSC columns (post neurons) of plastic projections
    col_syn: np.ndarray     # int64 synapse of each CSC entry
    col_pre: np.ndarray     # int32 pre-side state index of each CSC entry
    pre_trace: np.ndarray   # float64 pre-side traces (per pre neuron or per synapse)
    pre_last: np.ndarray    # int64 step of their last update
    post_trace: np.ndarray  # float64 post-side traces
    post_last: np.ndarray   # int64 step of their last update
    credited: np.ndarray    # uint8 per-synapse flags of rules that credit synapses
    pend: np.ndarray        # int32 (pring, width) queued pre neurons
    pend_n: np.ndarray      # int64 (pring, n_proj) queue lengths
    pend_cur: np.ndarray    # int64 row position reached (per-synapse delays)
    pend_k: np.ndarray      # int64 (pring, n_proj) emission step of a slot (per-synapse delays)
    decay_tab: np.ndarray   # float64 exp(-n dt / tau) tables of the traces
    tab_off: np.ndarray     # int64 (n_proj, 2) where each projection's tables start
    tab_len: np.ndarray     # int64 (n_proj, 2) and their lengths


class Recording(NamedTuple):
    """What the run records: spikes, operation counts, state traces, weight trajectories."""

    spk_k: np.ndarray         # int64 step of each recorded spike
    spk_gid: np.ndarray       # int32 its neuron
    n_spk: np.ndarray         # int64 (1,) spikes recorded so far
    spk_now: np.ndarray       # int32 scratch: the spikes of the current step
    cnt_spikes: np.ndarray    # int64 (n_bins, n_nodes)
    cnt_active: np.ndarray    # int64 (n_bins, n_nodes) neuron updates with input
    cnt_syn: np.ndarray       # int64 (n_bins, n_proj) synaptic events
    cnt_plast: np.ndarray     # int64 (n_bins, n_proj) plasticity updates
    hw_steps: np.ndarray      # int64 (n_hw,) hardware steps tracked for energy, in steps
    hw_flag: np.ndarray       # uint8 (n_hw, hring, n) neuron active in a hardware step
    cnt_hw: np.ndarray        # int64 (n_hw, n_bins, n_nodes) active hardware updates
    mon_interval: np.ndarray  # int64 (n_mon,) sampling interval of each monitor, in steps
    mon_off: np.ndarray       # int64 (n_mon,) where its samples start in tr_out
    mon_ch_ptr: np.ndarray    # int64 (n_mon + 1,) its channels
    ch_gid: np.ndarray        # int64 neuron of each channel
    ch_var: np.ndarray        # int32 state array of each channel (engine.neurons.base.V ...)
    tr_out: np.ndarray        # float64 the samples
    wt_syn: np.ndarray        # int64 synapses whose weight trajectories are recorded
    wt_interval: int          # steps between two trajectory samples
    wt_out: np.ndarray        # float32 the samples


class Watch(NamedTuple):
    """The breakpoints (engine.core.breakpoints) as the kernel checks them (empty: none)."""

    watch: np.ndarray       # uint8 (n,) or (0,) 1 = this neuron's spike pauses the run
    rate_node: np.ndarray   # int64 (n_rate,) node of each rate condition
    rate_window: np.ndarray  # int64 (n_rate,) its window in steps
    rate_from: np.ndarray   # int64 (n_rate,) first step it is checked at
    rate_scale: np.ndarray  # float64 (n_rate,) spikes in the window -> Hz
    rate_above: np.ndarray  # float64 (n_rate,) pause above (inf: no bound)
    rate_below: np.ndarray  # float64 (n_rate,) pause below (-inf: no bound)
    rate_ring: np.ndarray   # int64 (n_rate, window) spikes per step of the window
    rate_sum: np.ndarray    # int64 (n_rate,) their sum
    node_now: np.ndarray    # int64 (n_nodes,) scratch: spikes of each node this step
    wb_proj: np.ndarray     # int64 (n_wb,) projection of each weight condition
    wb_lo: np.ndarray       # float64 (n_wb,) its range
    wb_hi: np.ndarray       # float64 (n_wb,)
    wb_seen: np.ndarray     # int64 (n_wb,) scratch: plasticity updates before this step
    hit: np.ndarray         # int64 (3,) out: what fired (engine.core.kernels.HIT_*), row, which
