"""The notebook-07 exercise checks: top logit effects and precision/recall (saewidgets.checks.interpret)."""

from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from fakes import TableSAE

from saewidgets import checks, concepts
from saewidgets.checks import interpret as ic

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_interpreting_features.ipynb"


def test_checks_pass_on_the_reference(capsys):
    checks.check_top_logit_effects(checks.top_logit_effects_reference)
    checks.check_precision_recall(checks.precision_recall_reference)
    assert capsys.readouterr().out.count("✓") == 2


def test_topk_solution_passes(capsys):
    checks.check_top_logit_effects(lambda sae, W_U, i, k: torch.topk(sae.W_dec[i] @ W_U, k)[::-1])
    checks.check_precision_recall(lambda f, y: ((f & y).sum() / max(f.sum(), 1), (f & y).sum() / y.sum()))
    assert capsys.readouterr().out.count("✓") == 2


def test_precision_recall_reference_is_concepts_latent_scores():
    rng = np.random.default_rng(0)
    labels = rng.random(300) < 0.2
    fires = np.stack(
        [
            (labels & (rng.random(300) < 0.5)) | (rng.random(300) < 0.1),
            np.zeros(300, bool),
            np.ones(300, bool),
        ],
        axis=1,
    )  # [n, 3]: a partial detector, a dead latent, an always-on one
    s = concepts.latent_scores(TableSAE(fires.astype(np.float32)), torch.arange(300.0)[:, None], labels)
    for i in range(3):
        p, r = checks.precision_recall_reference(fires[:, i], labels)
        assert (p, r) == pytest.approx((s["precision"][i], s["recall"][i]))


def test_top_logit_effects_reference_is_features_logit_effects():
    sae, W_U = ic._fake_sae(1)
    ids, vals = checks.top_logit_effects_reference(sae, W_U, 2, 4)
    want = torch.topk(sae.W_dec[2] @ W_U, 4)
    assert ids.tolist() == want.indices.tolist() and torch.allclose(vals, want.values)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda sae, W_U, i, k: torch.topk(sae.W_dec[i] @ W_U, k), "wrong way round"),
        (
            lambda sae, W_U, i, k: torch.topk(sae.W_dec[i] @ W_U, k, largest=False)[::-1],
            "most \\*suppressed\\*",
        ),
        (lambda sae, W_U, i, k: torch.topk(sae.W_enc[:, i] @ W_U, k)[::-1], "decoder row"),
        (lambda sae, W_U, i, k: torch.topk((sae.W_dec[i] @ W_U).abs(), k)[::-1], "absolute value"),
        (lambda sae, W_U, i, k: torch.topk((sae.W_dec[i] + sae.b_dec) @ W_U, k)[::-1], "Leave out b_dec"),
        (lambda sae, W_U, i, k: torch.topk(sae.W_dec[i] @ W_U, k).indices, "pair"),
        (lambda sae, W_U, i, k: torch.topk(sae.W_dec[i] @ W_U, k + 1)[::-1], "Expected 5 ids"),
        (lambda sae, W_U, i, k: (torch.topk(sae.W_dec[i] @ W_U, k).indices, torch.zeros(k)), "wrong values"),
        (lambda sae, W_U, i, k: (torch.arange(k), torch.topk(sae.W_dec[i] @ W_U, k).values), "wrong ids"),
        (lambda sae, W_U, i, k: torch.topk(sae.W_dec[i + 1] @ W_U, k)[::-1], "Expected ids"),
    ],
)
def test_logit_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_top_logit_effects(wrong)


def _pr(f, y):
    return (f & y).sum() / f.sum(), (f & y).sum() / y.sum()


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda f, y: _pr(f, y)[::-1], "swapped"),
        (lambda f, y: ((f & y).sum() / len(f), (f & y).sum() / y.sum()), "not by all tokens"),
        (lambda f, y: ((f & y).sum() / max(f.sum(), 1), (f & y).sum() / len(f)), "Recall divides"),
        (lambda f, y: (f.mean(), (f & y).sum() / y.sum()), "P\\(label \\| fires\\)"),
        (lambda f, y: ((f & y).sum() / y.sum(), (f & y).sum() / y.sum()), "not by the labelled ones"),
        (_pr, "never fires"),
        (lambda f, y: (int((f & y).sum()) / int(f.sum()), int((f & y).sum()) / int(y.sum())), "never fires"),
        (lambda f, y: _pr(f, y)[0], "pair"),
        (lambda f, y: (f & y, f & y), "two numbers"),
        (lambda f, y: (0.5, 0.5), "Expected precision"),
    ],
)
def test_precision_recall_check_names_the_mistake(wrong, hint):
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(checks.ExerciseError, match=hint):
        checks.check_precision_recall(wrong)


def test_learner_notebook_stubs_fail_their_checks():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    for name in ("def top_logit_effects", "def precision_recall"):
        cell = next(c.source for c in nb.cells if name in c.source)
        with pytest.raises(NotImplementedError, match="Your code here"):
            exec(cell, {"checks": checks, "torch": torch, "np": np})


# ---- the widget task: find the concept's latent in FeatureActivations, checked against the planted labels ----


def _concept_world(n=1000, seed=0):
    """Planted labels (10 % of rows) and five latents: a good detector, a second one (split feature), a narrow
    precise one, an always-on one and a dead one."""
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < 0.1
    good = labels & (rng.random(n) < 0.8) | (~labels & (rng.random(n) < 0.02))
    second = labels & (rng.random(n) < 0.6) | (~labels & (rng.random(n) < 0.02))
    narrow = labels & (rng.random(n) < 0.05)
    everywhere = np.ones(n, bool)
    dead = np.zeros(n, bool)
    fires = np.stack([good, second, narrow, everywhere, dead], axis=1).astype(np.float32)  # [n, 5]
    return TableSAE(fires), torch.arange(float(n))[:, None], labels


def test_concept_latent_accepts_the_best_latent_and_a_split_one(capsys):
    sae, acts, labels = _concept_world()
    checks.check_concept_latent(0, sae, acts, labels, "sea")
    checks.check_concept_latent(np.int64(1), sae, acts, labels, "sea")  # a second latent of a split concept
    out = capsys.readouterr().out
    assert out.count("✓") == 2 and "rank 1 of 5" in out and "rank 2 of 5" in out


@pytest.mark.parametrize(
    "latent, hint",
    [
        (3, "about the base rate"),  # fires everywhere: precision = base rate
        (2, "narrower than the concept"),  # precise, tiny recall
        (4, "never fires"),
        (7, "not one of them"),
        (-1, "not one of them"),
        ("0", "whole number"),
        (0.0, "whole number"),
        (True, "whole number"),
    ],
)
def test_concept_latent_check_names_the_mistake(latent, hint):
    sae, acts, labels = _concept_world()
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_concept_latent(latent, sae, acts, labels, "sea")


def test_learner_notebook_widget_task_is_a_stub():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and "check_concept_latent(" in c.source)
    sea = cell.splitlines()[0]
    assert sea.startswith("sea = concepts.token_labels(")  # the planted truth, computed outside the stub
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec("\n".join(cell.splitlines()[1:]), {"checks": checks})
