"""Every widget in a real JupyterLab and Notebook 7: rendered by a notebook run, talking back to the kernel, and
its static picture (a second output, for pages with no live view) hidden by the live view."""

import pytest

from .jupyterlab import APPS, drop_own_errors, run_in_theme, start, write_notebook

SETUP = """
import torch, ipywidgets, saewidgets as sw
from saewidgets.widgets.steering_panel import SteeringPanel
model = sw.load_model("storyteller", device="cpu")
W_U = model.original_model.lm_head.weight.detach()
sea = model.tokenizer(" sea", add_special_tokens=False)["input_ids"][0]
torch.manual_seed(0)
sae = sw.build_sae(sw.SAEConfig("relu", d_in=128, d_sae=8))
with torch.no_grad():
    sae.W_dec[0] = W_U[sea] / W_U[sea].norm()
"""
FEATURES = """
from saewidgets.widgets.feature_activations import FeatureActivations
from saewidgets.widgets.training_monitor import TrainingMonitor
corpus = sw.load_corpus("storyteller", n_docs=40, seed=0)
acts = sw.harvest(model, corpus, "blocks.1.hook_resid_post")
monitor = TrainingMonitor()
display(monitor)
topk = monitor.train(sw.build_sae(sw.SAEConfig("topk", d_in=128, d_sae=256, k=8)), acts, n_tokens=40_960,
                     batch_size=1024, progress=False).sae
FeatureActivations.from_sae(topk, model, corpus.texts[:6], "blocks.1.hook_resid_post")
"""
FRONTIER = """
import json
from saewidgets.widgets.frontier_plot import FrontierPlot
points = [{"name": f"{a}_{i}", "architecture": a, "knob": "c", "value": i, "l0": l0, "fvu": fvu, "dead_fraction": 0.0}
          for a, rows in {"relu": [(70, .044), (35, .075), (16, .125), (9, .22)],
                          "jumprelu": [(80, .025), (31, .048), (12, .083), (5, .125)]}.items()
          for i, (l0, fvu) in enumerate(rows)]
plot = FrontierPlot(points)
chosen = ipywidgets.Label("kernel: nothing selected")
plot.observe(lambda c: setattr(chosen, "value", f"kernel: selected {plot.selected_point['name']}"), "selected")
display(plot, chosen)
"""
STEERING = """
panel = SteeringPanel(model, sae, "blocks.3.hook_resid_post", [0], labels=["sea direction"], units=torch.full((8,), 3.0),
                      max_new_tokens=24, seed=1)
echo = ipywidgets.Label("kernel: waiting")
panel.observe(lambda c: setattr(echo, "value", f"kernel: strengths {panel.strengths}"), "steered")
display(panel, echo)
"""


@pytest.fixture(scope="module", params=APPS)
def lab(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    for theme in ("light", "dark"):  # one notebook (so one session and kernel) per test
        write_notebook(root / f"widgets_{theme}.ipynb", [SETUP, FEATURES, FRONTIER, STEERING])
    server = start(request.param, root)
    yield server
    server.stop()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_widgets_render_and_reach_the_kernel(lab, page, theme):
    p = page(theme)
    pg = p.page
    run_in_theme(pg, lab, f"widgets_{theme}.ipynb", theme)
    steered = pg.locator(".saew-steer-text[data-kind='steered']")
    before = steered.inner_text()
    assert before and before == pg.locator(".saew-steer-text[data-kind='unsteered']").inner_text()
    slider = pg.locator(".saew-steer-slider").first
    slider.focus()
    pg.keyboard.press("End")  # +5 x typical max
    pg.wait_for_function(
        "() => document.querySelector('.saew-steer-text[data-kind=steered]').textContent.includes('sea sea')",
        timeout=60_000,
    )
    pg.get_by_text("kernel: strengths [5.0]").wait_for(timeout=60_000)
    # the training monitor filled up and finished; the feature view coloured its tokens
    assert "finished" in pg.locator(".saew-tm-status").inner_text()
    assert pg.locator(".saew-fa-tok").count() > 50
    # prompt-centric mode: the kernel runs model + SAE on typed text and sends the tokens back
    pg.locator(".saew-fa-prompt").fill("The dragon <img src=x> flew over the sea.")
    pg.locator(".saew-fa-run").click()
    pg.wait_for_function(
        "() => document.querySelector('.saew-fa-prompt-tokens')?.textContent.includes('dragon')",
        timeout=60_000,
    )
    assert pg.locator(".saew-fa-prompt-tokens img").count() == 0
    # a latent that was not precomputed is computed by the kernel on request
    title = pg.locator(".saew-fa-title").inner_text()
    pg.locator(".saew-fa-input").fill("255")
    pg.locator(".saew-fa-go").click()
    pg.get_by_text("Latent 255", exact=True).wait_for(timeout=60_000)
    assert title != "Latent 255"
    # a click on a frontier point reaches the kernel, whose observer writes back into a Label
    pg.locator(".saew-fp-point").nth(5).click()
    pg.get_by_text("kernel: selected jumprelu_1").wait_for(timeout=60_000)
    # the static pictures of the monitor (redrawn when it finished), the feature view and the frontier are
    # in the page, each hidden with its output area: the live views above them drew
    statics = pg.locator(".saew-static")
    assert statics.count() == 3
    shown = statics.evaluate_all(
        "els => els.filter(e => getComputedStyle(e).display !== 'none'"
        " || getComputedStyle(e.closest('.jp-OutputArea-child')).display !== 'none').length"
    )
    assert shown == 0
    drop_own_errors(lab, p.errors)
    for i, name in enumerate(("monitor", "features", "frontier", "steering")):
        widget = pg.locator(".saew-widget").nth(i)
        widget.scroll_into_view_if_needed()
        shot = f"{lab.app}_{theme}_{name}.png"
        widget.screenshot(path=str(p.shot(f"{lab.app}_{theme}").with_name(shot)))
