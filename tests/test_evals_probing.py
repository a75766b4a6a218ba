"""Sparse probing (saewidgets.evals.sparse_probing) on a toy hierarchy whose answers are known."""

import numpy as np
import pytest
from evals_toy import CHILD0, PARENT, absorbing, perfect, random_sae, toy_hierarchy

from saewidgets.evals.probes import scores, split_by_document
from saewidgets.evals.sparse_probing import sparse_probing


@pytest.fixture(scope="module")
def toy():
    return toy_hierarchy()


def test_a_perfect_dictionary_reads_each_concept_off_one_latent(toy):
    r = sparse_probing(perfect(), toy.x, toy.parent, toy.test)
    assert r["sae"][1]["latents"] == [PARENT]
    assert r["sae"][1]["balanced_accuracy"] > 0.98 and r["sae"][1]["f1"] > 0.97
    assert r["linear_probe"]["balanced_accuracy"] > 0.98 and r["diff_in_means"]["balanced_accuracy"] > 0.95
    child = sparse_probing(perfect(), toy.x, toy.children["child2"], toy.test)
    assert child["sae"][1]["latents"] == [CHILD0 + 2] and child["sae"][1]["f1"] > 0.97


def test_a_random_dictionary_is_far_below_the_probe_ceiling(toy):
    r = sparse_probing(random_sae(), toy.x, toy.children["child1"], toy.test, ks=(1, 2))
    ceiling = r["linear_probe"]["balanced_accuracy"]
    assert ceiling > 0.98
    assert r["sae"][1]["balanced_accuracy"] < ceiling - 0.15 and r["sae"][1]["f1"] < 0.6


def test_an_absorbed_parent_needs_more_than_one_latent(toy):
    """The parent's own latent misses every child-0 token (a quarter of the parent's): one latent reads the
    parent worse than five, which include child 0's latent, the one that carries it there."""
    r = sparse_probing(absorbing(), toy.x, toy.parent, toy.test, ks=(1, 5))
    assert r["sae"][1]["latents"] == [PARENT]
    assert r["sae"][1]["f1"] < 0.9 < 0.97 < r["sae"][5]["f1"]
    assert CHILD0 in r["sae"][5]["latents"]


def test_balanced_scores_put_chance_at_one_half():
    y = np.zeros(1000, bool)
    y[:20] = True
    assert scores(y, np.ones(1000, bool))["balanced_accuracy"] == 0.5
    assert scores(y, np.zeros(1000, bool)) == {"balanced_accuracy": 0.5, "f1": 0.0}
    assert scores(y, y) == {"balanced_accuracy": 1.0, "f1": 1.0}


def test_the_split_keeps_documents_whole():
    docs = np.repeat(np.arange(10), 7)
    test = split_by_document(docs, 0.3, seed=1)
    assert test.sum() == 21 and all(len(set(test[docs == d])) == 1 for d in range(10))
    assert (split_by_document(docs, 0.3, seed=1) == test).all()


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.zeros(5, bool), "one bool per activation row"),
        ("zeros", "positive and negative rows"),
    ],
)
def test_bad_labels_say_what_is_wrong(toy, labels, message):
    labels = np.zeros(len(toy.x), bool) if isinstance(labels, str) else labels
    with pytest.raises(ValueError, match=message):
        sparse_probing(perfect(), toy.x, labels, toy.test)


def test_rows_without_documents_need_a_held_out_set(toy):
    with pytest.raises(ValueError, match="pass test_rows"):
        sparse_probing(perfect(), toy.x, toy.parent)


def test_many_concepts_at_once_give_what_each_gives_alone(toy):
    from saewidgets.evals.sparse_probing import sparse_probing_many

    sets = {"parent": toy.parent, "child1": toy.children["child1"]}
    many = sparse_probing_many(perfect(), toy.x, sets, toy.test, ks=(1, 3))
    for name, y in sets.items():
        assert many[name] == sparse_probing(perfect(), toy.x, y, toy.test, ks=(1, 3)), name


def test_a_probe_is_fitted_once_per_input_and_its_answer_cannot_be_edited(monkeypatch):
    from saewidgets.evals import probes

    calls = []
    fit = probes._fit_logistic
    monkeypatch.setattr(probes, "_fit_logistic", lambda *a: calls.append(1) or fit(*a))
    monkeypatch.setattr(probes, "_FITS", type(probes._FITS)())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype(np.float32)
    y = x[:, 0] + 0.3 * rng.normal(size=300) > 0.5
    w, b = probes.fit_logistic(x, y)
    w[:] = 0  # a caller scribbling on its copy must not change the remembered fit
    again, b2 = probes.fit_logistic(x.astype(np.float64), y)  # same values, other dtype: same fit
    assert len(calls) == 1 and b2 == b and np.abs(again).max() > 0.1
    probes.fit_logistic(x, y, seed=1)
    flipped = x.copy()
    flipped[0, 0] += 1.0
    probes.fit_logistic(flipped, y)
    assert len(calls) == 3  # another seed, another input: fitted afresh
