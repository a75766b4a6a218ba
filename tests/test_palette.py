"""The one palette and marker table (saewidgets/widgets/_palette.py): what its docstring promises, that the
widgets which draw series send it to the browser and draw their matplotlib fallbacks with it, and that no
widget's JS or CSS keeps a palette of its own."""

import re

import pytest

from saewidgets.widgets import _palette as palette
from saewidgets.widgets._base import STATIC
from saewidgets.widgets.frontier_plot import FrontierPlot
from saewidgets.widgets.training_monitor import TrainingMonitor

OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
POINTS = [
    {"architecture": a, "l0": l0, "fvu": fvu}
    for a, l0, fvu in [
        ("relu", 10, 0.2),
        ("relu", 20, 0.1),
        ("topk", 8, 0.15),
        ("topk", 32, 0.05),
        ("mine", 12, 0.3),
    ]
]


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""

    def luminance(c):
        rgb = [int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in rgb]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted([luminance(a), luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colours_are_okabe_ito_and_readable_on_their_background():
    assert len(palette.LIGHT) == len(palette.DARK) == 8
    for colours in (palette.LIGHT, palette.DARK):
        assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colours) and len(set(colours)) == len(colours)
    # the four Okabe-Ito colours that need no change come first, unchanged
    assert set(palette.LIGHT[:4]) <= OKABE_ITO
    assert min(contrast(c, "#FFFFFF") for c in palette.LIGHT) >= 3.0  # WCAG 2.1 non-text contrast
    assert min(contrast(c, "#111111") for c in palette.DARK) >= 8.0  # JupyterLab's dark background
    # the two Okabe-Ito colours that are too light on white (2.3:1) are the ones replaced
    assert contrast("#E69F00", "#FFFFFF") < 3 and contrast("#56B4E9", "#FFFFFF") < 3
    assert "#E69F00" not in palette.LIGHT and "#56B4E9" not in palette.LIGHT


def test_markers_are_matplotlib_names_that_the_browser_draws():
    from matplotlib.markers import MarkerStyle

    js = (STATIC / "markers.js").read_text()
    drawn = set(re.findall(r'case "(.)":', js)) | {"o"}  # "o" is the default branch
    for m in [*palette.MARKERS.values(), *palette.MARKER_CYCLE]:
        MarkerStyle(m)  # raises on an unknown name
        assert m in drawn, f"markers.js draws no {m!r}"
    assert palette.marker("topk", 5) == "^" and palette.marker("mine", 1) == palette.MARKER_CYCLE[1]
    assert palette.color(0) == palette.LIGHT[0] and palette.color(8) == palette.LIGHT[0]


@pytest.mark.parametrize("widget", [lambda: FrontierPlot(POINTS), lambda: TrainingMonitor()])
def test_series_widgets_send_the_palette_live_and_offline(widget):
    w = widget()
    assert w._palette == palette.PALETTE
    assert "_palette" in w.keys  # synced to the browser
    assert w._state_for_html()["_palette"] == palette.PALETTE  # and frozen into offline pages


def test_no_widget_keeps_a_palette_of_its_own():
    """Series colours reach the browser only through _palette: no colour in these widgets' JS, and their CSS
    draws series in var(--saew-series) (base.css picks _palette's light or dark variant)."""
    for name in (
        "frontier_plot.js",
        "frontier_plot_select.js",
        "markers.js",
        "training_monitor.js",
        "common.js",
    ):
        assert not re.search(r"#[0-9a-fA-F]{6}\b", (STATIC / name).read_text()), (
            f"{name} has a colour of its own"
        )
    css = (STATIC / "frontier_plot.css").read_text() + (STATIC / "training_monitor.css").read_text()
    for rule in (".saew-fp-front", ".saew-fp-marker", ".saew-tm-line", ".saew-tm-dot", ".saew-tm-swatch"):
        body = re.search(re.escape(rule) + r" \{([^}]*)\}", css).group(1)
        assert "var(--saew-series)" in body and "#" not in body, rule


def _captured_figure(monkeypatch, module):
    """Run a widget's matplotlib fallback, keeping the figure it draws instead of its PNG."""
    figs = []
    monkeypatch.setattr(module, "figure_png", lambda fig, *a, **k: figs.append(fig) or b"png")
    return figs


def test_matplotlib_fallbacks_draw_with_the_palette(monkeypatch):
    import matplotlib.colors as mcolors

    import saewidgets.widgets.frontier_plot as fp
    import saewidgets.widgets.training_monitor as tm

    hexes = lambda colours: [mcolors.to_hex(c).upper() for c in colours]  # noqa: E731
    figs = _captured_figure(monkeypatch, fp)
    assert FrontierPlot(POINTS)._png() == b"png"
    scatters = figs[0].axes[0].collections  # one per architecture, in order of appearance
    assert [hexes(s.get_facecolor())[0] for s in scatters] == list(palette.LIGHT[:3])

    figs = _captured_figure(monkeypatch, tm)
    rows = [
        {
            "sae": s,
            "step": i,
            "tokens": 100 * i,
            "loss": 1.0 / (i + 1),
            "l0": 5.0,
            "fvu": 0.1,
            "dead_fraction": 0.0,
        }
        for s in (0, 1)
        for i in range(3)
    ]
    assert TrainingMonitor.from_history(rows)._png() == b"png"
    assert hexes(line.get_color() for line in figs[0].axes[0].lines) == list(palette.LIGHT[:2])


def test_data_centric_colours_are_the_palettes_first_two():
    """DiffBars, NPMIScatter, ClusterBrowser and RetrievalBox draw positive / negative (or one series) in the
    palette's first two colours: their CSS variables in light and dark, and their matplotlib fallbacks (the
    fallbacks call palette.color; no colour literal is left in those modules)."""
    css = (STATIC / "datacentric.css").read_text().lower()
    for hue in (*palette.LIGHT[:2], *palette.DARK[:2]):
        assert hue.lower() in css, hue
    assert set(re.findall(r"#[0-9a-f]{6}\b", css)) <= {c.lower() for c in (*palette.LIGHT, *palette.DARK)}
    from saewidgets.widgets import cluster_browser, diff_bars, npmi_scatter, retrieval_box

    for module in (cluster_browser, diff_bars, npmi_scatter, retrieval_box):
        source = open(module.__file__).read()
        assert not re.search(r"#[0-9a-fA-F]{6}\b", source), f"{module.__name__} has a colour of its own"
