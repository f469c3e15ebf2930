"""Test settings shared by every test module.

Property-based tests (hypothesis) run derandomized by default, so CI sees the same examples
on every run and `main` stays green for reasons in the code, not in the dice. To explore new
examples, run with ``HYPOTHESIS_PROFILE=explore`` (random seeds: every run draws new ones).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
