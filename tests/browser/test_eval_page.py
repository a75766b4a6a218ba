"""`saewidgets eval`'s eval.html in real Chromium: opened from disk, nothing fetched, the y menu redraws the plot."""

import pytest
from eval_saes import HOSTILE, run_eval, save_two_saes


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, model):
    folders = save_two_saes(tmp_path_factory.mktemp("saes"), model)
    out = tmp_path_factory.mktemp("eval")
    return out, run_eval(folders, out)


def ticks(pg):
    return pg.eval_on_selector_all(".saew-fp-yticks text", "els => els.map(e => e.textContent)")


def places(pg):
    return pg.eval_on_selector_all(".saew-fp-point", "els => els.map(e => e.getAttribute('transform'))")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_eval_page_opens_offline_and_any_metric_goes_on_y(evaluated, page, scheme):
    out, result = evaluated
    p = page(scheme)
    urls = []
    p.page.on("request", lambda r: urls.append(r.url))
    pg = p.open(out / "eval.html")
    assert [u for u in urls if not u.startswith(("blob:", "data:"))] == [
        (out / "eval.html").resolve().as_uri()
    ]
    assert pg.locator("[data-saew-name=frontier]").get_attribute("data-saew-ready") == "1"

    # truth F1 first, one marker per SAE, its direction on the label
    assert pg.locator(".saew-fp-point").count() == len(result["saes"])
    label = pg.text_content(".saew-fp-ylabel")
    assert label.startswith("truth F1") and "higher is better" in label
    before = (ticks(pg), places(pg))

    # absorption: lower is better, and the plot is drawn again on its values
    pg.select_option(".saew-fp-metric", "absorption")
    label = pg.text_content(".saew-fp-ylabel")
    assert label.startswith("absorption fraction") and "lower is better" in label
    drawn = [s for s in result["saes"] if s["absorption"] is not None]
    assert pg.locator(".saew-fp-point").count() == len(drawn)
    assert (ticks(pg), places(pg)) != before
    model = "document.querySelector('[data-saew-name=frontier]').saewModel"
    assert pg.evaluate(f"() => {model}.get('y_metric')") == "absorption"

    # the hostile folder name is text everywhere: in the SAE's heading and in the plot's tooltip
    assert pg.locator("h3.saew-eval-sae").first.inner_text() == HOSTILE
    assert pg.locator("b").count() == 0
    pg.select_option(".saew-fp-metric", "truth_f1")
    pg.locator(".saew-fp-point[data-index='0']").hover()
    assert HOSTILE in pg.locator(".saew-fp-tip").inner_text()
    assert pg.evaluate("document.documentElement.scrollWidth") <= pg.evaluate("window.innerWidth")
    p.shot(f"eval_page_{scheme}")
