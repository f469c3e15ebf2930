"""What every plasticity rule file shares: the parameter row width and the weight bounds.

A plasticity rule is one module in ``engine/plasticity/`` (registered in
``engine/plasticity/__init__.py``) with ``SPEC`` (its :class:`~engine.params.ModelSpec`, with
``w_min`` / ``w_max``), named index constants of its packed parameters (at least ``W_MIN`` and
``W_MAX``), ``pack(values) -> np.ndarray`` (length :data:`N_PLASTICITY_PARAMS`) and
``TRACE_TAUS``: the index constants of the time constants of its traces, for which the
simulator tabulates exp(-n dt / tau) (empty when it keeps no traces), and
``CREDITS_SYNAPSES`` (whether it needs the kernel's per-synapse ``credited`` flags). The kernel
(``engine.kernels``: ``_arrive`` at pre-spike arrival, ``_plastic_posts`` at post spikes)
reads the parameters through those names.
"""

from __future__ import annotations

from engine.params import ParamSpec

#: Width of the per-projection parameter row the kernel receives.
N_PLASTICITY_PARAMS = 10

W_MIN_SPEC = ParamSpec("w_min", "mV", 0.0, "Lower weight bound.", minimum=0.0)
W_MAX_SPEC = ParamSpec("w_max", "mV", 1.0, "Upper weight bound.", minimum=0.0)
