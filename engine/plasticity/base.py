"""What every plasticity rule file shares: the parameter row width, the weight bounds and
the helpers of the rules' step functions.

A plasticity rule is one module in ``engine/plasticity/`` (registered in
``engine/plasticity/__init__.py``) with these names:

``SPEC``
    Its :class:`~engine.params.ModelSpec`, with ``w_min`` / ``w_max``.
``W_MIN``, ``W_MAX`` (and other named index constants)
    The layout of its packed parameters.
``pack(values) -> np.ndarray``
    The packed parameters (length :data:`N_PLASTICITY_PARAMS`).
``TRACE_TAUS``
    The index constants of the time constants of its traces, for which the simulator
    tabulates exp(-n dt / tau) (empty when it keeps no traces).
``CREDITS_SYNAPSES``
    Whether it needs the kernel's per-synapse ``credited`` flags.
``arrive(pl, p, k, i, r0, r1, per_synapse, local, base, out, syn_post, syn_weight, buf_e, dt)``
    Synapses ``r0:r1`` of pre neuron ``i`` of projection ``p`` receive its spike at step
    ``k``: deliver each weight to ``buf_e[out, base + post]`` and update it. ``pl`` is the
    kernel's :class:`~engine.core.kernel_data.Plasticity`; the pre-side state index is
    ``pl.pre_off[p] + i``, or with ``per_synapse`` (per-synapse delays) ``local + syn``.
``post_spike(pl, p, k, j, syn_weight, dt) -> int``
    Post neuron ``j`` of projection ``p``'s target spiked at step ``k`` (after the arrivals
    of that step): update its incoming synapses and post-side state; return the number of
    plasticity updates.

Like a neuron model's ``step``, ``arrive`` and ``post_spike`` are plain Python written for
numba: ``engine.core.kernels`` compiles and inlines them (and the helpers they call that are
marked :func:`~engine.neurons.base.kernel_function`), dispatching on the rule's code. A
``post_spike`` that walks the CSC index should ask for its weights ahead
(:func:`prefetch_column`, :func:`prefetch`, as ``stdp.post_spike`` does).
"""

from __future__ import annotations

from engine.neurons.base import kernel_function
from engine.params import ParamSpec

#: Width of the per-projection parameter row the kernel receives.
N_PLASTICITY_PARAMS = 10

W_MIN_SPEC = ParamSpec("w_min", "mV", 0.0, "Lower weight bound.", minimum=0.0)
W_MAX_SPEC = ParamSpec("w_max", "mV", 1.0, "Upper weight bound.", minimum=0.0)


#: How many CSC entries ahead a post-spike pass asks for the weight it will update next
#: (:func:`prefetch`; of 4, 8, 16 and 32 on CUBA's STDP, 8 and 16 did best, bench/RESULTS.md).
PREFETCH_AHEAD = 8


def prefetch(array, index):  # pragma: no cover - replaced in the kernel
    """A hint that ``array[index]`` is read soon: nothing in Python; in the kernel the CPU
    starts loading it into its caches (:mod:`engine.core.memory_hints`). No value changes."""
    return None


prefetch.kernel_overload = True


@kernel_function
def prefetch_column(syn_weight, col_syn, e0, e1):  # pragma: no cover - compiled
    """Start loading the weights of the first :data:`PREFETCH_AHEAD` CSC entries of
    ``e0:e1``; the pass then asks for entry ``e + PREFETCH_AHEAD`` at entry ``e``. A post
    neuron's incoming weights lie scattered over the weights of every pre neuron: without
    the hint each read waits on memory in turn."""
    for e in range(e0, min(e0 + PREFETCH_AHEAD, e1)):
        prefetch(syn_weight, col_syn[e])


@kernel_function
def clip(w, lo, hi):  # pragma: no cover - compiled
    """``w`` within [lo, hi]."""
    return lo if w < lo else (hi if w > hi else w)


@kernel_function
def decayed(value, dk, decay_tab, off, length):  # pragma: no cover - compiled
    """A trace ``dk`` steps after it was ``value`` (0 once the table ends, below e^-30)."""
    return value * (decay_tab[off + dk] if dk < length else 0.0)
