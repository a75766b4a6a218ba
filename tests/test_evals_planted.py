"""Every metric on the bundled SAE against the storyteller corpus's planted labels (evals.planted)."""

import math

import pytest

import saewidgets as sw
from saewidgets.evals.planted import SUMMARY_KEYS, evaluate_planted, planted_labels

HOOK = "blocks.1.hook_resid_post"


@pytest.fixture(scope="module")
def harvest(model):
    corpus = sw.load_corpus("storyteller", n_docs=300, seed=11)
    return corpus, sw.harvest(model, corpus, HOOK)


@pytest.fixture(scope="module")
def result(model, harvest):
    corpus, acts = harvest
    return evaluate_planted(sw.load_sae("storyteller"), acts, corpus, model.tokenizer, n_latents=40)


def test_labels_cover_sentence_and_word_concepts(model, harvest):
    corpus, acts = harvest
    labels = planted_labels(acts, corpus, model.tokenizer)
    assert {"dialogue", "tone=sad", "topic=sea", "word:colour", "word:animal", "word:colour=red"} <= set(
        labels
    )
    assert (labels["word:colour=red"] <= labels["word:colour"]).all()  # a child is inside its parent


def test_every_summary_number_is_a_sane_fraction(result):
    summary = result["summary"]
    assert set(summary) == set(SUMMARY_KEYS)
    for key, value in summary.items():
        assert math.isfinite(value) and 0 <= value <= 1, (key, value)
    # the full linear probe is the ceiling a handful of latents approaches from below
    assert summary["probe_ceiling_f1"] > summary["probing_f1_k1"]
    assert summary["probing_f1_k5"] > summary["probing_f1_k1"]
    # the bundled SAE's latents are explained far better than chance by the planted labels
    assert summary["autointerp"] > 0.7 and result["autointerp"]["n_scored"] >= 30


def test_word_concepts_are_read_off_the_activations_and_absorption_is_measured(result):
    for parent in ("animal", "colour"):
        probe = result["probing"][f"word:{parent}"]
        assert probe["linear_probe"]["f1"] > 0.8, (parent, probe["linear_probe"])
    colour = result["absorption"]["colour"]
    assert colour["probe"]["f1"] > 0.8 and colour["n_evaluated"] >= 20 and colour["main_latents"]
    assert set(colour["children"]) <= {
        f"colour={c}"
        for c in (
            "red",
            "blue",
            "green",
            "yellow",
            "orange",
            "pink",
            "purple",
            "brown",
            "black",
            "white",
            "grey",
            "silver",
            "golden",
        )
    }
