"""The demo's report.html in real Chromium: opened from disk, nothing fetched, every widget working."""

import json

import pytest

from saewidgets.cli import main

# A little more than tests/test_cli.py's SMALL (~10 s instead of ~6): SAEs trained on 8k tokens steer too weakly
# to change a sampled story, and this test must see the steered text change.
STEERABLE = [
    "--n-docs",
    "200",
    "--sae-tokens",
    "65536",
    "--d-sae",
    "64",
    "--eval-docs",
    "20",
    "--ce-docs",
    "4",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", *STEERABLE, "--out", str(out)]) == 0
    return out


def state(pg, name, key):
    """A value of one widget's (offline) model, read through its container."""
    return pg.evaluate(f"() => document.querySelector('[data-saew-name={name}]').saewModel.get({key!r})")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_report_opens_offline_with_working_widgets(report, page, scheme):
    metrics = json.loads((report / "metrics.json").read_text())
    p = page(scheme)
    urls = []
    p.page.on("request", lambda r: urls.append(r.url))
    pg = p.open(report / "report.html")

    # every widget container rendered (none failed), and the page asked for nothing but itself and blobs
    slots = pg.locator("[data-saew-widget]")
    assert slots.count() == 3
    assert [slots.nth(i).get_attribute("data-saew-ready") for i in range(3)] == ["1", "1", "1"]
    assert {u.split(":")[0] for u in urls} <= {"file", "blob", "data"}
    assert [u for u in urls if u.startswith("file:")] == [(report / "report.html").resolve().as_uri()]

    # the frontier plot has a marker per SAE, and the SAE of the feature view is selected
    assert pg.locator("[data-saew-name=frontier] .saew-fp-point").count() == len(metrics["saes"])
    names = list(metrics["saes"])
    assert state(pg, "frontier", "selected") == names.index(metrics["feature_view"]["sae"])

    # the feature view shows the first good latent with highlighted tokens
    latents = [r["latent"] for r in metrics["feature_view"]["latents"]]
    view = pg.locator("[data-saew-name=features]")
    assert view.locator(".saew-fa-title").inner_text() == f"Latent {latents[0]}"
    lit = view.locator(".saew-fa-tokens .saew-fa-tok").evaluate_all(
        "els => els.filter(e => e.style.background).length"
    )
    assert lit > 0
    # a row of the latent table shows that latent (the page's own script drives the widget)
    pg.locator(f".saew-report-show[data-latent='{latents[-1]}']").click()
    assert view.locator(".saew-fa-title").inner_text() == f"Latent {latents[-1]}"
    assert (
        pg.locator(f".saew-report-show[data-latent='{latents[-1]}']").get_attribute("aria-pressed") == "true"
    )
    pg.locator(f".saew-report-show[data-latent='{latents[0]}']").click()

    # moving a steering slider changes the steered text to the precomputed one for that strength
    grid = state(pg, "steering", "_grid")
    steered = pg.locator("[data-saew-name=steering] .saew-steer-text[data-kind=steered]")
    assert steered.inner_text() == grid["unsteered"]
    slider = pg.locator("[data-saew-name=steering] .saew-steer-slider").first
    slider.focus()
    pg.keyboard.press("End")  # the strongest positive strength on the grid
    assert (
        pg.locator("[data-saew-name=steering] .saew-steer-value").first.inner_text()
        == f"+{grid['values'][-1]:.1f} × typical max"
    )
    assert steered.inner_text() == grid["texts"][0][-1] != grid["unsteered"]
    pg.keyboard.press("Home")
    assert steered.inner_text() == grid["texts"][0][0]
    pg.keyboard.press("End")  # the screenshot shows the strongest steering

    # the figures are inline data: images that decoded
    sizes = pg.locator(".saew-report-fig img").evaluate_all("els => els.map(e => e.naturalWidth)")
    assert len(sizes) == 3 and min(sizes) > 100
    # nothing is wider than the window (a long token once pushed the feature view's logit list out)
    assert pg.evaluate("document.documentElement.scrollWidth") <= pg.evaluate("window.innerWidth")
    pg.evaluate("window.scrollTo(0, 0)")
    p.shot(f"report_{scheme}")
