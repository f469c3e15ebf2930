"""An invisible marker that scrolls the page to itself on request.

Put it just above a region that appears below the fold (e.g. results). Increment ``armed``
when the user starts something whose outcome lands there (a run) and ``reveal`` when it has
landed: the page scrolls the marker to the top of the window, unless the user scrolled the
page in between (then they are reading something else and the page stays where it is).
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param

__all__ = ["ScrollAnchor"]

_ESM = """
const MOVED_PX = 40;  // scrolling more than this since `armed` means the user moved away

function pageScroller(el) {
  return el.ownerDocument.scrollingElement || el.ownerDocument.documentElement;
}

export function render({ model, el }) {
  const mark = document.createElement("div");
  mark.className = "ss-scroll-anchor";
  mark.setAttribute("data-testid", "results-anchor");
  let armedAt = null;
  model.on("armed", () => {
    armedAt = pageScroller(el).scrollTop;
    mark.dataset.armed = String(model.armed);  // tests wait for it: the request has arrived
  });
  model.on("reveal", () => {
    const scroller = pageScroller(el);
    const moved = armedAt !== null && Math.abs(scroller.scrollTop - armedAt) > MOVED_PX;
    armedAt = null;
    mark.dataset.revealed = String(model.reveal);
    if (moved) return;
    // The results arrive in the same patch as this request and are laid out after it: scroll
    // once they are, and again after late layout (unless the user scrolled meanwhile).
    // Instant, not smooth: a smooth scroll repaints every plot on each frame.
    let placed = null;
    const place = () => {
      if (placed !== null && Math.abs(scroller.scrollTop - placed) > MOVED_PX) return;
      // Results that start in the upper 60 % of the window are in view already: the page
      // stays put (a scroll would only hide what is above them).
      const top = mark.getBoundingClientRect().top;
      if (placed === null && top >= 0 && top < 0.6 * window.innerHeight) return;
      mark.scrollIntoView({ block: "start" });
      placed = scroller.scrollTop;
    };
    requestAnimationFrame(() => requestAnimationFrame(place));
    setTimeout(place, 300);
    setTimeout(place, 1000);
  });
  return mark;
}
"""


class ScrollAnchor(pn.custom.JSComponent):
    """Zero-height marker scrolled into view when ``reveal`` changes (see module docstring)."""

    armed = param.Integer(default=0, doc="Increment when the awaited action starts.")
    reveal = param.Integer(default=0, doc="Increment to bring the marker into view.")

    _esm = _ESM

    def __init__(self, **params: Any) -> None:
        params.setdefault("height", 1)
        params.setdefault("margin", 0)
        params.setdefault("sizing_mode", "stretch_width")
        super().__init__(**params)
