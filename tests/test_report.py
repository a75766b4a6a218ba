"""The demo's offline report (saewidgets/report.py): files, self-containment, escaping, the choices it makes."""

import json
import re

import numpy as np
import pytest
import torch
from test_cli import SMALL

import saewidgets as sw
from saewidgets import report
from saewidgets.cli import main

EVIL = '<img src=x onerror=alert(1)> and <script>alert("x")</script> & "quotes"'


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", *SMALL, "--out", str(out)]) == 0
    return out


def test_demo_writes_the_report_figures_and_metrics(demo, capsys):
    for name in ("report.html", "metrics.json", "frontier.json", "summary.json", *report.FIGURES):
        assert (demo / name).is_file(), name
    for name in report.FIGURES:
        png = (demo / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert width >= 300 and height >= 200
    metrics = json.loads((demo / "metrics.json").read_text())
    assert set(metrics) == {"model", "hook", "saes", "feature_view", "steering"}
    frontier = json.loads((demo / "frontier.json").read_text())
    assert list(metrics["saes"]) == [p["name"] for p in frontier["points"]]
    assert all(
        {"architecture", "l0", "fvu", "delta_ce", "dead_fraction"} <= set(m) for m in metrics["saes"].values()
    )
    view = metrics["feature_view"]
    assert metrics["saes"][view["sae"]]["architecture"] == "jumprelu"
    assert 1 <= len(view["latents"]) <= report.N_LATENTS
    assert all({"concept", "latent", "f1", "precision", "recall"} <= set(r) for r in view["latents"])
    assert set(metrics["steering"]["latents"]) <= {r["latent"] for r in view["latents"]}


def test_the_page_is_self_contained_and_labelled(demo):
    page = (demo / "report.html").read_text(encoding="utf-8")
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp and "default-src 'none'" in csp.group(1) and "img-src data:" in csp.group(1)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert re.findall(r'<img src="([a-z]+):', page) == ["data"] * len(report.FIGURES)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    # three widgets, each in its own container; the frontier and feature view name what they show
    assert (
        len(re.findall(r"<div [^>]*data-saew-widget", page)) == 3
        and page.count('<script type="module">') == 2
    )
    metrics = json.loads((demo / "metrics.json").read_text())
    for row in metrics["feature_view"]["latents"]:
        assert f'data-latent="{row["latent"]}"' in page and f"<td>{row['concept']}</td>" in page
    assert f"Features of {metrics['feature_view']['sae']}" in page
    for name in report.FIGURES:
        assert f"<code>{name}</code>" in page


def test_corpus_text_and_names_are_escaped(demo, model, tmp_path):
    """A document and a model name full of markup end up as text: in the HTML escaped, in the widgets' JSON
    state with '<' as \\u003c, so neither can open a tag or close a <script>."""
    from saewidgets.zoo.corpus import Corpus, Document

    base = sw.load_corpus("storyteller", n_docs=12, seed=1)
    docs = [Document(d.text + " " + EVIL, d.labels, d.spans) for d in base[:]]
    corpus = Corpus(docs, name="storyteller", seed=1, plant=base.plant, co_plant=base.co_plant)
    frontier = json.loads((demo / "frontier.json").read_text())
    points = frontier["points"]
    acts = sw.harvest(model, corpus, frontier["hook"])
    saes = [sw.load_sae(demo / "saes" / p["name"]) for p in points]
    info = {
        "model": EVIL,
        "n_layers": 4,
        "d_model": 128,
        "n_params": 1e6,
        "hook": frontier["hook"],
        "n_tokens": 1,
        "n_docs": 1,
        "sae_tokens": 1,
        "d_sae": 64,
        "eval_tokens": len(acts),
        "ce_docs": 1,
        "seconds": 1.0,
        "train_seconds": 1.0,
        "greedy_sample": EVIL,
    }
    out = report.write_report(
        tmp_path,
        points=points,
        saes=saes,
        densities=[np.ones(64) * 0.1] * len(saes),
        model=model,
        corpus=corpus,
        activations=acts,
        info=info,
    )
    page = out["html"].read_text(encoding="utf-8")
    assert "<img src=x" not in page and "<script>alert" not in page and "</script> &" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the header's model name and greedy sample, as text
    assert "\\u003cscript\\u003e" in page  # the corpus tokens inside the feature view's JSON state
    # 3 widget states, 3 ESMs (one per class), report.js and the shim: no text opened or closed a <script>
    assert page.count("<script") == page.count("</script>") == 3 + 3 + 2


def test_choose_sae_takes_the_best_jumprelu_at_moderate_l0():
    pts = [
        {"architecture": "relu", "l0": 20, "fvu": 0.01},
        {"architecture": "jumprelu", "l0": 80, "fvu": 0.02},
        {"architecture": "jumprelu", "l0": 30, "fvu": 0.05},
        {"architecture": "jumprelu", "l0": 12, "fvu": 0.08},
        {"architecture": "jumprelu", "l0": 4, "fvu": 0.2},
    ]
    assert report.choose_sae(pts) == 2
    assert report.choose_sae([p for p in pts if p["l0"] in (80, 4)]) == 0  # none moderate: best of the rest
    assert report.choose_sae(pts[:1]) == 0  # no JumpReLU at all


def test_steering_units_are_typical_max_of_the_chosen_latents(demo, model):
    from saewidgets.steering import typical_max

    acts = sw.harvest(model, sw.load_corpus("storyteller", n_docs=8, seed=1), "blocks.1.hook_resid_post")
    sae = sw.load_sae(next((demo / "saes").iterdir()))
    units = typical_max(sae, acts, latents=[3, 7])
    full = typical_max(sae, acts)
    torch.testing.assert_close(units[[3, 7]], full[[3, 7]])
    assert units.shape == full.shape and (np.delete(units.numpy(), [3, 7]) == 1).all()


def test_render_document_shares_one_esm_per_widget_class():
    from saewidgets.widgets._base import render_document, static_text
    from saewidgets.widgets.frontier_plot import FrontierPlot

    pts = [{"architecture": "relu", "l0": 5.0, "fvu": 0.1}, {"architecture": "relu", "l0": 9.0, "fvu": 0.05}]
    a, b = FrontierPlot(pts), FrontierPlot(pts, y_metric="fvu", title=EVIL)
    page = render_document("two <plots>", ["<p>between</p>", a.html_part("a"), b.html_part("b")])
    assert page.count('id="saew-esm-') == 1 and page.count('data-saew-esm="saew-esm-0"') == 2
    assert page.count(static_text("frontier_plot.css")) == 1 and page.count(static_text("base.css")) == 1
    assert "<title>two &lt;plots&gt;</title>" in page and EVIL not in page


def test_the_feature_view_shows_a_byte_token_in_the_logit_effects_as_its_bytes(model):
    """A latent whose decoder row is the unembedding of a byte-level piece of a character pushes that piece
    up. Decoded one id at a time it was U+FFFD in the report; it shows its bytes (``token_text.vocab_piece``)."""
    from saewidgets.features import unembedding
    from saewidgets.token_text import vocab_piece

    W_U = unembedding(model).detach().float()  # [d_model, vocab]
    pieces = [i for i in range(W_U.shape[1]) if "\ufffd" in model.tokenizer.decode([i])]
    unit = W_U / W_U.norm(dim=0, keepdim=True)
    # the byte piece its own direction ranks highest (within the 10 tokens a logit list shows)
    rank, piece = min((int(((unit[:, b] @ W_U) > (unit[:, b] @ W_U)[b]).sum()), b) for b in pieces)
    assert rank < 10
    acts = sw.harvest(model, sw.load_corpus("storyteller", n_docs=4, seed=2), "blocks.1.hook_resid_post")
    torch.manual_seed(0)
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=W_U.shape[0], d_sae=8))
    with torch.no_grad():
        sae.W_dec[0] = unit[:, piece]
    w = report.feature_view(sae, acts, model, [0])
    assert not [t for t in w._vocab if "\ufffd" in t]
    assert vocab_piece(model.tokenizer, piece) in w._vocab and vocab_piece(model.tokenizer, piece).startswith(
        "\\x"
    )
