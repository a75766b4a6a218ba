"""One palette and one marker table for the widgets that draw series (FrontierPlot, TrainingMonitor).

The data-centric widgets draw positive / negative in the first two colours (datacentric.css, and ``color(0)`` /
``color(1)`` in their matplotlib fallbacks); tests/test_palette.py holds all of them to this module.

Defined here once. The widgets send ``PALETTE`` to the browser as their ``_palette`` trait (common.js's
``seriesStyle`` and markers.js read it), and their matplotlib fallbacks (``_png``) draw with ``color`` and
``marker`` from this module, so a notebook's live widget and its static picture agree.

Colours: Okabe & Ito's colourblind-safe set (Okabe & Ito, "Color Universal Design", 2008; Wong, "Points of
view: Color blindness", Nature Methods 8:441, 2011). ``LIGHT`` is for light backgrounds: orange and sky blue
are darkened (#E69F00 -> #B07D00, #56B4E9 -> #3A8FC0: 2.3:1 -> 3.6:1 against white), yellow (1.3:1) is left
out and black, the text colour, becomes grey; a brown completes eight. Every colour has at least WCAG 2.1's
3:1 non-text contrast against white. ``DARK`` holds lighter variants of the same hues for dark themes (at
least 8:1 against JupyterLab's dark #111111). tests/test_palette.py checks both.

Markers: SAEBench's TRAINER_MARKERS (matplotlib marker names) per architecture, so the same architecture
keeps its shape across papers' plots; ``MARKER_CYCLE`` for any other architecture, by order of appearance.
The browser draws the same shapes as SVG paths (static/markers.js).
"""

from __future__ import annotations

LIGHT = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#B07D00", "#3A8FC0", "#8C6D1F", "#666666")
"""Series colours on light backgrounds (and in the matplotlib fallbacks), in the order series take them."""

DARK = ("#56B4E9", "#FF8C42", "#2EC79B", "#E9A3CA", "#F0C040", "#9FD3F5", "#D8B46A", "#B0B0B0")
"""The same hues, lighter, on dark backgrounds; ``DARK[k]`` stands in for ``LIGHT[k]``."""

MARKERS = {
    "relu": "o",
    "standard": "o",
    "jumprelu": "X",
    "topk": "^",
    "batchtopk": "s",
    "batch_topk": "s",
    "gated": "D",
    "matryoshka": "*",
    "p_anneal": "P",
}
"""Architecture -> matplotlib marker name (SAEBench's TRAINER_MARKERS)."""

MARKER_CYCLE = ("o", "X", "^", "s", "D", "*", "P", "v")
"""Markers for architectures not in ``MARKERS``: the k-th architecture drawn takes ``MARKER_CYCLE[k % 8]``."""

PALETTE = {"light": LIGHT, "dark": DARK, "markers": MARKERS, "marker_cycle": MARKER_CYCLE}
"""What the browser gets (the ``_palette`` trait, JSON): see the ``Palette`` typedef in static/common.js."""


def color(k: int) -> str:
    """The colour of the k-th series (light background), as the browser draws it in a light theme."""
    return LIGHT[k % len(LIGHT)]


def marker(architecture: str, k: int) -> str:
    """The matplotlib marker of ``architecture``, the k-th one drawn."""
    return MARKERS.get(architecture, MARKER_CYCLE[k % len(MARKER_CYCLE)])
