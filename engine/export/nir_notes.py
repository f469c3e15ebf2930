"""What a NIR import approximated, in sentences (one list per import).

NIR describes continuous-time dynamics without a time step and without units for voltages;
SpikeStudio integrates them in steps of ``dt`` in ms and mV. The importer
(:mod:`engine.export.nir_import`) collects, for every import, one sentence per thing it had to
read or approximate: the units, the time step it used and where it came from, and per node
how the node's dynamics are discretised at that step. The CLI prints the list and the page
shows it after the import; the project keeps it in its description.
"""

from __future__ import annotations

import numpy as np

#: dt / tau above which a node's discretisation is called coarse (spike timing and the
#: one-step reading of a spike pulse then differ visibly from the continuous equations).
COARSE_RATIO = 0.1


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:g} ms"


def _span(values: np.ndarray, unit: str = "") -> str:
    """``a`` when all values are equal, else ``a .. b`` (per neuron)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    suffix = f" {unit}" if unit else ""
    return f"{lo:g}{suffix}" if lo == hi else f"{lo:g} .. {hi:g}{suffix} (per neuron)"


def general_notes(dt_ms: float, dt_source: str, pulse_s: float, pulse_source: str) -> list[str]:
    """The sentences every mapped import starts with: time step, spike reading, units."""
    return [
        f"Time step: dt = {dt_ms:g} ms ({dt_source}). NIR's continuous-time equations are "
        f"integrated exactly between steps (exponential propagators); a neuron spikes when "
        f"v >= v_threshold at the end of a step (NIR: v > v_threshold at any time), so spike "
        f"times fall on the dt grid, and after a spike v restarts from v_reset at the next "
        f"step.",
        f"Spikes: a NIR spike is read as a unit pulse lasting {_ms(pulse_s)} "
        f"({pulse_source}), applied as one jump at its start (the rise during the pulse is "
        f"not resolved).",
        "Units: NIR times (s) became ms (x 1000); voltages, thresholds and weights were taken "
        "as mV (NIR states no voltage unit); r and w_in were folded into the projections' "
        "weights and the biases (SpikeStudio's weights and i_offset are R*I in mV).",
        "Initial state: NIR holds none; v starts at v_leak (0 mV for IF and I nodes) and "
        "synaptic currents at 0, unless SpikeStudio's metadata holds an initial potential.",
    ]


def restored_note(dt_ms: float) -> list[str]:
    """The list of an unedited SpikeStudio export: nothing was approximated."""
    return [f"Unedited SpikeStudio export: the project it was written from was restored "
            f"exactly from the file's metadata (dt = {dt_ms:g} ms); nothing was approximated."]


def node_note(name: str, kind: str, size: int, taus: dict[str, np.ndarray],
              dt_ms: float, project_id: str, model: str) -> str:
    """How one neuron node's dynamics are discretised at ``dt_ms``.

    ``taus`` maps a NIR field name (``tau_mem``, ``tau_syn``, ``tau``) to its per-neuron
    values in seconds; an integrator without time constant passes an empty dict.
    """
    head = (f"Node {name!r} ({kind}, {size} neuron{'s' if size != 1 else ''}) -> {model} "
            f"population {project_id!r}")
    if not taus:
        return f"{head}: integrated exactly at dt = {dt_ms:g} ms (no leak)."
    parts = ", ".join(f"{k} = {_span(v * 1e3, 'ms')}" for k, v in taus.items())
    shortest = min(float(np.min(v)) for v in taus.values()) * 1e3
    ratio = dt_ms / shortest
    text = (f"{head}: {parts}, integrated exactly at dt = {dt_ms:g} ms "
            f"(dt / shortest tau = {ratio:.3g})")
    if ratio > COARSE_RATIO:
        text += (f"; coarse: dt is more than {COARSE_RATIO:g} of a time constant, so spike "
                 f"times and the one-step reading of spikes differ visibly from the "
                 f"continuous equations (import with a smaller --dt-ms)")
    return text + "."


def bias_note(name: str, project_id: str, offset: np.ndarray, tau_syn_s: float | None) -> str:
    """An Affine bias that became ``i_offset`` (through a synapse when ``tau_syn_s``)."""
    text = (f"Node {name!r}: the Affine biases arriving at it became i_offset = "
            f"{_span(offset, 'mV')} on population {project_id!r}")
    if tau_syn_s:
        text += (f"; NIR feeds a bias through the synapse (tau_syn = {_ms(tau_syn_s)}), "
                 f"SpikeStudio puts it on the membrane from t = 0, so the first few tau_syn "
                 f"(about {_ms(5 * tau_syn_s)}) differ slightly (the steady drive is the same)")
    return text + "."


def input_note(name: str, size: int, project_id: str) -> str:
    """An ``Input`` without SpikeStudio metadata: an input port the user connects."""
    return (f"Input {name!r} ({size} channel{'s' if size != 1 else ''}) became the input port "
            f"{project_id!r}: a silent spike-times input. Replace it by choosing another "
            f"Model in its inspector (Poisson, regular, a dataset of {size} features, ...): "
            f"its projections read it as spikes (one spike per step = a constant input "
            f"of 1); a current input would need the weights multiplied by tau_syn / dt.")


def integrator_note(name: str) -> str:
    """An ``I`` (integrator) node, which SpikeStudio has no non-spiking model for."""
    return (f"Integrator {name!r} became an integrate-and-fire population with v_thresh = "
            f"100 mV (the highest), so it does not spike below that.")
