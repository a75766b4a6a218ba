"""DiffBars, NPMIScatter, ClusterBrowser, RetrievalBox: trait state from hand-made results, bad input,
escaping in the offline page, re-running retrieval from Python, and linking to a FeatureActivations."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import traitlets
from displayed import static_png
from fakes import ReluSAE

from saewidgets import datacentric as dc
from saewidgets.activation_set import ActivationSet
from saewidgets.widgets import ClusterBrowser, DiffBars, NPMIScatter, RetrievalBox, link_latent

EVIL = '<script>alert(1)</script> & <img src=x onerror=alert(2)> "quoted"'


def make_emb(dense, texts=None, sae_id="s") -> dc.DocEmbeddings:
    dense = np.asarray(dense, np.float32)
    return dc.DocEmbeddings(sp.csr_matrix(dense), "max", "h", "m", sae_id, np.full(len(dense), 10), texts)


def random_docs(n, d=30, seed=0, base=0.15):
    rng = np.random.default_rng(seed)
    return (rng.random((n, d)) < base).astype(np.float32)


@pytest.fixture(scope="module")
def diff_result():
    rng = np.random.default_rng(1)
    target, other = random_docs(200, seed=2), random_docs(200, seed=3)
    target[:, 0], other[:, 0] = rng.random(200) < 0.4, 0  # latent 0: 40 % vs 0 %
    target[:, 1], other[:, 1] = rng.random(200) < 0.1, rng.random(200) < 0.5  # latent 1: 10 % vs 50 %
    return dc.diff(make_emb(target), make_emb(other), n_permutations=50)


@pytest.fixture(scope="module")
def npmi_parts():
    x = random_docs(300, d=12, seed=4, base=0.3)
    x[:, 3] = x[:, 2]  # 2 and 3 always together: NPMI 1
    x[:, 5] = np.where(x[:, 4] > 0, 0, x[:, 5])  # 4 and 5 never together
    r = dc.npmi(x, min_count=5)
    torch.manual_seed(0)
    W = torch.randn(12, 16)
    W[3] = W[2] + 0.05 * torch.randn(16)  # the co-firing pair also shares a direction (the "obvious" kind)
    sae = type("Dec", (), {"W_dec": W})()
    return r, dc.decoder_similarity(sae, r)


def grouped_emb(texts=True):
    """40 documents: 0-19 fire latents 0-4, 20-39 fire latents 5-9, everyone fires a few of 10-19 at random."""
    x = random_docs(40, d=20, seed=5, base=0.1)
    x[:, :10] = 0
    x[:20, :5] = 1
    x[20:, 5:10] = 1
    names = [f"story {i}: " + ("the sea was calm " * 30 if i < 20 else "the dragon flew ") for i in range(40)]
    names[3] = EVIL
    return make_emb(x, names if texts else None)


# ---------------------------------------------------------------- DiffBars


def test_diff_bars_rows_band_and_selection(diff_result):
    w = DiffBars(
        diff_result, names=["sad", "happy"], labels={0: "tone=sad", 1: "tone=happy"}, n=8, n_negative=2
    )
    assert w.latents[0] == 0 and w.latents[-1] == 1  # largest difference first, most negative last
    assert len(w.latents) == 10 and len(set(w.latents)) == 10
    assert w._target[0] == pytest.approx(diff_result.frequencies[0, 0])
    assert w._others[-1] == pytest.approx(diff_result.frequencies[1, 1])
    assert w._difference[0] > w.null > 0 and w._difference[-1] < -w.null
    assert w.significant == [
        0
    ]  # above the band (more in the target); latent 1 is beyond it on the other side
    assert w._n_significant == len(diff_result.significant())
    assert w.corpus_names == ["sad", "happy"] and w._labels == {"0": "tone=sad", "1": "tone=happy"}
    assert (
        isinstance(w._latents, np.ndarray) and w._state_for_html()["_difference"]["b64"]
    )  # binary, not JSON
    w.selected_latent = 7
    assert "selected=7" in w._summary() and "sad vs happy" in w._summary()
    png = w._png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_diff_bars_bad_input(diff_result):
    with pytest.raises(TypeError, match="DiffResult"):
        DiffBars({"difference": [1.0]})
    with pytest.raises(ValueError, match="3 names for 2 corpora"):
        DiffBars(diff_result, names=["a", "b", "c"])
    with pytest.raises(ValueError, match="label for latent 30"):
        DiffBars(diff_result, labels={30: "nope"})
    with pytest.raises(ValueError, match="not a latent id"):
        DiffBars(diff_result, labels={"sad": "nope"})
    with pytest.raises(ValueError, match="n must be >= 1"):
        DiffBars(diff_result, n=0)
    w = DiffBars(diff_result)
    assert w.corpus_names == ["target", "other"]
    with pytest.raises(traitlets.TraitError, match=r"latent id in \[0, 30\)"):
        w.selected_latent = 30
    with pytest.raises(traitlets.TraitError):
        w.selected_latent = -1


# ---------------------------------------------------------------- NPMIScatter


def test_npmi_scatter_points_cap_and_selection(npmi_parts):
    r, sim = npmi_parts
    w = NPMIScatter(r, sim, max_points=20)
    assert len(w.pairs) == 20 and w._n_pairs == 66  # 12 latents: 66 unordered pairs, highest NPMI kept
    assert w.pairs[0] == (2, 3) and w._npmi[0] == pytest.approx(1.0)
    assert w._sim[0] == pytest.approx(sim[2, 3], abs=1e-6) and w._sim[0] > 0.9
    assert np.all(np.diff(w._npmi) <= 1e-6)  # by NPMI, highest first
    assert w._co[0] == r.co_counts[2, 3]
    w.selected_pairs = [[2, 3]]
    assert w.selected == [
        {
            "x": 2,
            "y": 3,
            "npmi": pytest.approx(1.0),
            "similarity": pytest.approx(float(sim[2, 3])),
            "co_count": int(r.co_counts[2, 3]),
        }
    ]
    with pytest.raises(traitlets.TraitError, match="not one of the points"):
        w.selected_pairs = [[4, 5]]  # never together: NPMI -1, below the 20 shown
    full = NPMIScatter(r, sim, max_points=5000)
    assert len(full.pairs) == 66 and (4, 5) in full.pairs
    assert full._npmi[full.pairs.index((4, 5))] == pytest.approx(-1.0)
    assert "2 selected" not in w._summary() and "1 selected" in w._summary()
    assert w._png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_npmi_scatter_bad_input(npmi_parts):
    r, sim = npmi_parts
    with pytest.raises(ValueError, match="similarity has shape"):
        NPMIScatter(r, sim[:3])
    with pytest.raises(ValueError, match=r"max_points must be an integer in \[1, 5000\]"):
        NPMIScatter(r, sim, max_points=6000)
    with pytest.raises(ValueError, match="no pair has NPMI >= 1.5"):
        NPMIScatter(r, sim, min_npmi=1.5)
    with pytest.raises(TypeError, match="NPMIResult"):
        NPMIScatter(sim, sim)
    w = NPMIScatter(r, sim, d_sae=12)
    with pytest.raises(traitlets.TraitError):
        w.selected_latent = 12


# ---------------------------------------------------------------- ClusterBrowser


def test_cluster_browser_cards_describe_the_planted_groups():
    emb = grouped_emb()
    c = dc.cluster(emb, 2)
    w = ClusterBrowser(emb, c, labels={0: "sea"}, n_latents=5, n_docs=3, excerpt_chars=60)
    assert sorted(w._sizes.tolist()) == [20, 20] and w._latents.shape == (2, 5) and w._central.shape == (2, 3)
    sea = c.labels[0]
    card = w.card(int(sea))
    assert {row["latent"] for row in card["latents"]} == {0, 1, 2, 3, 4}
    assert all(row["inside"] == pytest.approx(1.0) and row["outside"] == 0.0 for row in card["latents"])
    assert all(c.labels[d] == sea for d in card["central"])
    assert all(len(t) <= 62 for t in w._excerpts.values())  # cut at a word, plus " …"
    assert any(t.endswith(" …") for t in w._excerpts.values())
    w.selected_cluster = int(sea)
    w.selected_latent = 2
    assert f"selected_cluster={int(sea)}" in w._summary()
    with pytest.raises(traitlets.TraitError, match="one of"):
        w.selected_cluster = 5
    assert w._png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cluster_browser_bad_input():
    emb = grouped_emb()
    c = dc.cluster(emb, 2)
    with pytest.raises(ValueError, match="label 40 documents, the embeddings hold 10"):
        ClusterBrowser(emb.subset(np.arange(10)), c)
    with pytest.raises(ValueError, match="3 texts for 40 documents"):
        ClusterBrowser(emb, c, texts=["a", "b", "c"])
    with pytest.raises(TypeError, match="Clusters"):
        ClusterBrowser(emb, {"labels": c.labels})
    no_text = ClusterBrowser(grouped_emb(texts=False), c)  # still works: cards without excerpts
    assert no_text._excerpts == {}


# ---------------------------------------------------------------- RetrievalBox


def planted_retrieval_emb():
    x = random_docs(60, d=12, seed=6, base=0.1) * 0.5
    x[:8, 5] = 2.0
    x[:8, 7] = 1.0
    texts = [f"document {i}" for i in range(60)]
    texts[4] = EVIL
    return make_emb(x, texts)


def test_retrieval_box_by_example_reruns_when_temperature_or_k_change():
    emb = planted_retrieval_emb()
    w = RetrievalBox(emb, examples=[0, 1, 2], k=5)
    assert w._latents.tolist()[:2] in ([5, 7], [7, 5]) and set(w.docs) <= set(
        range(3, 8)
    )  # the other planted
    assert "by example: documents 0, 1, 2" in w._query and w._tok_offsets is None and len(w._texts) == 5
    weights_before = w._weights.copy()
    seen = []
    w.observe(lambda ch: seen.append(ch["name"]), names=["_docs", "_weights"])
    w.temperature = 1.0
    assert seen and not np.allclose(w._weights, weights_before)
    np.testing.assert_allclose(w._weights, dc.rank_weights(len(w._latents), 1.0), rtol=1e-6)
    w.k = 8
    assert len(w.docs) == 8 and len(w._texts) == 8 and w._contrib.shape == (8, len(w._latents))
    assert w.retrieval.docs.tolist() == w.docs
    with pytest.raises(traitlets.TraitError, match="temperature must be > 0"):
        w.temperature = 0.0
    with pytest.raises(traitlets.TraitError, match=r"k must be in \[1, 100\]"):
        w.k = 0
    assert w._png()[:8] == b"\x89PNG\r\n\x1a\n" and "k=8" in w._summary()


def test_retrieval_box_from_a_retrieval_keeps_its_latents_k_and_temperature():
    emb = planted_retrieval_emb()
    r = dc.retrieve(emb, latents=[5, 7, 9], k=4, temperature=0.5)
    w = RetrievalBox(emb, r)
    assert w.k == 4 and w.temperature == pytest.approx(0.5) and w._latents.tolist() == [5, 7, 9]
    assert w.docs == r.docs.tolist() and w._query == "by latents"
    w.k = 6
    assert w.docs[:4] == r.docs.tolist() and len(w.docs) == 6
    by_example = dc.retrieve(emb, examples=[0, 1, 2], k=3, temperature=0.4)
    w = RetrievalBox(emb, by_example, examples=[0, 1, 2])
    assert w.k == 3 and w.temperature == pytest.approx(0.4) and w.docs == by_example.docs.tolist()
    w.k = 60  # re-run by example: the examples stay out of the results
    assert len(w.docs) == 57 and not {0, 1, 2} & set(w.docs)


def test_retrieval_box_bad_input():
    emb = planted_retrieval_emb()
    with pytest.raises(ValueError, match="exactly one"):
        RetrievalBox(emb)
    with pytest.raises(ValueError, match="texts="):
        RetrievalBox(make_emb(np.eye(4)), latents=[0])
    with pytest.raises(ValueError, match="both sae= and activations="):
        RetrievalBox(emb, latents=[5], sae=object())
    with pytest.raises(TypeError, match="DocEmbeddings"):
        RetrievalBox(np.eye(3), latents=[0])


def test_retrieval_box_token_highlights_are_the_weighted_token_scores():
    # 3 documents x 2 tokens over 3 latents; document 1 has latent 0 on its second token only
    rows = torch.tensor(
        [[0, 0, 1], [0, 0, 0], [0, 0, 0], [4, 0, 0], [2, 1, 0], [0, 3, 0]], dtype=torch.float32
    )
    doc = torch.tensor([0, 0, 1, 1, 2, 2])
    texts = ["a b", EVIL, "e f"]
    acts = ActivationSet(rows, torch.arange(6), doc, torch.tensor([1, 2, 1, 2, 1, 2]), "h", "m", 1.0, texts)
    sae = ReluSAE(3)
    emb = dc.embed_documents(sae, acts)
    tokens = ["a", " b", "<script>", "alert(1)", " e", " f"]
    w = RetrievalBox(emb, latents=[0, 1], k=3, temperature=0.5, sae=sae, activations=acts, tokens=tokens)
    assert w.docs == [1, 2, 0]
    scale = dc.percentile_scale(emb)
    wts = dc.rank_weights(2, 0.5)
    toks, scores = w.token_scores(1)
    assert toks == ["<script>", "alert(1)"]
    np.testing.assert_allclose(scores, [0.0, 4 / scale[0] * wts[0]], rtol=1e-6)
    toks, scores = w.token_scores(2)
    np.testing.assert_allclose(
        scores, [2 / scale[0] * wts[0] + 1 / scale[1] * wts[1], 3 / scale[1] * wts[1]], rtol=1e-6
    )
    # each document's best token reaches its max-pooled score (one latent per token here)
    assert w.token_scores(1)[1].max() == pytest.approx(w._scores[0])
    with pytest.raises(ValueError, match="not the one the embeddings were made with"):
        RetrievalBox(emb, latents=[0], sae=ReluSAE(4), activations=acts, tokens=tokens)
    with pytest.raises(ValueError, match="5 token strings for 6"):
        RetrievalBox(emb, latents=[0], sae=sae, activations=acts, tokens=tokens[:5])
    with pytest.raises(ValueError, match="tokenizer="):
        RetrievalBox(emb, latents=[0], sae=sae, activations=acts)


# ---------------------------------------------------------------- offline pages and linking


def test_offline_pages_escape_text_and_reach_for_nothing(tmp_path, diff_result, npmi_parts):
    emb = grouped_emb()
    widgets = [
        DiffBars(diff_result, names=[EVIL, "b"], labels={0: EVIL}),
        NPMIScatter(*npmi_parts, labels={2: EVIL}),
        ClusterBrowser(emb, dc.cluster(emb, 2)),
        RetrievalBox(planted_retrieval_emb(), examples=[0, 1]),
    ]
    for i, w in enumerate(widgets):
        page = w.to_html(tmp_path / f"w{i}.html").read_text()
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "innerHTML" not in page and "insertAdjacentHTML" not in page
        urls = re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"'<>\\]*", page)
        assert all(u.startswith("http://www.w3.org/") for u in urls), urls  # only the SVG namespace name
        data, _ = w._repr_mimebundle_()
        assert static_png(w)[:4] == b"\x89PNG"
        assert data["text/plain"].startswith(type(w).__name__)


@pytest.fixture(scope="module")
def feature_widget():
    """A FeatureActivations over 40 random rows of a 30-latent ReLU SAE (d_in 8)."""
    from saewidgets import SAEConfig, build_sae
    from saewidgets.widgets import FeatureActivations

    torch.manual_seed(0)
    sae = build_sae(SAEConfig("relu", d_in=8, d_sae=30))
    acts = ActivationSet(
        torch.randn(40, 8),
        torch.zeros(40, dtype=torch.long),
        torch.arange(40) // 10,
        torch.arange(40) % 10 + 1,
        "h",
        "m",
        1.0,
        [f"doc {i}" for i in range(4)],
    )
    return FeatureActivations.from_activations(sae, acts, [f"t{i}" for i in range(40)], n_latents=4)


def test_selecting_a_latent_updates_a_linked_feature_activations(feature_widget, diff_result, npmi_parts):
    fa = feature_widget
    start = fa.latent
    bars = DiffBars(diff_result)
    link = link_latent(bars, fa)
    target = next(i for i in range(30) if i != start and i not in fa.candidates)
    bars.selected_latent = target
    assert fa.latent == target and target in fa.candidates  # computed in Python: FA had its SAE
    bars.selected_latent = None  # nothing selected: FA keeps what it shows
    assert fa.latent == target
    link.unlink()
    bars.selected_latent = start
    assert fa.latent == target
    # the method form, for the other widgets; a latent FA cannot show goes to its status line, not an error
    scatter = NPMIScatter(*npmi_parts)
    scatter.link(fa)
    scatter.selected_latent = 2
    assert fa.latent == 2
    scatter.selected_latent = 31
    assert fa.latent == 2 and "Could not show latent 31" in fa._status
    emb = grouped_emb()
    cards = ClusterBrowser(emb, dc.cluster(emb, 2), selected_latent=4)
    cards.link(fa)  # an existing selection shows at once
    assert fa.latent == 4
    with pytest.raises(TypeError, match="no trait 'selected_latent'"):
        link_latent(fa, cards)
