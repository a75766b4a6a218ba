"""Widgets in a 600 px window with hostile text (long words, long names, a right-to-left override): nothing
spills out of its widget box, and one token's bidi control cannot reorder the tokens after it."""

import numpy as np
import pytest
import torch
from test_datacentric_widgets import make_emb, random_docs

from saewidgets import datacentric as dc
from saewidgets.cli import main
from saewidgets.widgets import DiffBars, NPMIScatter
from saewidgets.widgets.frontier_plot import FrontierPlot
from saewidgets.widgets.steering_panel import SteeringPanel

from .conftest import ARTIFACTS
from .test_feature_activations import synthetic
from .test_report import STEERABLE

LONG = "Supercalifragilisticexpialidocious" * 6  # one 204-character word
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: reverses the text after it, up to the end of the paragraph


def narrow(page, path, name):
    """Open an offline page at 600 px wide, screenshot it to artifacts/layout_600_<name>.png."""
    p = page()
    p.page.set_viewport_size({"width": 600, "height": 800})
    pg = p.open(path)
    p.shot(f"layout_600_{name}")
    return pg


def spills(pg) -> list[str]:
    """Widget boxes whose content is wider than the box, or children drawn outside it (overflow: visible)."""
    return pg.evaluate(
        """() => {
        const out = [];
        if (document.documentElement.scrollWidth > window.innerWidth + 1)
          out.push(`page ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
        for (const root of document.querySelectorAll('.saew-widget')) {
          if (root.scrollWidth > root.clientWidth + 1)
            out.push(`${root.className}: scrollWidth ${root.scrollWidth} > ${root.clientWidth}`);
          const box = root.getBoundingClientRect();
          for (const el of root.querySelectorAll('*')) {
            const r = el.getBoundingClientRect();
            if (!r.width || !r.height) continue;
            // inside a scrolling box (a wide table) is fine: the box scrolls
            let clipped = false;
            for (let a = el.parentElement; a && a !== root; a = a.parentElement)
              if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; }
            if (!clipped && (r.left < box.left - 1 || r.right > box.right + 1))
              out.push(`${el.tagName}.${el.getAttribute('class')} [${r.left|0}, ${r.right|0}] outside [${box.left|0}, ${box.right|0}]`);
          }
        }
        return out.slice(0, 10);
      }"""
    )


def test_diff_bars_at_600px(page, tmp_path):
    rng = np.random.default_rng(1)
    target, other = random_docs(200, seed=2), random_docs(200, seed=3)
    target[:, 0] = rng.random(200) < 0.4
    r = dc.diff(make_emb(target), make_emb(other), n_permutations=20)
    w = DiffBars(r, names=[f"stories {LONG}", "happy stories"], labels={0: LONG}, n=8)
    pg = narrow(page, w.to_html(tmp_path / "diff.html"), "diff_bars")
    assert (spilled := spills(pg)) == [], spilled
    shares = pg.locator(".saew-db-row .saew-db-shares").first.bounding_box()
    assert shares["width"] > 40 and shares["x"] + shares["width"] <= 600


def test_npmi_scatter_at_600px(page, tmp_path):
    x = random_docs(300, d=12, seed=4, base=0.3)
    x[:, 3] = x[:, 2]
    r = dc.npmi(x, min_count=5)
    torch.manual_seed(0)
    sim = dc.decoder_similarity(type("Dec", (), {"W_dec": torch.randn(12, 16)})(), r)
    w = NPMIScatter(r, sim, labels={2: LONG, 3: LONG.upper()})
    pg = narrow(page, w.to_html(tmp_path / "npmi.html"), "npmi")
    assert (spilled := spills(pg)) == [], spilled
    box = pg.locator(".saew-dc-svg").first.bounding_box()  # brush every pair: the table of pairs fills
    pg.mouse.move(box["x"] + 2, box["y"] + 2)
    pg.mouse.down()
    pg.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=5)
    pg.mouse.up()
    assert pg.locator(".saew-ns-table tr").count() > 3
    pg.screenshot(path=str(ARTIFACTS / "layout_600_npmi_table.png"), full_page=True)
    assert (spilled := spills(pg)) == [], spilled


def test_steering_panel_long_word_at_600px(model, sea_sae, page, tmp_path):
    panel = SteeringPanel(model, sea_sae, "blocks.3.hook_resid_post", [0], labels=[LONG], max_new_tokens=4)
    path = panel.to_html(tmp_path / "steer.html", grid=(0.0, 4.0))
    p = page()
    p.page.set_viewport_size({"width": 600, "height": 800})
    pg = p.open(path)
    pg.evaluate(f"() => document.querySelector('#saew-root').saewModel.set('steered', 'Once {LONG} upon')")
    p.shot("layout_600_steering")
    assert (spilled := spills(pg)) == [], spilled


def test_frontier_long_metric_name_at_600px(page, tmp_path):
    metric = "reconstruction_" + "very_long_" * 12 + "metric"
    points = [
        {"name": f"relu_{i}", "architecture": "relu", "knob": "c", "value": i, "l0": l0, "fvu": f, metric: f}
        for i, (l0, f) in enumerate([(70, 0.04), (35, 0.07), (16, 0.12), (9, 0.22)])
    ]
    pg = narrow(page, FrontierPlot(points, y_metric=metric).to_html(tmp_path / "fp.html"), "frontier")
    assert (spilled := spills(pg)) == [], spilled
    label = pg.locator(".saew-fp-ylabel")
    frame = pg.locator(".saew-fp-frame").bounding_box()
    box = label.bounding_box()
    assert box["y"] >= frame["y"] - 2 and box["y"] + box["height"] <= frame["y"] + frame["height"] + 2
    assert "…" in label.text_content()
    assert metric.replace("_", " ") in pg.evaluate(
        "() => document.querySelector('.saew-fp-ylabel title').textContent"
    ).replace("_", " ")


def test_a_right_to_left_override_in_a_token_stays_in_its_token(page, tmp_path):
    w = synthetic(400)
    w._vocab = [(f" x{RLO}yz", " abc", " def")[i % 3] for i in range(len(w._vocab))]
    pg = narrow(page, w.to_html(tmp_path / "bidi.html"), "bidi")
    spans = pg.evaluate(
        """() => [...document.querySelectorAll('.saew-fa-tokens .saew-fa-tok')].slice(0, 200).map(t => {
          const r = t.getBoundingClientRect(), node = t.firstChild, range = document.createRange();
          const letters = [...node.textContent].map((_, k) => {
            range.setStart(node, k); range.setEnd(node, k + 1); return range.getBoundingClientRect().left; });
          return { text: t.textContent.trim(), left: r.left, lines: t.getClientRects().length, letters };
        })"""
    )
    runs = [
        spans[k : k + 3]
        for k in range(len(spans) - 2)
        if [s["text"] for s in spans[k : k + 3]] == [f"x{RLO}yz", "abc", "def"]
        and all(s["lines"] == 1 for s in spans[k : k + 3])  # not broken over two lines
    ]
    assert runs, [s["text"] for s in spans[:12]]
    for rlo, abc, d in runs:
        assert rlo["left"] < abc["left"] < d["left"], f"tokens out of order on screen: {rlo, abc, d}"
        lefts = abc["letters"][-3:]  # a, b, c
        assert lefts == sorted(lefts), f"'abc' drawn reversed: {abc}"


def test_a_right_to_left_override_cannot_move_a_logit_tokens_closing_quote(page, tmp_path):
    """A logit token is shown quoted, as JSON writes it; before the token was a <bdi> of its own, the
    override inside it carried the closing quote to the left ("x"zy on screen)."""
    w = synthetic(400)
    w._vocab = [(f"x{RLO}yz", " abc", " def")[i % 3] for i in range(len(w._vocab))]
    pg = narrow(page, w.to_html(tmp_path / "bidi_logits.html"), "bidi_logits")
    quotes = pg.evaluate(
        """() => [...document.querySelectorAll('.saew-fa-logtok')].map(t => {
          const walk = document.createTreeWalker(t, NodeFilter.SHOW_TEXT), range = document.createRange();
          const chars = [];
          for (let node; (node = walk.nextNode()); )
            for (let k = 0; k < node.length; k++) {
              range.setStart(node, k); range.setEnd(node, k + 1);
              const r = range.getBoundingClientRect();
              chars.push({ c: node.data[k], left: r.left, right: r.right });
            }
          return chars;
        })"""
    )
    with_rlo = [q for q in quotes if any(ch["c"] == RLO for ch in q)]
    assert with_rlo, "no logit token with the override was drawn"
    for chars in with_rlo:
        first, last = chars[0], chars[-1]
        assert first["c"] == last["c"] == '"'
        assert first["left"] <= min(ch["left"] for ch in chars) + 0.5, chars
        assert last["right"] >= max(ch["right"] for ch in chars) - 0.5, chars


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", *STEERABLE, "--out", str(out)]) == 0
    return out


def test_report_tables_at_600px(report, page):
    pg = narrow(page, report / "report.html", "report")
    assert pg.locator(".saew-report-table").count() >= 1
    wide = pg.evaluate(
        """() => [...document.querySelectorAll('.saew-report-table')]
          .filter(t => t.getBoundingClientRect().right > window.innerWidth + 1).length"""
    )
    assert wide == 0
    assert pg.evaluate("() => document.documentElement.scrollWidth") <= 601
