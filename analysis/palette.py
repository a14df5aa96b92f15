"""One fixed colour per leadership style, shared by every report, figure and the teaching demo.

Colours come from the colour-blind-safe Okabe-Ito set and are tied to the style's
name, not to its position in a figure, so a style looks the same in a report of two
styles and in one of six. Numeric factors get a sequential palette whose lowest level
is clearly visible (the pale end of the colour map is cut off).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

STYLE_COLOURS: dict[str, str] = {
    "directive": "#0072B2",      # blue
    "transactional": "#E69F00",  # orange
    "facilitative": "#009E73",   # bluish green
    "shared": "#CC79A7",         # reddish purple
    "situational": "#D55E00",    # vermillion
    "laissez_faire": "#555555",  # dark grey: the baseline
}
"""Colour of each leadership style (hex), everywhere."""

STYLE_ORDER: tuple[str, ...] = tuple(STYLE_COLOURS)
OTHER_COLOURS: tuple[str, ...] = ("#332288", "#44AA99", "#882255", "#999933", "#6699CC", "#AA4499", "#117733",
                                  "#661100")
"""Colours of categorical levels that are not styles, in level order (Paul Tol's dark-enough set: no pale
yellow that vanishes on white)."""
SEQUENTIAL = "viridis"
SEQUENTIAL_RANGE = (0.12, 0.88)
"""Part of the sequential colour map used: neither end is near-white or near-black."""


def colours_for(levels: Sequence[Any], column: str | None = None) -> dict[Any, Any]:
    """Colour of each level: fixed per style, sequential for numbers, else a fixed categorical cycle."""
    import matplotlib as mpl
    import numpy as np

    levels = list(levels)
    if column == "leadership" or (levels and all(str(v) in STYLE_COLOURS for v in levels)):
        extra = iter(OTHER_COLOURS)
        return {v: STYLE_COLOURS.get(str(v)) or next(extra, "#777777") for v in levels}
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in levels)
    if numeric and len(levels) > 1:
        cmap = mpl.colormaps[SEQUENTIAL]
        lo, hi = SEQUENTIAL_RANGE
        ordered = sorted(levels)
        return {v: mpl.colors.to_hex(cmap(lo + (hi - lo) * i / (len(ordered) - 1))) for i, v in enumerate(ordered)}
    return {v: OTHER_COLOURS[i % len(OTHER_COLOURS)] for i, v in enumerate(levels)}
