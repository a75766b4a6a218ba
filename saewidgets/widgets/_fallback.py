"""The matplotlib fallbacks: the static PNG a widget adds to its repr, for GitHub and nbviewer (no JS).

Every figure is drawn on its own Agg canvas, never through pyplot, so a widget's repr leaves the notebook's
matplotlib backend and open figures alone. matplotlib is imported when a picture is drawn, not before.
``bar_rows_png`` is the ranked-list picture that ClusterBrowser and RetrievalBox share.

User text (labels, titles, names, documents) is drawn as written: ``literal_text`` turns mathtext off, so
``$5 and $10`` is not set as math and ``$$`` or an unknown ``\\command`` cannot raise.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence

import numpy as np


def new_figure(**kwargs):
    """A matplotlib Figure on its own Agg canvas: drawing it never touches pyplot or the notebook backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


@contextlib.contextmanager
def literal_text():
    """Within it, new matplotlib text is drawn literally and missing glyphs draw quietly.

    - ``text.parse_math`` off: a label with two ``$`` would otherwise be set as math (``$5 and $10`` in
      italics) and ``$$`` or an unknown ``\\command`` would raise, losing the picture.
    - "Glyph ... missing from font" warnings ignored: a token in a script the font lacks (CJK, emoji) would
      print one red stderr line per glyph above the widget. A fallback picture showing a box for it is
      enough; the live widget draws the text with the browser's fonts."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        # a very long label leaves no room for margins: the picture is drawn anyway, nothing to tell the reader
        warnings.filterwarnings("ignore", message="Tight layout not applied", category=UserWarning)
        yield


def figure_png(fig, dpi: float | None = None) -> bytes:
    """PNG bytes of a figure from ``new_figure`` (the static fallback GitHub and nbviewer show), every text
    in it drawn literally (``literal_text``), whether or not it was made inside ``literal_text``."""
    import io

    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
    with literal_text():  # tick labels are made while drawing: they read the rcParams then
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi or fig.dpi)
    return buf.getvalue()


def bar_rows_png(
    values,
    names: Sequence[str],
    notes: Sequence[str],
    xlabel: str,
    *,
    color: str,
    width: float = 6.4,
    row_height: float = 0.5,
) -> bytes:
    """A ranked list as horizontal bars: row k (first at the top) is named ``names[k]`` on the y axis, has
    length ``values[k]`` and carries ``notes[k]`` written over the start of its bar."""
    values = np.asarray(values, dtype=np.float64)  # [n]
    n = len(values)
    fig = new_figure(figsize=(width, 0.8 + row_height * n), dpi=100)
    ax = fig.add_subplot()
    y = np.arange(n)
    ax.barh(y, values, color=color, alpha=0.8, height=0.6)
    x_note = 0.02 * max(float(values.max()) if n else 0.0, 1e-9)  # just inside the bars, whatever their scale
    for k, note in enumerate(notes):
        ax.text(
            x_note,
            k,
            note,
            fontsize=7,
            va="center",
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1},
        )
    ax.set_yticks(y, list(names), fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    return figure_png(fig)
