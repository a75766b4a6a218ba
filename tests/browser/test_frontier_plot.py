"""FrontierPlot in real Chromium: markers, fronts, tooltip, selection by click and keyboard, metric and log controls."""

import pytest

from saewidgets.widgets._palette import DARK, LIGHT
from saewidgets.widgets.frontier_plot import FrontierPlot

# Shaped like `saewidgets demo`'s frontier.json on the storyteller model (blocks.1, d_sae 1024, 1M tokens).
ROWS = [
    ("relu", "l1_coefficient", 0.5, 71.65, 0.0439, 0.00419, 0.99962),
    ("relu", "l1_coefficient", 1.0, 35.10, 0.0746, 0.01060, 0.99904),
    ("relu", "l1_coefficient", 2.0, 16.37, 0.1246, 0.04466, 0.99593),
    ("relu", "l1_coefficient", 4.0, 8.95, 0.2167, 0.22617, 0.97940),
    ("relu", "l1_coefficient", 8.0, 6.41, 0.4887, 2.12738, 0.80627),
    ("jumprelu", "l0_coefficient", 0.03, 79.49, 0.0248, 0.00071, 0.99994),
    ("jumprelu", "l0_coefficient", 0.1, 31.50, 0.0483, 0.00580, 0.99947),
    ("jumprelu", "l0_coefficient", 0.3, 12.37, 0.0826, 0.01801, 0.99836),
    ("jumprelu", "l0_coefficient", 1.0, 5.09, 0.1251, 0.07117, 0.99352),
]
POINTS = [
    {
        "name": f"{a}_{k}_{v:g}",
        "architecture": a,
        "knob": k,
        "value": v,
        "d_sae": 1024,
        "l0": l0,
        "fvu": fvu,
        "explained_variance": 1 - fvu,
        "delta_ce": dce,
        "ce_loss_score": score,
        "dead_fraction": 0.0,
    }
    for a, k, v, l0, fvu, dce, score in ROWS
]


@pytest.fixture
def opened(tmp_path, page):
    def make(scheme="light", **kwargs):
        path = FrontierPlot(POINTS, **kwargs).to_html(tmp_path / f"frontier_{scheme}.html")
        p = page(scheme)
        return p, p.open(path)

    return make


def ticks(pg, axis):
    return pg.eval_on_selector_all(f".saew-fp-{axis}ticks text", "els => els.map(e => e.textContent)")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_frontier_renders_points_fronts_and_legend(opened, scheme):
    p, pg = opened(scheme, y_metric="delta_ce", y_log=True)
    assert pg.locator(".saew-fp-point").count() == len(POINTS)
    assert pg.locator(".saew-fp-point circle.saew-fp-hit").count() == len(POINTS)
    fronts = pg.locator(".saew-fp-fronts path")
    assert fronts.count() == 2
    assert {fronts.nth(i).get_attribute("data-arch") for i in range(2)} == {"relu", "jumprelu"}
    assert pg.locator(".saew-fp-legend-item").all_inner_texts() == [" relu (5)", " jumprelu (4)"] or [
        t.strip() for t in pg.locator(".saew-fp-legend-item").all_inner_texts()
    ] == ["relu (5)", "jumprelu (4)"]
    # readable log ticks: plain numbers, no exponents, on both axes
    assert {"10", "20", "50"} <= set(ticks(pg, "x")) and "0.01" in ticks(pg, "y")
    # the two architectures are drawn in different colours, and the text is readable on the background
    colors = pg.eval_on_selector_all(
        ".saew-fp-fronts path", "els => els.map(e => getComputedStyle(e).stroke)"
    )
    assert len(set(colors)) == 2
    palette = LIGHT if scheme == "light" else DARK  # sent from Python; the dark variant in a dark theme
    assert colors == [f"rgb({int(c[1:3], 16)}, {int(c[3:5], 16)}, {int(c[5:7], 16)})" for c in palette[:2]]
    fg, bg = pg.evaluate("""() => { const r = getComputedStyle(document.querySelector('.saew-fp'));
        return [getComputedStyle(document.querySelector('.saew-fp-xlabel')).fill, r.backgroundColor]; }""")
    assert fg != bg
    p.shot(f"frontier_plot_{scheme}")


def test_hover_shows_tooltip_and_click_selects(opened):
    p, pg = opened()
    point = pg.locator(".saew-fp-point[data-index='6']")
    point.hover()
    tip = pg.locator(".saew-fp-tip")
    assert tip.is_visible()
    text = tip.inner_text()
    for expected in (
        "jumprelu_l0_coefficient_0.1",
        "architecture: jumprelu",
        "l0_coefficient = 0.1",
        "L0 = 31.5",
        "fvu = 0.0483",
        "on the Pareto front",
    ):
        assert expected in text
    p.shot("frontier_plot_hover")
    point.click()
    assert pg.locator(".saew-fp[data-selected='6']").count() == 1
    assert pg.locator(".saew-fp-selected").get_attribute("data-index") == "6"
    assert "jumprelu_l0_coefficient_0.1" in pg.inner_text(".saew-fp-status")
    assert pg.evaluate("() => document.querySelector('.saew-fp').dataset.selected") == "6"
    pg.mouse.move(5, 5)
    assert not tip.is_visible()
    pg.click(".saew-fp-clear")
    assert (
        pg.locator(".saew-fp-selected").count() == 0 and pg.locator(".saew-fp[data-selected='']").count() == 1
    )


def test_metric_dropdown_and_log_toggles(opened):
    p, pg = opened()
    assert "FVU" in pg.text_content(".saew-fp-ylabel") and "lower is better" in pg.text_content(
        ".saew-fp-ylabel"
    )
    pg.select_option(".saew-fp-metric", "ce_loss_score")
    label = pg.text_content(".saew-fp-ylabel")
    assert "CE loss score" in label and "higher is better" in label
    assert (
        pg.locator(".saew-fp-fronts path").count() == 2
    )  # the offline page carries the fronts of every metric
    before_x = ticks(pg, "x")
    assert "10" in before_x and "20" in before_x  # log x by default
    pg.uncheck(".saew-fp-xlog")
    after_x = ticks(pg, "x")
    assert (
        after_x != before_x and "5" not in after_x and {"40", "60"} <= set(after_x)
    )  # linear: 10, 20, 30, ...
    pg.select_option(".saew-fp-metric", "delta_ce")
    lin_y = ticks(pg, "y")
    pg.check(".saew-fp-ylog")
    log_y = ticks(pg, "y")
    assert lin_y != log_y and "0.001" in log_y and "0.001" not in lin_y
    assert "log" in pg.text_content(".saew-fp-ylabel")
    p.shot("frontier_plot_linear_x_log_y")


def test_keyboard_focus_arrows_and_enter_select(opened):
    p, pg = opened()
    pg.focus(".saew-fp-metric")
    for _ in range(3):  # metric select, log x, log y, then the plot's one tabbable point
        pg.keyboard.press("Tab")
    focused = pg.evaluate("() => document.activeElement.dataset.index")
    assert focused == "8"  # no selection: Tab lands on the leftmost point (jumprelu, L0 5.1)
    assert pg.locator(".saew-fp-tip").is_visible()
    pg.keyboard.press("ArrowRight")
    assert pg.evaluate("() => document.activeElement.dataset.index") == "4"  # relu, L0 6.4
    pg.keyboard.press("ArrowUp")  # the other architecture's nearest point
    assert pg.evaluate("() => document.activeElement.dataset.arch") == "jumprelu"
    pg.keyboard.press("End")
    assert pg.evaluate("() => document.activeElement.dataset.index") == "5"  # L0 79.5
    pg.keyboard.press("Enter")
    assert pg.locator(".saew-fp[data-selected='5']").count() == 1
    assert pg.locator(".saew-fp-point.saew-fp-selected").get_attribute("data-index") == "5"
    p.shot("frontier_plot_keyboard")
    pg.keyboard.press("Escape")
    assert pg.locator(".saew-fp-selected").count() == 0


def test_points_missing_the_metric_or_nonpositive_on_log_axis_get_a_note(tmp_path, page):
    pts = [dict(p) for p in POINTS]
    pts[0]["delta_ce"] = -0.001  # the SAE slightly helped: cannot sit on a log axis
    del pts[1]["delta_ce"]
    pts[2]["delta_ce"] = 3.0  # worse than relu at L0 8.95 with more latents: off the front
    path = FrontierPlot(pts, y_metric="delta_ce", y_log=True).to_html(tmp_path / "notes.html")
    p = page()
    pg = p.open(path)
    assert pg.locator(".saew-fp-point").count() == len(pts) - 2
    dominated = pg.locator(".saew-fp-point.saew-fp-dominated")
    assert dominated.count() == 1 and dominated.get_attribute("data-index") == "2"
    dominated.hover()
    assert "dominated" in pg.inner_text(".saew-fp-tip")
    p.shot("frontier_plot_dominated")
    note = pg.inner_text(".saew-fp-notes")
    assert "1 point(s) have no delta_ce" in note and "1 point(s) with a value ≤ 0" in note


def test_ticks_over_a_narrow_range_stay_distinct(tmp_path, page):
    # CE-loss scores of good SAEs crowd just under 1: three significant digits would print "1" three times.
    points = [dict(p, ce_loss_score=0.9995 + 0.0001 * i) for i, p in enumerate(POINTS)]
    path = FrontierPlot(points, y_metric="ce_loss_score").to_html(tmp_path / "narrow.html")
    labels = ticks(page().open(path), "y")
    assert len(labels) >= 3 and len(set(labels)) == len(labels), labels
    assert any(len(label) > 4 for label in labels)  # more digits, e.g. "0.9996"
