"""The notebook 09 exercise checks pass on the reference and name each typical mistake."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from saewidgets import checks
from saewidgets import datacentric as dc


def test_references_agree_with_the_library():
    x = np.zeros((100, 2), np.float32)
    x[:10, 0] = 1
    x[5:25, 1] = 1
    lib = dc.npmi(x).lookup(0, 1)
    ref = checks.npmi_reference(torch.tensor(5.0), torch.tensor(10.0), torch.tensor(20.0), 100.0)
    assert float(ref) == pytest.approx(lib, abs=1e-6)
    J = dc.jaccard(sp.csr_matrix(x.T))
    assert float(checks.jaccard_reference(torch.tensor(x[:, 0]), torch.tensor(x[:, 1]))) == pytest.approx(
        J[0, 1]
    )


def test_checks_pass_on_the_reference(capsys):
    checks.check_npmi(checks.npmi_reference)
    checks.check_jaccard(checks.jaccard_reference)
    assert capsys.readouterr().out.count("✓") == 2


def _plain_npmi(co, cx, cy, n):
    return torch.log((co / n) / (cx / n * cy / n)) / -torch.log(co / n)


def test_the_reference_gives_minus_one_for_pairs_that_never_co_occur():
    got = checks.npmi_reference(
        torch.tensor([0.0, 5.0]), torch.tensor([10.0, 10.0]), torch.tensor([20.0, 20.0]), 100.0
    )
    assert got[0].item() == -1.0 and torch.isfinite(got).all()
    x = np.zeros((100, 2), np.float32)
    x[:10, 0], x[50:70, 1] = 1, 1  # never together
    assert dc.npmi(x).lookup(0, 1) == -1.0  # the library agrees


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda co, cx, cy, n: torch.log((co / n) / (cx / n * cy / n)), "That is PMI"),
        (lambda co, cx, cy, n: torch.log((co / n) / (cx / n * cy / n)) / torch.log(co / n), "sign flips"),
        (lambda co, cx, cy, n: torch.log(co / (cx * cy)) / -torch.log(co), "probabilities first"),
        (
            lambda co, cx, cy, n: torch.log((co / n) / (cx / n * cy / n)) / -torch.log(cx / n * cy / n),
            "joint",
        ),
        (lambda co, cx, cy, n: torch.log(co / n)[:2], "one NPMI per pair"),
        (lambda co, cx, cy, n: co * 0, "Expected"),
        # issue 18: the natural formula gives NaN where co = 0, and the notebook says -1
        (
            lambda co, cx, cy, n: torch.log((co / n) / (cx / n * cy / n)) / -torch.log(co / n),
            r"NaN; NPMI defines that pair as -1",
        ),
        (lambda co, cx, cy, n: torch.nan_to_num(_plain_npmi(co, cx, cy, n), nan=0.0), "not 0"),
        (lambda co, cx, cy, n: -1.0 if co == 0 else _plain_npmi(co, cx, cy, n), "elementwise"),
        (lambda co, cx, cy, n: torch.nan_to_num(_plain_npmi(co, cx, cy, n), nan=-0.5), "expected NPMI -1"),
    ],
)
def test_npmi_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_npmi(wrong)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a, b: (a * b).sum() / (a.sum() + b.sum()), "counts shared latents once"),
        (lambda a, b: (a * b).sum() / len(a), "not by d_sae"),
        (lambda a, b: (a * b).sum(), "Normalise"),
        (lambda a, b: 2 * (a * b).sum() / (a.sum() + b.sum()), "Dice"),
        (lambda a, b: (a * b).sum() / (a.sum() + b.sum() - (a * b).sum()), "union is empty"),
        (lambda a, b: a * b, "one number"),
    ],
)
def test_jaccard_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_jaccard(wrong)
