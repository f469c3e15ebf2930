"""Progress of a run between chunks: plain data, importable without numba (the server reads it)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """Progress report passed to the callback between chunks."""

    t_ms: float
    duration_ms: float
    elapsed_s: float
    spikes: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.t_ms / self.duration_ms) if self.duration_ms > 0 else 1.0

    @property
    def eta_s(self) -> float:
        """Estimated wall time left (NaN until some progress was made)."""
        if self.fraction <= 0:
            return math.nan
        return self.elapsed_s * (1.0 - self.fraction) / self.fraction

