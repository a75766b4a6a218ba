"""Notebook 03's exercise checks: each passes on its reference, agrees with evaluate, and names typical mistakes."""

from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from saewidgets import checks
from saewidgets.checks.training import _library_sae
from saewidgets.metrics import evaluate

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_what_goes_wrong.ipynb"


def test_checks_pass_on_the_reference(capsys):
    checks.check_l2_ratio(checks.l2_ratio_reference)
    checks.check_firing_density(checks.firing_density_reference)
    checks.check_dead_and_dense(checks.dead_and_dense_reference)
    assert capsys.readouterr().out.count("✓") == 3


def test_references_agree_with_evaluate():
    sae = _library_sae(seed=3, d_in=6, d_sae=40)
    with torch.no_grad():
        sae.b_enc.sub_(torch.linspace(0, 6, 40))  # a spread of densities
        sae.b_enc[-5:] = -1e3  # and five latents that never fire
        x = torch.randn(300, 6, generator=torch.Generator().manual_seed(0)) * 2 + 0.5
        out = sae(x)
        m = evaluate(sae, x, dense_threshold=0.2, dead_threshold=0.0)
    assert checks.l2_ratio_reference(x, out.recon).item() == pytest.approx(m["l2_ratio"], rel=1e-5)
    density = checks.firing_density_reference(out.acts)
    assert np.allclose(density.numpy(), m["density"], atol=1e-7)
    dead, dense = checks.dead_and_dense_reference(density, 0.0, 0.2)
    assert 0 < int(dead.sum()) == m["n_dead"] and 0 < int(dense.sum()) == m["n_dense"]


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, h: (x.norm(dim=-1) / h.norm(dim=-1)).mean(), "Upside down"),
        (lambda x, h: h.norm(dim=-1).mean() / x.norm(dim=-1).mean(), "mean of ratios"),
        (lambda x, h: h.norm() / x.norm(), "whole matrix"),
        (lambda x, h: (h.norm(dim=-1) ** 2 / x.norm(dim=-1) ** 2).mean(), "squared norms"),
        (lambda x, h: (h.norm(dim=0) / x.norm(dim=0)).mean(), "dim=0"),
        (lambda x, h: ((h - x).norm(dim=-1) / x.norm(dim=-1)).mean(), "relative error"),
        (lambda x, h: h.norm(dim=-1) / x.norm(dim=-1), "one number"),
        (lambda x, h: 0.5, "Expected"),
    ],
)
def test_l2_ratio_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_l2_ratio(wrong)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda a: a.mean(0), "frequency"),
        (lambda a: (a > 0).float().sum(0), "Divide by the number of tokens"),
        (lambda a: (a > 0).float().mean(-1), "one number per latent"),
        (lambda a: (a > 0).float().mean(), "one number per latent"),
        (lambda a: (a > 0.5).float().mean(0), "differ"),
    ],
)
def test_firing_density_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_firing_density(wrong)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda d, lo, hi: (d > hi, d <= lo), "swapped"),
        (lambda d, lo, hi: (d < lo, d > hi), "use <="),
        (lambda d, lo, hi: (d == 0, d > hi), "Use dead_threshold"),
        (lambda d, lo, hi: (d <= lo, d >= hi), "strictly above"),
        (lambda d, lo, hi: (d <= lo, d > 0.5), "dense should be"),
        (lambda d, lo, hi: (d <= 0.5, d > hi), "dead should be"),
        (lambda d, lo, hi: ((d <= lo).float().mean(), (d > hi).float().mean()), "boolean mask"),
        (lambda d, lo, hi: torch.stack([d <= lo, d > hi]), "pair"),
    ],
)
def test_dead_and_dense_check_names_the_mistake(wrong, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_dead_and_dense(wrong)


def test_learner_notebook_stub_fails_its_check():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    cell = next(c.source for c in nb.cells if "def l2_ratio" in c.source)
    namespace = {"torch": torch, "checks": checks}
    with pytest.raises(NotImplementedError, match="Your code here"):
        exec(cell, namespace)  # the learner's cell as shipped: the check runs the stub


LAMBDAS = [0.5, 1.0, 2.0, 4.0, 8.0]


def _monitor():
    """A finished TrainingMonitor of a five-SAE sweep: λ = 8 ends with 9 % dead; λ = 4 peaks at 12 % mid-run."""
    from saewidgets.widgets import TrainingMonitor

    curves = {
        0: [0, 0, 0, 0],
        1: [0, 0, 0, 0],
        2: [0, 0, 0.01, 0.01],
        3: [0, 0.12, 0.06, 0.04],
        4: [0, 0.03, 0.06, 0.09],
    }
    rows = [
        {"sae": i, "step": s, "tokens": 1000 * s, "dead_fraction": f, "l0": 10.0, "fvu": 0.1, "loss": 1.0}
        for i, curve in curves.items()
        for s, f in enumerate(curve)
    ]
    return TrainingMonitor.from_history(rows, labels=[f"λ = {lam:g}" for lam in LAMBDAS])


def test_monitor_reading_passes_on_the_right_reading(capsys):
    mon = _monitor()
    checks.check_monitor_reading(mon, LAMBDAS, 8.0, 0.09)
    checks.check_monitor_reading(mon, LAMBDAS, 8, 0.08)  # a reading within 0.02 is a good reading
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize(
    "lam, dead, hint",
    [
        (4.0, 0.12, "does not end highest"),  # the highest point along the way, not at the end
        (8.0, 0.12, "too high"),
        (8.0, 0.03, "too low"),
        (8.0, 9, "percentage"),
        (3.0, 0.09, "not one of the sweep's values"),
        (8.0, "0.09", "as a number"),
    ],
)
def test_monitor_reading_names_the_mistake(lam, dead, hint):
    with pytest.raises(checks.ExerciseError, match=hint):
        checks.check_monitor_reading(_monitor(), LAMBDAS, lam, dead)


def test_monitor_reading_needs_the_sweep_monitor():
    with pytest.raises(checks.ExerciseError, match="holds 5 SAEs"):
        checks.check_monitor_reading(_monitor(), LAMBDAS[:3], 2.0, 0.01)
