"""Connectivity: how a projection's synapses are chosen.

``rules`` holds the rules and their parameters (``CONNECTIVITY_RULES``; read by validation and
the inspector, importing no numba); ``generate`` draws a projection's synapses as CSR lists
(``connect``, ``expected_synapses``).
"""

__all__ = ["generate", "rules"]
