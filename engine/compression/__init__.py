"""Model compression: weight quantisation, magnitude pruning, idle-neuron pruning and
spike-time quantisation, with the model size, accuracy and energy before and after.

- :func:`compress` -- a compressed copy of a project and a :class:`CompressionReport`;
- :func:`model_size_bytes` -- what a deployment stores (storage model in
  :mod:`engine.compression.size`);
- :func:`evaluate_settings` -- a sweep of :class:`CompressionSettings` measured on a test
  set (:class:`CompressionPoint`), and :func:`pareto_front` of accuracy vs energy.

A compressed project is an ordinary project document (quantised weights are stored as the
exact grid values ``q * scale`` in ``matrix`` projections): it validates, saves, loads and
runs like any other.
"""

from engine.compression.calibration import default_calibration, hidden_populations
from engine.compression.compress import ProgressCallback, check_applicable, compress
from engine.compression.quantise import grid_bits, q_max
from engine.compression.settings import (
    SPIKE_TIME_BITS,
    WEIGHT_BITS,
    WEIGHT_SCALES,
    CompressionReport,
    CompressionSettings,
    LayerRow,
    PopulationRow,
)
from engine.compression.size import LayerSize, model_size_bytes, size_breakdown
from engine.compression.sweep import (
    DEFAULT_SWEEP,
    CompressionPoint,
    evaluate_settings,
    measure,
    pareto_front,
)

__all__ = [
    "DEFAULT_SWEEP", "SPIKE_TIME_BITS", "WEIGHT_BITS", "WEIGHT_SCALES", "CompressionPoint",
    "CompressionReport", "CompressionSettings", "LayerRow", "LayerSize", "PopulationRow",
    "ProgressCallback", "check_applicable", "compress", "default_calibration",
    "evaluate_settings", "grid_bits", "hidden_populations", "measure", "model_size_bytes",
    "pareto_front", "q_max", "size_breakdown",
]
