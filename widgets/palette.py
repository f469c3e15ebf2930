"""The one place that decides colours, so every view shows a population in the same colour."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bokeh.palettes import Category10_10

PALETTE: tuple[str, ...] = tuple(Category10_10)


def population_colors(names: Iterable[str],
                      overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Colour per population: the k-th name gets the k-th palette entry (cycling).

    Parameters
    ----------
    names
        Population ids in display order (e.g. the keys of the node sizes).
    overrides
        Explicit colours (any CSS colour) that take precedence.

    Returns
    -------
    dict
        Population id -> colour.
    """
    overrides = dict(overrides or {})
    return {name: overrides.get(name, PALETTE[k % len(PALETTE)])
            for k, name in enumerate(names)}


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """``"#1f77b4"`` or ``"#17b"`` -> ``(31, 119, 180)``; named colours go through Bokeh."""
    if not color.startswith("#"):
        from bokeh.colors import named

        return hex_to_rgb(getattr(named, color.lower()).to_hex())
    value = color[1:]
    if len(value) in (3, 4):
        value = "".join(c * 2 for c in value[:3])
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
