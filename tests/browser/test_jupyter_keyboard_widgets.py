"""Keyboard-only use of every widget's controls inside real JupyterLab and Notebook 7 pages.

test_jupyter_keyboard.py covers the SteeringPanel; this file the rest: FeatureActivations, FrontierPlot,
TrainingMonitor, DiffBars, NPMIScatter, ClusterBrowser and RetrievalBox. One notebook per app shows them
all, each beside an ipywidgets.Label that a kernel-side observer rewrites, so a key has worked only once the
kernel echoes the trait it changed. Controls are reached with Tab or .focus() and operated with the keys a
user would press; after each key, focus must still be in the widget (Jupyter's command-mode shortcuts, e.g.
ArrowDown selecting the next cell or A inserting one, took none of them).
"""

from __future__ import annotations

import re

import pytest

from .conftest import ARTIFACTS, Page
from .jupyterlab import APPS, drop_own_errors, open_and_run, start, write_notebook

SETUP = """
import numpy as np, scipy.sparse as sp, torch, ipywidgets, saewidgets as sw

def echo(w, name, traits):
    label = ipywidgets.Label(f"kernel: {name} waiting")
    say = lambda c: setattr(label, "value", f"kernel: {name} " + " ".join(f"{t}={getattr(w, t)!r}" for t in traits))
    w.observe(say, traits)
    return label
"""
FEATURES = """
from saewidgets.widgets.feature_activations import FeatureActivations
model = sw.load_model("storyteller", device="cpu")
corpus = sw.load_corpus("storyteller", n_docs=8, seed=0)
torch.manual_seed(0)
sae = sw.build_sae(sw.SAEConfig("topk", d_in=128, d_sae=64, k=8))
fa = FeatureActivations.from_sae(sae, model, corpus.texts[:4], "blocks.1.hook_resid_post", page_size=100)
display(fa, echo(fa, "fa", ["latent", "prompt"]))
"""
FRONTIER = """
from saewidgets.widgets.frontier_plot import FrontierPlot
from saewidgets.widgets.training_monitor import TrainingMonitor
points = [{"name": f"{a}_{i}", "architecture": a, "l0": l0, "fvu": fvu, "explained_variance": 1 - fvu}
          for a, rows in {"relu": [(70, .044), (35, .075), (16, .125), (9, .22)],
                          "jumprelu": [(80, .025), (31, .048), (12, .083), (5, .125)]}.items()
          for i, (l0, fvu) in enumerate(rows)]
plot = FrontierPlot(points)
display(plot, echo(plot, "fp", ["y_metric", "x_log", "y_log", "selected"]))
monitor = TrainingMonitor()
display(monitor, echo(monitor, "tm", ["x_axis"]))
"""
DATACENTRIC = """
from saewidgets import datacentric as dc
from saewidgets.widgets import ClusterBrowser, DiffBars, NPMIScatter, RetrievalBox
def docs(n, d=30, seed=0, base=0.15):
    return (np.random.default_rng(seed).random((n, d)) < base).astype(np.float32)
def emb(x, texts=None):
    return dc.DocEmbeddings(sp.csr_matrix(x), "max", "h", "m", "s", np.full(len(x), 10), texts)
rng = np.random.default_rng(1)
target, other = docs(200, seed=2), docs(200, seed=3)
target[:, 0], other[:, 0] = rng.random(200) < 0.4, 0
target[:, 1], other[:, 1] = rng.random(200) < 0.1, rng.random(200) < 0.5
bars = DiffBars(dc.diff(emb(target), emb(other), n_permutations=20), names=["sad", "happy"], n=6, n_negative=2)
display(bars, echo(bars, "db", ["selected_latent"]))
x = docs(300, d=12, seed=4, base=0.3)
x[:, 3] = x[:, 2]
r = dc.npmi(x, min_count=5)
torch.manual_seed(0)
scatter = NPMIScatter(r, dc.decoder_similarity(type("Dec", (), {"W_dec": torch.randn(12, 16)})(), r), max_points=20)
display(scatter, echo(scatter, "ns", ["selected_pairs", "selected_latent"]))
g = docs(40, d=20, seed=5, base=0.1)
g[:, :10] = 0
g[:20, :5] = 1
g[20:, 5:10] = 1
grouped = emb(g, [f"story {i}: " + ("the sea was calm " if i < 20 else "the dragon flew ") * 3 for i in range(40)])
clusters = ClusterBrowser(grouped, dc.cluster(grouped, 2), n_latents=3, n_docs=2)
display(clusters, echo(clusters, "cb", ["selected_cluster", "selected_latent"]))
p = docs(60, d=12, seed=6, base=0.1) * 0.5
p[:8, 5], p[:8, 7] = 2.0, 1.0
box = RetrievalBox(emb(p, [f"document {i}" for i in range(60)]), examples=[0, 1, 2], k=5)
display(box, echo(box, "rb", ["temperature", "k", "selected_latent"]))
"""


@pytest.fixture(scope="module", params=APPS)
def nb(request, browser, tmp_path_factory):
    """One server, one notebook run and one page per app, shared by the tests of this file."""
    root = tmp_path_factory.mktemp(f"keys_{request.param}")
    write_notebook(root / "widget_keys.ipynb", [SETUP, FEATURES, FRONTIER, DATACENTRIC])
    server = start(request.param, root)
    p = Page(browser)
    try:
        open_and_run(p.page, server, "widget_keys.ipynb")
        p.page.wait_for_selector(".saew-rb .saew-rb-doc", timeout=60_000)  # the last widget drew
        p.app = request.param
        yield p
        drop_own_errors(server, p.errors)
        assert p.requests == [], f"the page reached for the network: {p.requests}"
        assert p.errors == [], f"the page logged errors: {p.errors}"
    finally:
        p.close()
        server.stop()


def kernel_says(pg, text):
    pg.get_by_text(f"kernel: {text}", exact=True).wait_for(timeout=60_000)


def active(pg, expr):
    """``expr`` of the focused element (e.g. "e.dataset.latent")."""
    return pg.evaluate(f"() => {{ const e = document.activeElement; return {expr}; }}")


def focus_kept(pg, widget):
    """Focus is inside ``widget`` (a CSS class), in the cell Jupyter calls active: no shortcut moved it."""
    where = pg.evaluate(
        """w => { const e = document.activeElement;
            return [!!e.closest(w), !!e.closest('.jp-Cell')?.classList.contains('jp-mod-active'),
                    document.querySelectorAll('.jp-Cell.jp-mod-selected:not(.jp-mod-active)').length,
                    document.querySelectorAll('.jp-Notebook .jp-Cell').length]; }""",
        widget,
    )
    assert where == [True, True, 0, 4], (
        f"focus left {widget}: {where} (in widget, in the active cell, other cells selected, cells)"
    )


def press(pg, widget, *keys):
    for key in keys:
        pg.keyboard.press(key)
        focus_kept(pg, widget)


def shot(nb, name):
    """What the window shows now: the widget with its focused control, inside the app."""
    ARTIFACTS.mkdir(exist_ok=True)
    nb.page.screenshot(path=str(ARTIFACTS / f"keys_{nb.app}_{name}.png"))


def press_clear(pg, widget, key="Enter"):
    """A "clear" button: it goes with what it cleared, focus goes to the widget's tab stop."""
    press(pg, widget, key)
    assert active(pg, "e.tabIndex === 0 && !e.classList.contains('saew-dc-clear')")


def test_feature_activations_from_the_keyboard(nb):
    pg = nb.page
    latent = pg.locator(".saew-fa-input")
    latent.focus()
    start = int(latent.input_value())
    press(pg, ".saew-fa", "ArrowUp", "Enter")  # a number field steps on arrows and commits on Enter
    kernel_says(pg, f"fa latent={start + 1} prompt=''")
    press(pg, ".saew-fa", "End", "Backspace", "Backspace", "Backspace")
    pg.keyboard.type("63")
    press(pg, ".saew-fa", "Enter")  # not precomputed: the kernel computes it
    kernel_says(pg, "fa latent=63 prompt=''")
    pg.get_by_text("Latent 63", exact=True).wait_for()
    press(pg, ".saew-fa", "ArrowDown", "Tab")
    assert active(pg, "e.className") == "saew-fa-go"
    press(pg, ".saew-fa", "Space")  # the Show button
    kernel_says(pg, "fa latent=62 prompt=''")
    chip = pg.locator(".saew-fa-chip[aria-pressed='false']").first
    want = chip.get_attribute("data-latent")
    chip.focus()
    press(pg, ".saew-fa", "Enter")  # the chips redraw: focus stays on the one pressed
    kernel_says(pg, f"fa latent={want} prompt=''")
    assert active(pg, "e.dataset.latent") == want
    # the pager: 284 tokens, 100 a page; focus stays on the pager as it redraws
    info = pg.locator(".saew-fa-pageinfo")
    assert info.inner_text() == "Tokens 1–100 of 284"
    pg.locator(".saew-fa-next").focus()
    press(pg, ".saew-fa-pager", "Enter")
    assert info.inner_text() == "Tokens 101–200 of 284"
    press(pg, ".saew-fa-pager", "Enter")
    assert info.inner_text() == "Tokens 201–284 of 284"
    assert active(pg, "e.className") == "saew-fa-prev"  # Next is disabled on the last page
    press(pg, ".saew-fa-pager", "Space")
    assert info.inner_text() == "Tokens 101–200 of 284"
    # arrows walk a cursor over the tokens, with its tooltip; Escape leaves
    pg.locator(".saew-fa-main .saew-fa-tokens").focus()
    press(pg, ".saew-fa", "ArrowRight", "ArrowRight", "ArrowLeft", "ArrowRight")
    cursor = pg.locator(".saew-fa-cursor")
    assert cursor.count() == 1 and cursor.get_attribute("data-row") == "101"
    assert pg.locator(".saew-fa-tip").is_visible()
    shot(nb, "features_cursor")
    press(pg, ".saew-fa", "Escape")
    assert pg.locator(".saew-fa-cursor").count() == 0 and not pg.locator(".saew-fa-tip").is_visible()
    # typing into the prompt box: letters that are Jupyter shortcuts (a, b, d d, m, y) stay text
    pg.locator(".saew-fa-prompt").focus()
    pg.keyboard.type("a bad dream by my sea")
    focus_kept(pg, ".saew-fa")
    press(pg, ".saew-fa", "Tab", "Enter")  # to Run prompt, pressed
    kernel_says(pg, f"fa latent={want} prompt='a bad dream by my sea'")
    pg.wait_for_function(
        "() => document.querySelector('.saew-fa-prompt-tokens')?.textContent.includes('dream')"
    )


def test_frontier_plot_and_training_monitor_from_the_keyboard(nb):
    pg = nb.page
    state = {"y_metric": "'fvu'", "x_log": True, "y_log": False, "selected": None}

    def kernel_has(**change):
        state.update(change)
        kernel_says(pg, "fp " + " ".join(f"{k}={v}" for k, v in state.items()))

    metric = pg.locator(".saew-fp-metric")
    metric.focus()
    press(pg, ".saew-fp", "ArrowDown")  # a closed <select> changes on arrows
    kernel_has(y_metric="'explained_variance'")
    press(pg, ".saew-fp", "Tab")
    assert active(pg, "e.className") == "saew-fp-xlog"
    press(pg, ".saew-fp", "Space")
    kernel_has(x_log=False)
    press(pg, ".saew-fp", "Tab", "Space")
    kernel_has(y_log=True)
    press(pg, ".saew-fp", "Tab")  # the roving tab stop: the first point by L0
    assert active(pg, "e.classList.contains('saew-fp-point')")
    press(pg, ".saew-fp", "ArrowRight", "ArrowRight", "Enter")
    kernel_has(selected=active(pg, "e.dataset.index"))
    press(pg, ".saew-fp", "ArrowUp", "Space")  # the nearest point of the other architecture
    kernel_has(selected=active(pg, "e.dataset.index"))
    press(pg, ".saew-fp", "End", "Enter")
    kernel_has(selected=active(pg, "e.dataset.index"))
    shot(nb, "frontier")
    press(pg, ".saew-fp", "Home", "Escape")  # Escape clears the selection
    kernel_has(selected=None)
    press(pg, ".saew-fp", "Enter")
    kernel_has(selected=7)  # Home: the lowest L0, jumprelu_3
    pg.locator(".saew-fp-clear").focus()
    press_clear(pg, ".saew-fp")
    kernel_has(selected=None)
    metric.focus()
    press(pg, ".saew-fp", "ArrowUp")
    kernel_has(y_metric="'fvu'")
    pg.locator(".saew-tm-x").focus()
    press(pg, ".saew-tm", "ArrowDown")
    kernel_says(pg, "tm x_axis='step'")
    press(pg, ".saew-tm", "Home")
    kernel_says(pg, "tm x_axis='tokens'")


def test_diff_bars_from_the_keyboard(nb):
    pg = nb.page
    pg.locator(".saew-db-row[tabindex='0']").focus()
    press(pg, ".saew-db", "ArrowDown", "ArrowDown", "Enter")
    kernel_says(pg, f"db selected_latent={active(pg, 'e.dataset.latent')}")
    press(pg, ".saew-db", "End", "Space")
    kernel_says(pg, f"db selected_latent={active(pg, 'e.dataset.latent')}")
    press(pg, ".saew-db", "ArrowUp", "Escape")
    kernel_says(pg, "db selected_latent=None")
    press(pg, ".saew-db", "Home", "Enter")
    kernel_says(pg, f"db selected_latent={active(pg, 'e.dataset.latent')}")
    pg.locator(".saew-db .saew-dc-clear").focus()
    press_clear(pg, ".saew-db")
    kernel_says(pg, "db selected_latent=None")


def test_npmi_scatter_from_the_keyboard(nb):
    pg = nb.page
    plot = pg.locator(".saew-ns-svg")
    plot.focus()
    press(pg, ".saew-ns", "ArrowUp", "Enter")  # the highest NPMI: (2, 3), planted
    kernel_says(pg, "ns selected_pairs=[[2, 3]] selected_latent=2")
    assert pg.locator(".saew-ns-pt.saew-ns-on").get_attribute("data-i") == "0"
    press(pg, ".saew-ns", "ArrowDown", "ArrowDown", "ArrowRight", "ArrowLeft")
    tip = pg.locator(".saew-ns-tip")
    assert tip.is_visible()
    pair = re.fullmatch(r"#(\d+) & #(\d+)", pg.locator(".saew-ns-tip-name").inner_text()).groups()
    assert pair != ("2", "3")
    press(pg, ".saew-ns", "Space")
    kernel_says(pg, f"ns selected_pairs=[[{pair[0]}, {pair[1]}]] selected_latent={pair[0]}")
    press(pg, ".saew-ns", "Tab", "Tab", "Tab")  # the clear button, then the table's two latents
    assert active(pg, "e.dataset.latent") == pair[1]
    press(pg, ".saew-ns", "Enter")
    kernel_says(pg, f"ns selected_pairs=[[{pair[0]}, {pair[1]}]] selected_latent={pair[1]}")
    pg.locator(".saew-ns .saew-dc-clear").focus()
    press_clear(pg, ".saew-ns")
    kernel_says(pg, "ns selected_pairs=[] selected_latent=None")
    plot.focus()
    press(pg, ".saew-ns", "Home", "End", "Enter")  # the lowest, then the highest similarity
    pair = re.fullmatch(r"#(\d+) & #(\d+)", pg.locator(".saew-ns-tip-name").inner_text()).groups()
    kernel_says(pg, f"ns selected_pairs=[[{pair[0]}, {pair[1]}]] selected_latent={pair[0]}")
    shot(nb, "npmi")
    press(pg, ".saew-ns", "Escape")  # clears
    kernel_says(pg, "ns selected_pairs=[] selected_latent=None")


def test_cluster_browser_from_the_keyboard(nb):
    pg = nb.page
    pg.locator(".saew-cb-card[tabindex='0']").focus()
    press(pg, ".saew-cb", "ArrowRight", "Enter")
    second = active(pg, "e.dataset.cluster")
    kernel_says(pg, f"cb selected_cluster={second} selected_latent=None")
    press(pg, ".saew-cb", "ArrowUp", "Space")
    first = active(pg, "e.dataset.cluster")
    assert first != second
    kernel_says(pg, f"cb selected_cluster={first} selected_latent=None")
    press(pg, ".saew-cb", "Escape")
    kernel_says(pg, "cb selected_cluster=None selected_latent=None")
    press(pg, ".saew-cb", "Tab")  # into the card: its first latent
    latent = active(pg, "e.dataset.latent")
    press(pg, ".saew-cb", "Enter")
    kernel_says(pg, f"cb selected_cluster=None selected_latent={latent}")
    pg.locator(".saew-cb .saew-dc-clear").focus()
    press_clear(pg, ".saew-cb")
    kernel_says(pg, "cb selected_cluster=None selected_latent=None")


def test_retrieval_box_from_the_keyboard(nb):
    pg = nb.page
    temp = pg.locator(".saew-rb-temp")
    temp.focus()
    press(pg, ".saew-rb", "ArrowRight")  # 0.2 -> 0.25: the kernel re-runs the retrieval
    kernel_says(pg, "rb temperature=0.25 k=5 selected_latent=None")
    press(pg, ".saew-rb", "Home")
    kernel_says(pg, "rb temperature=0.05 k=5 selected_latent=None")
    press(pg, ".saew-rb", "End")
    kernel_says(pg, "rb temperature=1.0 k=5 selected_latent=None")
    press(pg, ".saew-rb", "PageDown", "ArrowLeft")
    pg.wait_for_function("() => Number(document.querySelector('.saew-rb-temp').value) < 0.95")
    press(pg, ".saew-rb", "Tab")
    assert active(pg, "e.className") == "saew-rb-k"
    press(pg, ".saew-rb", "ArrowUp", "ArrowUp", "Enter")
    kernel_says(pg, f"rb temperature={float(temp.input_value())} k=7 selected_latent=None")
    pg.wait_for_function("() => document.querySelectorAll('.saew-rb-doc').length === 7")
    chip = pg.locator(".saew-rb-chip .saew-dc-latent").nth(1)
    chip.focus()
    press(pg, ".saew-rb", "Enter")
    kernel_says(
        pg,
        f"rb temperature={float(temp.input_value())} k=7 selected_latent={chip.get_attribute('data-latent')}",
    )
    pg.locator(".saew-rb .saew-dc-clear").focus()
    press_clear(pg, ".saew-rb", "Space")
    kernel_says(pg, f"rb temperature={float(temp.input_value())} k=7 selected_latent=None")
