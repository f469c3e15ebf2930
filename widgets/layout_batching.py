"""One page layout per server patch (see ``layout_batching.js`` for why).

Add one :class:`LayoutBatching` anywhere on a page: it draws nothing and, once rendered,
makes BokehJS lay the page out once after each patch from the server instead of once per
widget the patch changes. Views the patch does not change keep their layout; what the user
sees is the same, reached with fewer whole-page layouts.
"""

from __future__ import annotations

from pathlib import Path

import panel as pn


class LayoutBatching(pn.custom.JSComponent):
    """Invisible component that batches the page's layouts per server patch."""

    _esm = Path(__file__).with_name("layout_batching.js")

    def __init__(self, **params) -> None:
        params.setdefault("width", 0)
        params.setdefault("height", 0)
        params.setdefault("margin", 0)
        super().__init__(**params)
