"""Evaluation: how a spiking network does on inputs (labelled data, workloads).

``datasets`` loads labelled data (``load_dataset``, ``Dataset``); ``classify`` presents its
samples in one run, reads out a class and scores it (``with_dataset``, ``readout``,
``evaluate``); ``ann_reference`` is the dense ANN a converted classifier stands for (its
predictions, MACs and energy); ``presentation_sweep`` scores accuracy against presentation
time; ``scenario_fit`` runs the project's scenarios (``engine.scenarios``) and rates the fit
(``run_scenarios``, ``fit_matrices``).
"""

__all__ = ["ann_reference", "classify", "datasets", "presentation_sweep", "scenario_fit"]
