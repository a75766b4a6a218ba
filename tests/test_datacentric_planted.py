"""The data-centric issue's checks against planted ground truth, with the bundled reader SAE.

Sizes and thresholds are the issue's: diff 500 + 500 documents with the concept in 30 % of B; NPMI on
1,000 documents with a pair co-planted in 2 %; targeted clustering on tone; retrieval of a property
planted in 5 % of 2,000 documents. Baselines are computed alongside and reported in notebook 09.
"""

import pytest

import saewidgets as sw
from saewidgets.datacentric import planted

HOOK = "blocks.1.hook_resid_post"


@pytest.fixture(scope="module")
def reader():
    sae = sw.load_sae("storyteller")
    assert sae.hook_name == HOOK
    return sae


def test_diff_ranks_the_planted_concept_first_above_the_null(model, reader):
    r = planted.diff_check(model, reader, HOOK, concept="wizard", rate=0.3, n_docs=500)
    assert r["top_match"] == "wizard", r["top_match"]
    assert r["recall_at_5"] >= 0.8 and r["n_matching"] >= 1
    assert r["top_difference"] > r["null"]
    assert r["control_n_significant"] == 0 and r["control_max_abs_difference"] < r["control_null"]
    assert r["bag_of_words_top"][0]["difference"] > 0.2  # the lexical baseline finds it too


@pytest.mark.slow  # ~10-15 s on 2 cores: out of `make check`, in `make test`
def test_npmi_of_a_co_planted_pair_is_high_and_of_an_independent_pair_near_zero(model, reader):
    r = planted.npmi_check(model, reader, HOOK, n_docs=1000)
    assert all(0.01 <= rate <= 0.03 for rate in r["rates"].values()), r["rates"]
    assert r["pair_label_npmi"] > 0.95 and abs(r["control_label_npmi"]) < 0.1  # the sample's own truth
    assert r["pair_npmi"] >= 0.8, r["pair_npmi"]
    assert abs(r["control_npmi"]) < 0.2, r["control_npmi"]


def test_targeted_clustering_follows_tone_not_topic(model, reader):
    r = planted.cluster_check(model, reader, HOOK, n_docs=400)
    assert r["targeted_ari_tone"] >= 0.7, r
    assert r["targeted_ari_topic"] <= 0.1, r


def test_retrieval_of_a_property_planted_in_five_percent(model, reader):
    r = planted.retrieval_check(model, reader, HOOK, concept="wizard", rate=0.05, n_docs=2000)
    assert 0.03 <= r["n_relevant"] / 2000 <= 0.07
    best = r["sae"][0.2]
    assert best["p_at_10"] >= 0.8 and best["ap"] >= 0.5, r["sae"]
