"""Per-neuron (heterogeneous) parameters of populations.

A population's numeric parameter may be one number, a distribution drawn per neuron, an
inline list of ``size`` numbers or ``{"array": KEY}``, a per-neuron array kept in the
project's companion file ``<stem>.arrays.npz``. :mod:`engine.hetero.values` checks and
resolves these forms; :mod:`engine.hetero.companion` reads and writes the companion file;
:func:`engine.core.per_neuron.resolve_neuron_params` gives a node's values for a run.
"""
