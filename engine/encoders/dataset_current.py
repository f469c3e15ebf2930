"""Dataset presentation as per-channel constant currents (as R*I, mV); size rule, windows and
reset steps from :mod:`engine.encoders.samples`."""

from __future__ import annotations

import numpy as np

from engine.encoders import samples
from engine.encoders.base import CurrentSchedule
from engine.encoders.samples import SIZE_RULE, fixed_size, reset_steps, windows  # noqa: F401
from engine.params import ModelSpec

SPEC = ModelSpec(
    "dataset_current", "Dataset (currents)",
    "Presents samples one after the other as constant inputs: channel j of a sample "
    "with value x drives its targets with x (mV, as R*I) times the projection's weights "
    "for present_ms; zero during the pause.",
    samples.PARAMS,
)
#: Any value is a current: no range beyond the parameter's own.
UNIT_RANGE = False


def check(values: dict, size: int | None) -> list[tuple[str, str]]:
    return samples.check_samples(values, unit_range=UNIT_RANGE)


def schedule(values: dict, dt_ms: float) -> CurrentSchedule:
    """Per-channel amplitudes (changes, channels): each sample from its start, zero from its
    end (dropped where the next sample starts). Every sample is scheduled; the run reads the
    ones it reaches."""
    w = samples.dataset_windows(values, dt_ms, None)
    x = samples.shown_samples(values, w)
    zero = np.zeros_like(x)
    k = np.stack([w.start, w.end], axis=1).ravel()
    amp = np.stack([x, zero], axis=1).reshape(-1, x.shape[1])
    keep = np.append(k[1:] != k[:-1], True)
    return CurrentSchedule(k[keep], amp[keep])
