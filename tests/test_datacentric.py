"""Data-centric analysis on hand-made embeddings, where every answer is known exactly."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from fakes import ReluSAE

from saewidgets import datacentric as dc
from saewidgets.activation_set import ActivationSet


def make_emb(dense, n_tokens=None, sae_id="s", hook="h", pooling="max") -> dc.DocEmbeddings:
    dense = np.asarray(dense, np.float32)
    n_tokens = np.full(len(dense), 10) if n_tokens is None else np.asarray(n_tokens)
    return dc.DocEmbeddings(sp.csr_matrix(dense), pooling, hook, "m", sae_id, n_tokens, None)


def activation_set(rows, doc_ids, n_docs):
    rows = torch.tensor(rows, dtype=torch.float32)
    doc = torch.tensor(doc_ids)
    return ActivationSet(
        rows,
        torch.zeros(len(rows), dtype=torch.long),
        doc,
        torch.arange(len(rows)) + 1,
        hook="h",
        model_name="m",
        norm_scale=1.0,
        texts=[f"doc {i}" for i in range(n_docs)],
    )


# ---- embeddings ----

ROWS = [[1, 0, 0], [3, 2, 0], [0, 0, 0], [0, 5, 1], [2, 0, 0]]
DOCS = [0, 0, 0, 2, 2]  # document 1 is empty (no tokens)


@pytest.mark.parametrize(
    "pooling, want",
    [
        ("max", [[3, 2, 0], [0, 0, 0], [2, 5, 1]]),
        ("mean", [[4 / 3, 2 / 3, 0], [0, 0, 0], [1, 2.5, 0.5]]),
        ("count", [[2, 1, 0], [0, 0, 0], [1, 1, 1]]),
        ("binarize", [[1, 1, 0], [0, 0, 0], [1, 1, 1]]),
    ],
)
@pytest.mark.parametrize("chunk_rows", [1, 2, 4096])
def test_pooling_is_exact_whatever_the_chunking(pooling, want, chunk_rows):
    emb = dc.embed_documents(ReluSAE(3), activation_set(ROWS, DOCS, 3), pooling, chunk_rows=chunk_rows)
    assert sp.issparse(emb.values) and emb.values.shape == (3, 3)
    np.testing.assert_allclose(emb.values.toarray(), want, rtol=1e-6)
    assert emb.n_tokens.tolist() == [3, 0, 2] and emb.hook == "h" and emb.texts == ["doc 0", "doc 1", "doc 2"]
    np.testing.assert_allclose(emb.frequency(), [2 / 3, 2 / 3, 1 / 3])


def test_embedding_bad_input():
    with pytest.raises(ValueError, match="pooling must be one of"):
        dc.embed_documents(ReluSAE(3), activation_set(ROWS, DOCS, 3), "sum")
    with pytest.raises(ValueError, match="contiguous"):
        dc.embed_documents(ReluSAE(3), activation_set(ROWS, [0, 2, 0, 2, 2], 3))
    with pytest.raises(ValueError, match="harvest"):
        dc.embed_documents(ReluSAE(3), torch.zeros(4, 3))


def test_sae_fingerprint_tells_saes_apart():
    a, b = ReluSAE(3), ReluSAE(3)
    assert dc.sae_fingerprint(a) == dc.sae_fingerprint(b)
    with torch.no_grad():
        b.W_dec[0, 0] = 2.0
    assert dc.sae_fingerprint(a) != dc.sae_fingerprint(b)


# ---- diff ----


def planted(n, rate, d=40, seed=0, base=0.2):
    """n documents x d latents firing at random with probability ``base``; latent 0 fires in ``rate`` of them."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, d)) < base).astype(np.float32)
    x[:, 0] = 0
    x[: int(n * rate), 0] = 1
    return x


def test_diff_finds_the_planted_latent_above_the_null_and_an_a_a_control_finds_nothing():
    a, b = make_emb(planted(500, 0.0, seed=1)), make_emb(planted(500, 0.3, seed=2))
    r = dc.diff(b, a, n_permutations=200)
    assert r.order[0] == 0 and r.difference[0] == pytest.approx(0.3)
    assert r.difference[0] > r.null > 0 and r.significant().tolist() == [0]
    assert r.top(1)[0] == {
        "latent": 0,
        "difference": pytest.approx(0.3),
        "target": pytest.approx(0.3),
        "others": 0.0,
        "significant": True,
    }
    control = dc.diff(a.subset(np.arange(250)), a.subset(np.arange(250, 500)))
    assert len(control.significant()) == 0 and np.abs(control.difference).max() < control.null
    assert r.note == ""


def test_diff_against_several_corpora_uses_the_largest_other_share():
    t = make_emb([[1, 1]] * 4)
    o1 = make_emb([[1, 0], [0, 0], [0, 0], [0, 0]])  # latent 0 in 25 %
    o2 = make_emb([[1, 0], [1, 0], [0, 1], [0, 0]])  # latent 0 in 50 %, latent 1 in 25 %
    r = dc.diff(t, o1, o2, n_permutations=10)
    np.testing.assert_allclose(r.difference, [0.5, 0.75])
    np.testing.assert_allclose(r.frequencies, [[1, 1], [0.25, 0], [0.5, 0.25]])


def test_diff_notes_unmatched_lengths_and_refuses_mixed_or_empty_inputs():
    a = make_emb(planted(50, 0.0), n_tokens=np.full(50, 10))
    b = make_emb(planted(50, 0.3), n_tokens=np.full(50, 20))
    assert "differ by 100%" in dc.diff(b, a, n_permutations=5).note
    with pytest.raises(ValueError, match="different sae"):
        dc.diff(b, make_emb(planted(50, 0.0), sae_id="other"))
    with pytest.raises(ValueError, match="different hook"):
        dc.diff(b, make_emb(planted(50, 0.0), hook="other"))
    with pytest.raises(ValueError, match="no documents"):
        dc.diff(b, make_emb(np.zeros((0, 40))))
    with pytest.raises(ValueError, match="at least one other"):
        dc.diff(b)


# ---- NPMI ----


def test_npmi_values_match_the_definition():
    n = 100
    x = np.zeros((n, 4), np.float32)
    x[:10, 0] = x[:10, 1] = 1  # always together
    x[10:20, 2] = 1  # never with 0 or 1
    x[::2, 3] = 1  # half the documents: independent of 0 (5 of its 10 docs)
    r = dc.npmi(x)
    assert r.lookup(0, 1) == pytest.approx(1.0)
    assert r.lookup(0, 2) == -1.0
    p01, p0, p3 = 5 / n, 10 / n, 50 / n
    assert r.lookup(0, 3) == pytest.approx(np.log(p01 / (p0 * p3)) / -np.log(p01), abs=1e-6)
    assert abs(r.lookup(0, 3)) < 1e-6  # independent
    assert r.pairs(n=1)[0] == {"x": 0, "y": 1, "npmi": pytest.approx(1.0), "co_count": 10}
    assert all(p["x"] < p["y"] for p in r.pairs())  # each unordered pair once, no diagonal


def test_smoothing_pulls_evidence_free_rare_pairs_to_zero_and_keeps_real_ones():
    n = 1000
    x = np.zeros((n, 4), np.float32)
    x[:20, 0] = x[:20, 1] = 1  # co-planted in 2 %
    x[100:120, 2] = 1
    x[200:220, 3] = 1  # independent of 2, same rate, never together here
    plain, smooth = dc.npmi(x), dc.npmi(x, smoothing=0.5)
    assert plain.lookup(2, 3) == -1.0 and abs(smooth.lookup(2, 3)) < 0.05
    assert smooth.lookup(0, 1) > 0.95
    y = np.zeros((n, 2), np.float32)
    y[:500, 0] = 1
    y[500:900, 1] = 1  # frequent and never together: still strongly negative
    assert dc.npmi(y, smoothing=0.5).lookup(0, 1) < -0.7
    with pytest.raises(ValueError, match="pseudo-count"):
        dc.npmi(x, smoothing=-1)


def test_cross_matrix_npmi_pairs_row_i_of_x_with_row_i_of_y():
    rng = np.random.default_rng(0)
    prompts = (rng.random((200, 5)) < 0.3).astype(np.float32)
    responses = (rng.random((200, 3)) < 0.3).astype(np.float32)
    responses[:, 2] = prompts[:, 4]  # response latent 2 follows prompt latent 4
    r = dc.npmi(sp.csr_matrix(prompts), sp.csr_matrix(responses))
    assert r.values.shape == (5, 3) and not r.same
    assert r.lookup(4, 2) == pytest.approx(1.0) and r.pairs(n=1)[0]["x"] == 4
    with pytest.raises(ValueError, match="same documents"):
        dc.npmi(prompts, responses[:150])


def test_npmi_filters_by_similarity_and_min_count():
    x = np.zeros((50, 3), np.float32)
    x[:5, 0] = x[:5, 1] = x[:5, 2] = 1
    x[5, 2] = 1
    r = dc.npmi(x, min_count=6)
    assert r.x_index.tolist() == [2]
    with pytest.raises(KeyError, match="left out"):
        r.lookup(0, 1)
    frequent = dc.npmi(np.c_[x, np.ones(50)], max_share=0.5)
    assert 3 not in frequent.x_index and frequent.x_index.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="max_share"):
        dc.npmi(x, max_share=0)
    r = dc.npmi(x)
    sim = np.array([[1, 0.9, 0.1], [0.9, 1, 0.1], [0.1, 0.1, 1]])
    kept = r.pairs(min_npmi=0.5, similarity=sim, max_similarity=0.2)
    assert [(p["x"], p["y"]) for p in kept] == [(0, 2), (1, 2)]
    with pytest.raises(ValueError, match="min_count"):
        dc.npmi(x, min_count=0)
    with pytest.raises(ValueError, match="no feature"):
        dc.npmi(x, min_count=100)


# ---- clustering ----


def two_groups(n=40, d=20, seed=0):
    """Documents 0..n/2-1 use latents 0..9, the rest 10..19 (random subsets of 4)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, d), np.float32)
    for i in range(n):
        lo = 0 if i < n // 2 else d // 2
        x[i, lo + rng.choice(d // 2, 4, replace=False)] = 1
    return x


def test_jaccard_matches_its_definition():
    B = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 0, 0]], np.float32))
    J = dc.jaccard(B)
    np.testing.assert_allclose(J, [[1, 1 / 3, 0], [1 / 3, 1, 0], [0, 0, 1]])


def test_spectral_clustering_recovers_two_groups_and_describes_them():
    from sklearn.metrics import adjusted_rand_score

    x = two_groups()
    x[-1] = 0  # a document with no active latent: cluster -1
    emb = make_emb(x)
    c = dc.cluster(emb, 2)
    truth = np.r_[np.zeros(20), np.ones(20)]
    assert c.labels[-1] == -1
    assert adjusted_rand_score(truth[:-1], c.labels[:-1]) == 1.0
    desc = dc.describe(emb, c, n=3)
    assert sorted(d["size"] for d in desc) == [19, 20]
    group_of = {d["cluster"]: (d["latents"][0]["latent"] >= 10) for d in desc}
    for d in desc:  # each cluster's top latent comes from its own half, and its central docs are members
        assert all(c.labels[i] == d["cluster"] for i in d["central"])
        assert all((i >= 20) == group_of[d["cluster"]] for i in d["central"])


def test_targeted_clustering_uses_only_the_chosen_latents():
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(1)
    topic = two_groups(seed=1)  # latents 0..19: the "topic" split (first half / second half)
    tone = rng.integers(0, 2, 40)  # an independent split carried by latents 20 and 21
    x = np.concatenate([topic, np.stack([tone == 0, tone == 1], 1).astype(np.float32)], 1)
    emb = make_emb(x)
    targeted = dc.cluster(emb, 2, latents=dc.latents_for_label(emb, tone == 1, n=1).tolist() + [20])
    assert adjusted_rand_score(tone, targeted.labels) == 1.0
    assert set(targeted.latents.tolist()) == {20, 21}
    with pytest.raises(ValueError, match="cannot make 50 clusters"):
        dc.cluster(emb, 50)
    with pytest.raises(ValueError, match="n_clusters"):
        dc.cluster(emb, 1)
    with pytest.raises(ValueError, match="ids in"):
        dc.cluster(emb, 2, latents=[99])


# ---- retrieval ----


def test_rank_weights_and_percentile_scale():
    np.testing.assert_allclose(dc.rank_weights(4, 0.5), np.exp(-np.arange(4) / 2))
    with pytest.raises(ValueError, match="temperature"):
        dc.rank_weights(4, 0)
    emb = make_emb([[0, 1], [0, 2], [0, 3], [0, 0]])
    np.testing.assert_allclose(dc.percentile_scale(emb), [1.0, np.percentile([1, 2, 3], 90)])


def test_retrieval_by_example_and_by_latents_ranks_the_planted_documents_first():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 30)) < 0.2).astype(np.float32) * rng.random((200, 30)).astype(np.float32)
    relevant = np.zeros(200, bool)
    relevant[rng.choice(200, 10, replace=False)] = True
    x[relevant, 5] = 2.0 + rng.random(relevant.sum())  # the property's latents
    x[relevant, 7] = 1.0
    emb = make_emb(x)
    x[~relevant, 7] = 0  # latent 7 is specific; latent 5 also fires (weakly) elsewhere
    emb = make_emb(x)
    examples = np.flatnonzero(relevant)[:3]
    r = dc.retrieve(emb, examples=examples, k=7, n_latents=4)
    assert {5, 7} <= set(r.latents.tolist()) and not set(examples) & set(r.docs.tolist())
    assert dc.precision_at_k(r.docs, relevant, 7) == 1.0
    assert dc.average_precision(r.all_scores, relevant, exclude=examples) == 1.0
    assert r.contributions.shape == (7, 4) and np.allclose(r.contributions.sum(1), r.scores)
    by_latents = dc.retrieve(emb, latents=[5, 7], k=10)
    assert dc.precision_at_k(by_latents.docs, relevant, 10) == 1.0
    assert len(dc.retrieve(emb, latents=[5], k=10_000).docs) == 200  # k beyond the corpus: everything


def test_average_precision_by_hand_and_retrieval_bad_input():
    assert dc.average_precision([3, 2, 1, 0], [True, False, True, False]) == pytest.approx((1 + 2 / 3) / 2)
    emb = make_emb(np.eye(4))
    with pytest.raises(ValueError, match="exactly one"):
        dc.retrieve(emb)
    with pytest.raises(ValueError, match="exactly one"):
        dc.retrieve(emb, examples=[0], latents=[1])
    with pytest.raises(ValueError, match=r"indices in \[0, 4\)"):
        dc.retrieve(emb, examples=[7])
    with pytest.raises(ValueError, match="k must be"):
        dc.retrieve(emb, latents=[0], k=0)
    with pytest.raises(ValueError, match="share no latent"):
        dc.retrieve(make_emb(np.ones((4, 2))), examples=[0, 1])
