"""Keyboard-only use of a widget inside real JupyterLab and Notebook 7 pages, light and dark.

Both apps run their command-mode shortcuts from a keydown listener on the document: without common.js
keepKeys, ArrowRight/PageUp/Home/End on a focused slider and Enter in a text field were taken (and
preventDefault-ed) there, so the slider never stepped and the prompt never reached the kernel.
"""

import pytest

from .jupyterlab import APPS, drop_own_errors, run_in_theme, start, write_notebook
from .test_jupyterlab import SETUP

PANEL = """
panel = SteeringPanel(model, sae, "blocks.3.hook_resid_post", [0], labels=["sea direction"], units=torch.full((8,), 3.0),
                      max_new_tokens=6, seed=1)
echo = ipywidgets.Label("kernel: waiting")
panel.observe(lambda c: setattr(echo, "value", f"kernel: {panel.strengths} {panel.prompt!r}"), ["strengths", "prompt"])
display(panel, echo)
"""


@pytest.fixture(scope="module", params=APPS)
def server(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    for theme in ("light", "dark"):
        write_notebook(root / f"keys_{theme}.ipynb", [SETUP, PANEL])
    s = start(request.param, root)
    yield s
    s.stop()


def kernel_says(pg, text):
    pg.get_by_text(f"kernel: {text}", exact=True).wait_for(timeout=90_000)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_sliders_and_prompt_work_from_the_keyboard(server, page, theme):
    p = page(theme)
    pg = p.page
    run_in_theme(pg, server, f"keys_{theme}.ipynb", theme)
    slider = pg.locator(".saew-steer-slider").first
    slider.focus()
    pg.keyboard.press("ArrowRight")  # one step of 0.1: failed before keepKeys (Jupyter took the key)
    kernel_says(pg, "[0.1] 'Once upon a time'")
    assert slider.evaluate("e => document.activeElement === e")  # focus stayed (no cell was selected)
    pg.keyboard.press("PageUp")
    pg.wait_for_function("() => Number(document.querySelector('.saew-steer-slider').value) > 0.15")
    pg.keyboard.press("Home")
    kernel_says(pg, "[-5.0] 'Once upon a time'")
    pg.keyboard.press("End")
    kernel_says(pg, "[5.0] 'Once upon a time'")
    # Enter in the prompt commits it
    prompt = pg.locator(".saew-steer-prompt")
    prompt.fill("The dragon")
    prompt.press("Enter")
    kernel_says(pg, "[5.0] 'The dragon'")
    # Tab walks the controls in order, staying inside the widget
    prompt.focus()
    seen = []
    for _ in range(4):
        pg.keyboard.press("Tab")
        seen.append(pg.evaluate("() => document.activeElement.getAttribute('aria-label')"))
    assert seen[:2] == ["steering mode", "temperature"], seen
    assert pg.evaluate("() => !!document.activeElement.closest('.saew-steer')")
    drop_own_errors(server, p.errors)
    pg.locator(".saew-widget").first.screenshot(
        path=str(
            p.shot(f"keyboard_{server.app}_{theme}").with_name(f"keyboard_{server.app}_{theme}_panel.png")
        )
    )
