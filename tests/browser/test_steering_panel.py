"""SteeringPanel's offline page: sliders walk the precomputed grid, text stays text."""

import pytest

from saewidgets.widgets.steering_panel import SteeringPanel

LAST = "blocks.3.hook_resid_post"


@pytest.fixture(scope="module")
def panel_html(model, sea_sae, tmp_path_factory):
    panel = SteeringPanel(
        model,
        sea_sae,
        LAST,
        [0, 5],
        labels=["sea direction", "<b>latent</b> 5"],
        prompt="Once upon a time, <img src=x onerror=alert(1)>",
        max_new_tokens=24,
        seed=1,
    )
    path = panel.to_html(tmp_path_factory.mktemp("steer") / "steering.html", grid=(-4.0, 0.0, 4.0, 12.0))
    return panel, path


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_offline_sliders_walk_the_grid(panel_html, page, scheme):
    panel, path = panel_html
    p = page(scheme)
    dialogs = []
    pg = p.open(path)
    pg.on("dialog", lambda d: dialogs.append(d.message))
    texts = pg.locator(".saew-steer-text")
    assert texts.nth(0).inner_text() == panel._grid["unsteered"] == texts.nth(1).inner_text()
    slider = pg.locator(".saew-steer-slider").first
    slider.focus()
    for _ in range(2):  # keyboard: 0 -> 4 -> 12 (grid steps)
        pg.keyboard.press("ArrowRight")
    assert pg.locator(".saew-steer-value").first.inner_text() == "+12.0 × typical max"
    assert texts.nth(1).inner_text() == panel._grid["texts"][0][3]
    assert texts.nth(1).inner_text().count(" sea") > 5
    p.shot(f"steering_panel_{scheme}")
    # moving the second slider resets the first (one latent at a time offline)
    second = pg.locator(".saew-steer-slider").nth(1)
    second.focus()
    pg.keyboard.press("ArrowLeft")
    assert pg.locator(".saew-steer-value").first.inner_text() == "+0.0 × typical max"
    assert texts.nth(1).inner_text() == panel._grid["texts"][1][0]
    # corpus-like text in labels and generations stays text
    assert pg.locator("img").count() == 0 and pg.locator(".saew-steer-label b").count() == 0
    assert "<b>latent</b> 5" in pg.locator(".saew-steer-label").nth(1).inner_text()
    pg.locator(".saew-steer-prompt").fill("A new prompt")
    pg.locator(".saew-steer-prompt").press("Enter")
    pg.locator(".saew-steer-prompt").blur()
    assert pg.locator(".saew-offline-note").count() >= 1
    assert dialogs == []


def test_a_saved_state_without_a_grid_shows_the_last_generation(panel_html, page, tmp_path):
    # What the docs site renders from a notebook's saved widget state: no grid, the kernel's last strengths.
    from saewidgets.widgets._base import render_page

    panel, _ = panel_html
    state = panel._state_for_html() | {
        "_grid": {},
        "strengths": [2.5, 0.0],
        "steered": "the saved <i>steered</i>",
    }
    path = tmp_path / "snapshot.html"
    path.write_text(render_page(panel._esm, panel._css, state, "snapshot"), encoding="utf-8")
    pg = page().open(path)
    assert pg.locator(".saew-steer-value").first.inner_text() == "+2.5 × typical max"
    assert pg.locator(".saew-steer-slider").first.is_disabled()
    assert pg.locator(".saew-steer-text").nth(1).inner_text() == "the saved <i>steered</i>"
    assert "needs a running kernel" in pg.locator(".saew-note").last.inner_text()
