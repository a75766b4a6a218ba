"""Latents scored as classifiers of the corpus's planted concepts (saewidgets.concepts)."""

import numpy as np
import pytest
import torch
from fakes import TableSAE

import saewidgets as sw
from saewidgets import concepts


@pytest.fixture(scope="module")
def harvested(model, corpus):
    return sw.harvest(model, corpus, "blocks.0.hook_resid_post")


def test_document_labels_for_binary_and_valued_concepts(corpus):
    assert concepts.document_labels(corpus, "dialogue").tolist() == corpus.label("dialogue")
    sea = concepts.document_labels(corpus, "topic=sea")
    assert sea.tolist() == [t == "sea" for t in corpus.label("topic")] and 0 < sea.sum() < len(corpus)
    with pytest.raises(ValueError, match="topic=animals"):
        concepts.document_labels(corpus, "topic")
    with pytest.raises(KeyError, match="unknown label"):
        concepts.document_labels(corpus, "pirates")


def test_token_labels_mark_exactly_the_tokens_inside_concept_sentences(model, corpus, harvested):
    labels = concepts.token_labels(harvested, corpus, model.tokenizer, "question")
    tokens = [model.tokenizer.decode([t]) for t in harvested.token_ids.tolist()]
    docs = harvested.doc_ids.numpy()
    question_docs = np.array(corpus.label("question"))
    assert labels.any() and not labels[~question_docs[docs]].any()
    # every '?' is inside a question sentence, and every labelled token's text lies in its document's spans
    assert all(labels[i] for i, t in enumerate(tokens) if "?" in t)
    for i in np.flatnonzero(labels)[:200]:
        doc = corpus[int(docs[i])]
        assert any(tokens[i].strip() in doc.text[s:e] for s, e in doc.spans["question"])
    # a token outside the spans of a question document is not labelled
    outside = [i for i in range(len(tokens)) if question_docs[docs[i]] and not labels[i]]
    assert outside


def test_latent_scores_are_precision_recall_and_f1(harvested):
    n = len(harvested)
    y = np.zeros(n, bool)
    y[: n // 4] = True
    acts = np.zeros((n, 3), np.float32)
    acts[: n // 4, 0] = 1.0  # latent 0: the label exactly
    acts[: n // 8, 1] = 2.0  # latent 1: half the label, never outside it
    acts[:, 2] = 0.5  # latent 2: fires everywhere
    rows = torch.arange(n, dtype=torch.float32)[:, None]
    s = concepts.latent_scores(TableSAE(acts), rows, y)
    np.testing.assert_allclose(s["precision"], [1.0, 1.0, y.mean()])
    np.testing.assert_allclose(s["recall"], [1.0, (n // 8) / (n // 4), 1.0])
    np.testing.assert_allclose(s["f1"][0], 1.0)
    assert concepts.best_latents(s, n=2)[0]["latent"] == 0
    assert s["base_rate"] == pytest.approx(y.mean())


def test_many_label_sets_are_scored_in_one_pass_like_each_alone(harvested):
    n = len(harvested)
    rng = np.random.default_rng(0)
    acts = (rng.random((n, 5)) < 0.2).astype(np.float32) * rng.random((n, 5)).astype(np.float32)
    rows = torch.arange(n, dtype=torch.float32)[:, None]
    sets = {"a": rng.random(n) < 0.3, "b": acts[:, 3] > 0, "c": rng.random(n) < 0.05}
    many = concepts.latent_scores_many(TableSAE(acts), rows, sets, batch_size=97)  # several batches
    for name, y in sets.items():
        on = acts > 0
        hits, fires = (on & y[:, None]).sum(0), on.sum(0)
        np.testing.assert_allclose(
            many[name]["precision"], np.where(fires > 0, hits / np.maximum(fires, 1), 0)
        )
        np.testing.assert_allclose(many[name]["recall"], hits / y.sum())
        assert many[name]["base_rate"] == pytest.approx(y.mean())
    np.testing.assert_allclose(many["b"]["recall"][3], 1.0)
    np.testing.assert_allclose(many["b"]["precision"][3], 1.0)


def test_a_trained_sae_has_a_latent_for_question_marks(model, corpus, harvested):
    torch.manual_seed(0)
    sae = sw.train(
        sw.build_sae(sw.SAEConfig("topk", d_in=128, d_sae=256, k=8)),
        harvested,
        n_tokens=60_000,
        lr=3e-3,
        progress=False,
    ).sae
    table = concepts.concept_table(sae, harvested, corpus, model.tokenizer, ["question", "topic=sea"])
    assert [r["concept"] for r in table] == ["question", "topic=sea"]
    question = table[0]
    # far better than chance: a latent firing at random at the label's rate has precision = base rate
    assert question["precision"] > 3 * question["base_rate"] and question["f1"] > 0.2


def test_bad_input_is_explained(model, corpus, harvested):
    other = sw.load_corpus("storyteller", n_docs=10, seed=5)
    with pytest.raises(ValueError, match="not harvested from this corpus"):
        concepts.token_labels(harvested, other, model.tokenizer, "question")
    with pytest.raises(ValueError, match="labels 'x' must be one bool per activation row"):
        concepts.latent_scores_many(TableSAE(np.zeros((3, 2))), torch.zeros(3, 1), {"x": [True]})
    with pytest.raises(ValueError, match="one bool per activation row"):
        concepts.latent_scores(TableSAE(np.zeros((3, 2))), torch.zeros(3, 1), [True])
    with pytest.raises(ValueError, match="no row carries"):
        concepts.latent_scores(TableSAE(np.zeros((3, 2))), torch.zeros(3, 1), [False] * 3)
    with pytest.raises(ValueError, match="label name"):
        concepts.parse_concept("")
