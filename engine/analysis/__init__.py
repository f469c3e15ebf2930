"""Analysis of runs: what a run's spikes, traces and project say, for the views.

``activity`` (network activity frames for playback), ``neuron_stats`` (one neuron: ISI
histogram, STA, rankings), ``neuron_probe`` (one neuron recorded again by re-running the
project), ``run_comparison`` (two runs side by side) and ``project_diff`` (what changed between
two project documents). The spike-train statistics they build on (rates, CV, per-population
and per-neuron summaries) are ``engine.spike_stats``, which results use too.
"""

__all__ = ["activity", "neuron_probe", "neuron_stats", "project_diff", "run_comparison"]
