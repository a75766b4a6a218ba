"""Feature absorption (saewidgets.evals.absorption) on hand-built dictionaries with known absorption."""

import numpy as np
import pytest
from evals_toy import CHILD0, PARENT, absorbing, perfect, random_sae, toy_hierarchy

from saewidgets.evals.absorption import absorption


@pytest.fixture(scope="module")
def toy():
    return toy_hierarchy()


def test_a_perfect_dictionary_absorbs_nothing(toy):
    r = absorption(perfect(), toy.x, toy.parent, toy.children, toy.test)
    assert r["main_latents"] == [PARENT]
    assert r["probe"]["balanced_accuracy"] > 0.98 and r["n_evaluated"] > 500
    assert r["absorption_fraction"] < 0.02 and r["full_absorption"] < 0.02 and r["planted"] < 0.02


def test_the_absorbed_child_and_only_it_is_found(toy):
    r = absorption(absorbing(), toy.x, toy.parent, toy.children, toy.test)
    kids = r["children"]
    assert kids["child0"]["absorption_fraction"] > 0.95 and kids["child0"]["full_absorption"] > 0.95
    assert kids["child0"]["planted"] > 0.95 and kids["child0"]["child_latents"] == [CHILD0]
    for name in ("child1", "child2", "child3"):
        assert kids[name]["absorption_fraction"] < 0.02 and kids[name]["planted"] < 0.02, name
    # one child of four: about a quarter of the parent's tokens, by every count
    for key in ("absorption_fraction", "full_absorption", "planted"):
        assert 0.18 < r[key] < 0.32, (key, r[key])


def test_a_random_dictionary_has_no_planted_absorption(toy):
    """No latent of a random dictionary is specific to a child, so the planted count stays at zero."""
    r = absorption(random_sae(), toy.x, toy.parent, toy.children, toy.test)
    assert r["planted"] == 0.0 and all(not k["child_latents"] for k in r["children"].values())


def test_a_child_outside_its_parent_is_refused(toy):
    bad = dict(toy.children, stray=~toy.parent & (np.arange(len(toy.parent)) % 7 == 0))
    with pytest.raises(ValueError, match="outside the parent"):
        absorption(perfect(), toy.x, toy.parent, bad, toy.test)
