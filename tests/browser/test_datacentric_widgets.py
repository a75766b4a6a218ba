"""The data-centric widgets in real Chromium, from their offline pages: bars and band, click and keyboard
selection, brushing the NPMI scatter, cluster cards, and retrieval highlights from the storyteller model."""

import numpy as np
import pytest
import torch
from test_datacentric_widgets import EVIL, grouped_emb, make_emb, planted_retrieval_emb, random_docs

from saewidgets import datacentric as dc
from saewidgets.widgets import ClusterBrowser, DiffBars, NPMIScatter, RetrievalBox

HOOK = "blocks.1.hook_resid_post"


def no_injected_markup(pg):
    """Corpus text arrives as text: no element the page did not make itself."""
    assert pg.locator(".saew-widget script, .saew-widget img").count() == 0


@pytest.fixture(scope="module")
def diff_page(tmp_path_factory):
    rng = np.random.default_rng(1)
    target, other = random_docs(200, seed=2), random_docs(200, seed=3)
    target[:, 0], other[:, 0] = rng.random(200) < 0.4, 0
    target[:, 1], other[:, 1] = rng.random(200) < 0.1, rng.random(200) < 0.5
    r = dc.diff(make_emb(target), make_emb(other), n_permutations=50)
    w = DiffBars(
        r, names=["sad stories", "happy stories"], labels={0: "tone=sad", 1: EVIL}, n=12, n_negative=3
    )
    return w, w.to_html(tmp_path_factory.mktemp("db") / "diff.html")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_diff_bars_band_marks_and_click_selects(diff_page, page, scheme):
    w, path = diff_page
    p = page(scheme)
    pg = p.open(path)
    rows = pg.locator(".saew-db-row")
    assert rows.count() == len(w.latents)
    assert [int(v) for v in rows.evaluate_all("els => els.map(e => e.dataset.latent)")] == w.latents
    assert (
        pg.locator(".saew-db-row.saew-db-sig").count() == 2
    )  # latent 0 (+) and latent 1 (-) are beyond the band
    assert pg.locator(".saew-db-row[data-latent='0']").get_attribute("class").count("saew-db-sig") == 1
    # the band is the same width on every row and centred on zero; bars beyond it reach past its edge
    band = pg.locator(".saew-db-row[data-latent='0'] .saew-db-band").bounding_box()
    zero = pg.locator(".saew-db-row[data-latent='0'] .saew-db-zero").bounding_box()
    assert abs(band["x"] + band["width"] / 2 - zero["x"]) < 2
    bar0 = pg.locator(".saew-db-row[data-latent='0'] .saew-db-bar").bounding_box()
    assert bar0["x"] + bar0["width"] > band["x"] + band["width"] + 5 and bar0["x"] >= zero["x"] - 1
    bar1 = pg.locator(".saew-db-row[data-latent='1'] .saew-db-bar").bounding_box()
    assert bar1["x"] < band["x"] - 5  # negative: left of the band
    colors = pg.eval_on_selector_all(
        ".saew-db-row[data-latent='0'] .saew-db-bar, .saew-db-row[data-latent='1'] .saew-db-bar",
        "els => els.map(e => getComputedStyle(e).backgroundColor)",
    )
    assert colors[0] != colors[1]
    assert EVIL in pg.inner_text(".saew-db-row[data-latent='1']")
    no_injected_markup(pg)
    pg.click(".saew-db-row[data-latent='0']")
    assert pg.locator(".saew-db[data-selected='0']").count() == 1
    assert "#0 tone=sad" in pg.inner_text(".saew-db-status")
    p.shot(f"diff_bars_{scheme}")
    pg.keyboard.press("ArrowDown")
    pg.keyboard.press("Enter")
    assert pg.locator(f".saew-db[data-selected='{w.latents[1]}']").count() == 1
    pg.click(".saew-dc-clear")
    assert pg.locator(".saew-db[data-selected='']").count() == 1


@pytest.fixture(scope="module")
def npmi_page(tmp_path_factory):
    x = random_docs(300, d=12, seed=4, base=0.3)
    x[:, 3] = x[:, 2]
    x[:, 5] = np.where(x[:, 4] > 0, 0, x[:, 5])
    r = dc.npmi(x, min_count=5)
    torch.manual_seed(0)
    W = torch.randn(12, 16)
    W[3] = W[2] + 0.05 * torch.randn(16)
    sim = dc.decoder_similarity(type("Dec", (), {"W_dec": W})(), r)
    w = NPMIScatter(r, sim, labels={2: EVIL})
    return w, w.to_html(tmp_path_factory.mktemp("ns") / "npmi.html")


def point_center(pg, i):
    box = pg.locator(f".saew-ns-pt[data-i='{i}']").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_npmi_scatter_brush_selects_pairs_and_click_picks_one(npmi_page, page, scheme):
    w, path = npmi_page
    p = page(scheme)
    pg = p.open(path)
    assert pg.locator(".saew-ns-pt").count() == len(w.pairs) == 66
    # brush a box around the low-similarity, high-NPMI points (every pair except the planted one is there)
    xs, ys = zip(*(point_center(pg, i) for i in range(len(w.pairs))))
    cx, cy = point_center(pg, 0)  # (2, 3): NPMI 1, similarity ~1: top right, alone
    pg.mouse.move(cx - 12, cy - 12)
    pg.mouse.down()
    pg.mouse.move(cx, cy, steps=3)
    pg.mouse.move(cx + 12, cy + 12, steps=3)
    pg.mouse.up()
    assert pg.locator(".saew-ns[data-n-selected='1']").count() == 1
    assert pg.locator(".saew-ns-pt.saew-ns-on").get_attribute("data-i") == "0"
    table = pg.inner_text(".saew-ns-table")
    assert EVIL in table and "#3" in table and "1.00" in table
    # a wide brush over the lower-left half selects exactly the points inside it
    x0, x1, y0, y1 = min(xs) - 3, float(np.median(xs)), float(np.median(ys)), max(ys) + 3

    def within(m):  # points inside the box shrunk (m > 0) or grown (m < 0) by m pixels
        return {i for i in range(len(xs)) if x0 + m <= xs[i] <= x1 - m and y0 + m <= ys[i] <= y1 - m}

    pg.mouse.move(x0, y0)
    pg.mouse.down()
    pg.mouse.move(x1, y1, steps=5)
    pg.mouse.up()
    on = {
        int(v) for v in pg.locator(".saew-ns-pt.saew-ns-on").evaluate_all("els => els.map(e => e.dataset.i)")
    }
    assert within(1.5) <= on <= within(-1.5) and len(on) > 5  # mouse positions are whole pixels
    assert pg.locator(".saew-ns-table tbody tr").count() == len(on)
    p.shot(f"npmi_scatter_{scheme}")
    # a click on a point: that pair, and its first latent
    pg.mouse.click(cx, cy)
    assert pg.locator(".saew-ns[data-n-selected='1'][data-selected-latent='2']").count() == 1
    # a latent in the table selects it; a click on empty space clears the pairs
    pg.click(".saew-ns-table .saew-dc-latent[data-latent='3']")
    assert pg.locator(".saew-ns[data-selected-latent='3']").count() == 1
    box = pg.locator(".saew-ns-frame").bounding_box()
    pg.mouse.click(box["x"] + 3, box["y"] + box["height"] - 3)
    assert pg.locator(".saew-ns[data-n-selected='0']").count() == 1
    no_injected_markup(pg)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_cluster_cards_select_cluster_and_latent(page, tmp_path, scheme):
    emb = grouped_emb()
    c = dc.cluster(emb, 2)
    w = ClusterBrowser(emb, c, labels={0: "the sea", 5: "dragons"}, excerpt_chars=120)
    p = page(scheme)
    pg = p.open(w.to_html(tmp_path / "clusters.html"))
    cards = pg.locator(".saew-cb-card")
    assert cards.count() == 2
    sea = int(c.labels[0])
    card = pg.locator(f".saew-cb-card[data-cluster='{sea}']")
    assert card.locator(".saew-dc-latent").count() == 5
    assert "#0 the sea" in card.inner_text() and "100% vs 0%" in card.inner_text()
    assert card.locator(".saew-cb-doc").count() == 3
    assert EVIL[:30] in card.inner_text()  # doc 3 is the most central of the sea cluster: shown as text
    no_injected_markup(pg)
    card.click()
    assert pg.locator(f".saew-cb[data-selected-cluster='{sea}']").count() == 1
    assert "saew-cb-selected" in card.get_attribute("class")
    other = pg.locator(f".saew-cb-card[data-cluster='{1 - sea}']")
    other.locator(".saew-dc-latent[data-latent='5']").click()
    # a latent click selects the latent, not the card it sits in
    assert pg.locator(f".saew-cb[data-selected-latent='5'][data-selected-cluster='{sea}']").count() == 1
    assert "saew-dc-on" in other.locator(".saew-dc-latent[data-latent='5']").get_attribute("class")
    p.shot(f"cluster_browser_{scheme}")


def test_retrieval_plain_text_without_token_data(page, tmp_path):
    w = RetrievalBox(planted_retrieval_emb(), examples=[0, 1, 2], k=5)
    p = page()
    pg = p.open(w.to_html(tmp_path / "plain.html"))
    docs = pg.locator(".saew-rb-doc")
    assert docs.count() == 5 and pg.locator(".saew-rb-tok").count() == 0
    assert [int(v) for v in docs.evaluate_all("els => els.map(e => e.dataset.doc)")] == w.docs
    assert EVIL in pg.inner_text(".saew-rb-docs")  # document 4 is one of the planted ones
    no_injected_markup(pg)
    assert "Plain text" in pg.inner_text(".saew-rb-legend")
    assert pg.locator(".saew-rb-temp").is_disabled() and pg.locator(".saew-rb-k").is_disabled()
    assert pg.locator(".saew-rb-offline").is_visible()


@pytest.fixture(scope="module")
def story_retrieval(model, corpus, tmp_path_factory):
    """The storyteller model, an untrained TopK SAE (k 8 fires on every token), 16 stories + EVIL (doc 16)."""
    from saewidgets import SAEConfig, build_sae, harvest

    texts = [d.text for d in corpus[:16]] + [EVIL]
    acts = harvest(model, texts, HOOK)
    torch.manual_seed(0)
    sae = build_sae(SAEConfig("topk", d_in=128, d_sae=64, k=8))
    emb = dc.embed_documents(sae, acts)
    # by example; k beyond the 14 other documents shows them all, the EVIL one (tokens and all) included
    w = RetrievalBox(emb, examples=[0, 1, 2], k=16, sae=sae, activations=acts, tokenizer=model)
    assert sorted(w.docs) == list(range(3, 17)) and len(w._latents) > 1
    return w, w.to_html(tmp_path_factory.mktemp("rb") / "retrieval.html")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_retrieval_highlights_tokens_where_the_query_latents_fire(story_retrieval, page, scheme):
    w, path = story_retrieval
    p = page(scheme)
    pg = p.open(path)
    assert pg.locator(".saew-rb-doc").count() == 14 and pg.locator(".saew-rb-chip").count() == len(w._latents)
    for j, d in enumerate(w.docs):
        toks, scores = w.token_scores(d)
        spans = pg.locator(f".saew-rb-doc[data-doc='{d}'] .saew-rb-tok")
        assert spans.count() == len(toks)
        assert "".join(spans.all_text_contents()) == "".join(toks)
        hit = pg.locator(f".saew-rb-doc[data-doc='{d}'] .saew-rb-hit")
        assert hit.count() == int((scores > 0).sum())
        assert (j > 0 or hit.count() > 0) and (scores.max() > 0) == (w._scores[j] > 0)  # the top one has hits
        if scores.max() == 0:
            continue
        best = int(np.argmax(scores))
        span = spans.nth(best)
        assert float(span.get_attribute("data-score")) == pytest.approx(float(scores[best]), rel=1e-4)
        assert span.get_attribute("title").startswith(f"score {scores[best]:.2f}")
        assert span.evaluate("e => e.style.background") != ""
    # the strongest token overall is coloured darker than a weak one
    alphas = pg.locator(".saew-rb-hit").evaluate_all(
        "els => els.map(e => Number(e.style.background.match(/[\\d.]+\\)$/)[0].slice(0, -1)))"
    )
    assert max(alphas) == pytest.approx(0.85, abs=0.01) and min(alphas) < 0.5
    assert "<script>alert(1)</script>" in pg.inner_text(".saew-rb-doc[data-doc='16'] .saew-rb-tokens")
    no_injected_markup(pg)
    pg.click(".saew-rb-chip[data-rank='0'] .saew-dc-latent")
    assert pg.locator(f".saew-rb[data-selected-latent='{int(w._latents[0])}']").count() == 1
    p.shot(f"retrieval_box_{scheme}")
