"""Energy: what a run's operation counts cost on a hardware profile.

``profiles`` holds the sourced per-operation figures (``HardwareProfile``, ``load_profiles``),
``model`` prices a run's counts with them (``energy_breakdown``, ``energy_totals``) and
``tables`` turns that into the plain tables an energy view draws (``energy_table``).
"""

__all__ = ["model", "profiles", "tables"]
