"""What to compress (:class:`CompressionSettings`) and what was done (:class:`CompressionReport`).

Plain data: the settings check their own ranges, the report is rows of numbers and text the
CLI prints as JSON and the workbench shows as tables.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.errors import SpikeStudioError

#: Weight precisions the quantiser offers (symmetric: q in [-(2**(K-1) - 1), 2**(K-1) - 1]).
WEIGHT_BITS = range(2, 9)
#: Latency-code precisions (2**K spike times per window).
SPIKE_TIME_BITS = range(1, 9)
#: How a layer's scale is chosen: ``max`` keeps the largest weight exactly, ``mse`` clips
#: the largest weights to minimise the squared rounding error of the layer.
WEIGHT_SCALES = ("max", "mse")


def _flag(name: str) -> str:
    """``weight_bits (--weight-bits)``: the field and the CLI flag that sets it."""
    return f"{name} (--{name.replace('_', '-')})"


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class CompressionSettings:
    """One compression of a project.

    Attributes
    ----------
    weight_bits
        Per-layer symmetric quantisation to K bits (2..8): every weight of a layer (the
        projections from one node to one population) becomes ``q * scale`` with integer
        ``q`` in ``[-(2**(K-1) - 1), 2**(K-1) - 1]``, so a layer holds at most ``2**K - 1``
        distinct values (0 included). None keeps the weights as they are (float32 in a run).
    weight_scale
        ``max``: ``scale = max|w| / (2**(K-1) - 1)`` (the largest weight is kept exactly,
        weights below half a step become 0); ``mse``: the scale (a fraction of that one)
        that minimises the layer's squared rounding error, clipping the largest weights to
        the top code (:func:`engine.compression.quantise.layer_scale`).
    prune
        Fraction of each projection's synapses removed, smallest ``|w|`` first, in [0, 1).
    prune_idle
        Remove the neurons of hidden populations that never spike on a calibration set
        (dynamic neuron pruning), with their synapses.
    spike_time_bits
        Quantise latency codes to ``2**K`` spike times per window (K = 1..8).
    """

    weight_bits: int | None = None
    weight_scale: str = "max"
    prune: float = 0.0
    prune_idle: bool = False
    spike_time_bits: int | None = None

    def __post_init__(self) -> None:
        bits = self.weight_bits
        if bits is not None and not (_whole(bits) and bits in WEIGHT_BITS):
            raise SpikeStudioError(f"{_flag('weight_bits')}: must be a whole number from "
                                   f"{WEIGHT_BITS[0]} to {WEIGHT_BITS[-1]}, got {bits!r}")
        if self.weight_scale not in WEIGHT_SCALES:
            raise SpikeStudioError(f"{_flag('weight_scale')}: must be one of "
                                   f"{', '.join(WEIGHT_SCALES)}, got {self.weight_scale!r}")
        prune = self.prune
        if isinstance(prune, bool) or not isinstance(prune, (int, float)) \
                or not math.isfinite(prune) or not 0.0 <= prune < 1.0:
            raise SpikeStudioError(f"{_flag('prune')}: must be a fraction in [0, 1) (0.5 "
                                   f"removes half of each projection's synapses), got "
                                   f"{prune!r}")
        if not isinstance(self.prune_idle, bool):
            raise SpikeStudioError(f"{_flag('prune_idle')}: must be true or false, got "
                                   f"{self.prune_idle!r}")
        bits = self.spike_time_bits
        if bits is not None and not (_whole(bits) and bits in SPIKE_TIME_BITS):
            raise SpikeStudioError(f"{_flag('spike_time_bits')}: must be a whole number from "
                                   f"{SPIKE_TIME_BITS[0]} to {SPIKE_TIME_BITS[-1]}, got "
                                   f"{bits!r}")

    @property
    def is_identity(self) -> bool:
        """Nothing to do: the compressed project is the project."""
        return (self.weight_bits is None and self.prune == 0 and not self.prune_idle
                and self.spike_time_bits is None)

    def label(self) -> str:
        """Short text for plots and tables, e.g. ``4-bit, prune 50 %, idle`` (``4-bit mse``
        with the ``mse`` scale)."""
        scale = " mse" if self.weight_scale == "mse" else ""
        parts = [f"{self.weight_bits}-bit{scale}" if self.weight_bits else "float32"]
        if self.prune:
            parts.append(f"prune {self.prune * 100:g} %")
        if self.prune_idle:
            parts.append("idle")
        if self.spike_time_bits:
            parts.append(f"{2 ** self.spike_time_bits} spike times")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LayerRow:
    """One layer: the projections from ``source`` to ``target``, sharing one scale.

    ``distinct_values`` counts the distinct weights of the layer's synapses as a run holds
    them (float32, 0 excluded: a synapse of weight 0 is no synapse in a matrix).
    ``zero_weight`` are synapses dropped because their weight is 0 after quantisation
    (rounded to zero) or was 0 already; ``idle_removed`` those of removed neurons.
    """

    layer: str
    source: str
    target: str
    projections: list[str]
    bits: int | None
    scale: float | None
    distinct_values: int
    synapses_before: int
    pruned: int
    zero_weight: int
    idle_removed: int
    synapses_after: int


@dataclass
class PopulationRow:
    """Neurons of one population before and after idle-neuron pruning."""

    population: str
    neurons_before: int
    neurons_after: int
    silent: int          # never spiked on the calibration set
    prunable: bool       # False for output populations (their neuron i is class i)


@dataclass
class CompressionReport:
    """What :func:`~engine.compression.compress` did, and the sizes before and after.

    ``computation`` (with idle pruning) holds the calibration run's counts before and
    after the silent neurons went: ``synaptic_events``, ``neuron_updates`` and ``spikes``
    (totals over the calibration samples) and the fractions saved.
    """

    settings: CompressionSettings
    layers: list[LayerRow] = field(default_factory=list)
    populations: list[PopulationRow] = field(default_factory=list)
    size_bytes_before: int = 0
    size_bytes_after: int = 0
    synapses_before: int = 0
    synapses_after: int = 0
    neurons_before: int = 0
    neurons_after: int = 0
    calibration: dict[str, Any] | None = None
    computation: dict[str, Any] | None = None
    spike_times: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def size_reduction(self) -> float:
        """Fraction of the model's bytes saved (0.875: an eighth is left)."""
        return 1.0 - self.size_bytes_after / self.size_bytes_before \
            if self.size_bytes_before else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the settings, every row and figure, and the size reduction."""
        out = asdict(self)
        out["settings"]["label"] = self.settings.label()
        out["size_reduction"] = self.size_reduction
        return out
