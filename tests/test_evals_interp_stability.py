"""Label-oracle autointerp and seed stability (saewidgets.evals) on cases with known answers."""

import numpy as np
import pytest
import torch
from evals_toy import CHILD0, N_OTHER, OTHER0, PARENT, perfect, random_sae, toy_hierarchy

from saewidgets.evals.autointerp import label_oracle_autointerp
from saewidgets.evals.stability import matched_cosines, seed_stability


@pytest.fixture(scope="module")
def toy():
    return toy_hierarchy()


def planted_labels(toy):
    x = toy.x.numpy()
    labels = {"parent": toy.parent, **toy.children}
    labels.update({f"other{j}": x[:, OTHER0 + j] > 0.5 for j in range(N_OTHER)})
    return labels


def test_a_perfect_dictionary_is_explained_by_its_planted_labels(toy):
    token_ids = np.zeros(len(toy.x), np.int64)  # tokens say nothing here: only labels can explain
    r = label_oracle_autointerp(perfect(), toy.x, planted_labels(toy), token_ids, test_rows=toy.test)
    assert r["n_scored"] == 10 and r["score"] > 0.97
    assert r["latents"][PARENT]["label"] == "parent" and r["latents"][CHILD0 + 3]["label"] == "child3"
    assert r["latents"][OTHER0]["label"] == "other0"


def test_a_random_dictionary_scores_near_chance(toy):
    token_ids = np.zeros(len(toy.x), np.int64)
    r = label_oracle_autointerp(random_sae(), toy.x, planted_labels(toy), token_ids, test_rows=toy.test)
    assert r["n_scored"] >= 3 and r["score"] < 0.75


def test_a_token_latent_is_explained_by_its_tokens(toy):
    """With no planted label for it, a latent that fires on two token ids is explained by those tokens."""
    token_ids = np.where(toy.parent, 7, 3) + (toy.x.numpy()[:, OTHER0] > 0.5) * 100  # parent rows: 7 or 107
    labels = {k: v for k, v in planted_labels(toy).items() if k != "parent"}
    r = label_oracle_autointerp(perfect(), toy.x, labels, token_ids, latents=[PARENT], test_rows=toy.test)
    got = r["latents"][PARENT]
    assert got["uses"] in ("tokens", "either") and set(got["tokens"]) == {7, 107} and got["detection"] > 0.95


def test_labels_of_the_wrong_length_are_refused(toy):
    with pytest.raises(ValueError, match="one bool per activation row"):
        label_oracle_autointerp(
            perfect(), toy.x, {"a": np.zeros(3, bool)}, np.zeros(len(toy.x)), test_rows=toy.test
        )


def test_a_permuted_copy_is_fully_shared_and_a_random_one_not_at_all():
    a = random_sae(seed=1)
    b = random_sae(seed=2)
    with torch.no_grad():
        b.W_dec.copy_(a.W_dec[torch.randperm(a.W_dec.shape[0])] * 3.0)  # same directions, shuffled, rescaled
    same = seed_stability(a, b)
    assert same["shared"] == 1.0 and same["mean_cosine"] > 0.999 and same["random_baseline"] < 0.05
    other = seed_stability(a, random_sae(seed=3))
    assert other["shared"] < 0.2 and abs(other["shared"] - other["random_baseline"]) < 0.2


def test_matching_is_one_to_one():
    W = np.eye(4)
    cos, cols = matched_cosines(W, W[[2, 0, 3, 1]])
    assert np.allclose(cos, 1) and sorted(cols) == [0, 1, 2, 3] and cols.tolist() == [1, 3, 0, 2]
    with pytest.raises(ValueError, match="different spaces"):
        matched_cosines(np.eye(3), np.eye(4))
