"""The notebook-11 exercise checks: a k-sparse probe and one token's absorption fraction
(saewidgets.checks.evals): each passes on the reference and names the usual mistakes."""

import numpy as np
import pytest

from saewidgets import checks
from saewidgets.checks import evals as ec
from saewidgets.evals.probes import fit_logistic, scores


def test_the_references_pass(capsys):
    checks.check_sparse_probe(ec.sparse_probe_reference)
    checks.check_absorption_fraction(ec.absorption_fraction_reference)
    assert capsys.readouterr().out.count("✓") == 2


def _probe(rank):
    """A k-sparse probe whose ranking is ``rank(a, y, train)``, otherwise right."""

    def fn(a, y, train, k):
        top = np.argsort(-rank(a, y, train), kind="stable")[:k]
        w, b = fit_logistic(a[train][:, top], y[train])
        return top.tolist(), scores(y[~train], a[~train][:, top] @ w + b > 0)["f1"]

    return fn


@pytest.mark.parametrize(
    ("rank", "hint"),
    [
        (lambda a, y, t: a[y].mean(0) - a[~y].mean(0), "training rows only"),
        (lambda a, y, t: a[t & y].mean(0), r"\*difference\*"),
        (lambda a, y, t: np.abs(a[t & y].mean(0) - a[t & ~y].mean(0)), "signed difference"),
    ],
)
def test_the_probe_check_names_the_ranking_mistake(rank, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_sparse_probe(_probe(rank))


def test_the_probe_check_wants_the_held_out_f1():
    def on_training_rows(a, y, train, k):
        top, _ = ec.sparse_probe_reference(a, y, train, k)
        w, b = fit_logistic(a[train][:, top], y[train])
        return top, scores(y[train], a[train][:, top] @ w + b > 0)["f1"]

    with pytest.raises(checks.ExerciseError, match="score it on the held-out rows"):
        checks.check_sparse_probe(on_training_rows)
    with pytest.raises(checks.ExerciseError, match="Return a pair"):
        checks.check_sparse_probe(lambda a, y, t, k: [7, 3])


def _fraction(top_only=True, threshold=True, main_all=True, cap=True):
    def fn(main, others, total):
        top = sorted(others, reverse=True)[: 3 if top_only else None]
        if (main_all and main >= total) or (threshold and sum(top) / total < 0.4):
            return 0.0
        if main <= 0:
            return 1.0
        if not cap:
            return min(sum(top) / total, 1.0)
        absorbed = min(sum(top), total - main)
        return absorbed / (absorbed + main)

    return fn


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_fraction(top_only=False), "top 3"),
        (_fraction(threshold=False), "less than 40%"),
        (_fraction(cap=False), "Cap what the absorbers carry"),
    ],
)
def test_the_absorption_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_absorption_fraction(wrong)


def test_a_reference_fraction_by_hand():
    assert ec.absorption_fraction_reference(0.6, [0.5], 1.0) == pytest.approx(0.4)
    assert ec.absorption_fraction_reference(0.0, [0.9], 1.0) == 1.0
    assert ec.absorption_fraction_reference(0.1, [0.15, 0.1], 1.0) == 0.0
