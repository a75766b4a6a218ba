"""SteeringPanel with many latents offline: 12 sliders and a picker, not one slider per latent; the
"needs a running kernel" note appears once however many edits are tried (issue 16)."""

import pytest

import saewidgets as sw
from saewidgets.widgets.steering_panel import SteeringPanel

LAST = "blocks.3.hook_resid_post"


@pytest.fixture(scope="module")
def many_html(model, tmp_path_factory):
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=1000))
    panel = SteeringPanel(model, sae, LAST, list(range(1000)), max_new_tokens=2, seed=1)
    path = panel.to_html(tmp_path_factory.mktemp("steer") / "many.html", grid=(0.0, 2.0), progress=False)
    return panel, path


def test_many_latents_offline(many_html, page):
    panel, path = many_html
    p = page("light")
    pg = p.open(path)
    assert pg.locator(".saew-steer-slider").count() == 12
    assert pg.locator(".saew-steer").bounding_box()["height"] < 1500  # was 30,000 px with 1,000 sliders
    assert pg.locator(".saew-steer-count").inner_text() == "12 of 1,000 latents have sliders"
    assert "Sliders for 12 of 1,000 latents were exported" in pg.locator(".saew-note").last.inner_text()
    search = pg.locator(".saew-steer-search")
    search.focus()
    pg.keyboard.type("latent 99")
    labels = pg.locator(".saew-steer-pick option").all_inner_texts()
    assert labels[0] == "99: latent 99" and all("latent 99" in t for t in labels)
    p.shot("steering_panel_many_latents")
    for _ in range(3):  # edits that need a kernel: one note, not one per edit
        pg.keyboard.press("Enter")
        pg.locator(".saew-steer-prompt").fill("A new prompt")
        pg.locator(".saew-steer-prompt").press("Enter")
        pg.locator(".saew-steer-remove").first.click()
    assert pg.locator(".saew-offline-note").count() == 1
    assert pg.locator(".saew-steer-slider").count() == 12
