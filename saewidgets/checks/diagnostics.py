"""Checks for notebook 03 (what goes wrong): the L2 ratio (shrinkage), firing density, dead and dense latents,
and a number read off the TrainingMonitor.

The references follow ``saewidgets.metrics.evaluate``'s definitions (``l2_ratio``, ``density``,
``dead_fraction`` / ``dense_fraction``); tests/test_checks_diagnostics.py checks that they agree with it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import ExerciseError, close, first_match, passed, scalar

__all__ = [
    "l2_ratio_reference",
    "check_l2_ratio",
    "firing_density_reference",
    "check_firing_density",
    "dead_and_dense_reference",
    "check_dead_and_dense",
    "check_monitor_reading",
]


# ---- reference implementations ----


def l2_ratio_reference(x, x_hat):
    """Mean over tokens of ||x_hat|| / ||x||: x, x_hat [batch, d_in] -> scalar. Below 1: shrinkage."""
    return (x_hat.norm(dim=-1) / x.norm(dim=-1)).mean()


def firing_density_reference(acts):
    """Fraction of tokens on which each latent is nonzero: acts [batch, d_sae] -> [d_sae]."""
    return (acts != 0).float().mean(0)


def dead_and_dense_reference(density, dead_threshold=0.0, dense_threshold=0.1):
    """(dead, dense) boolean masks [d_sae]: dead = density <= dead_threshold, dense = density > dense_threshold."""
    return density <= dead_threshold, density > dense_threshold


# ---- checks ----


def check_l2_ratio(fn: Callable) -> None:
    """``fn(x, x_hat)`` -> mean over tokens of ||x_hat|| / ||x||."""
    g = torch.Generator().manual_seed(5)
    x = torch.randn(32, 8, generator=g) * torch.linspace(0.5, 3, 32)[:, None]  # [batch, d_in], varied norms
    x_hat = x * torch.rand(32, 1, generator=g) * 0.9 + 0.1 * torch.randn(32, 8, generator=g)  # [batch, d_in]
    want = l2_ratio_reference(x, x_hat)
    got = scalar(fn(x, x_hat), "l2_ratio", "Average the per-token ratios over the batch.")
    if close(got, want):
        return passed("l2_ratio")
    nx, nh = x.norm(dim=-1), x_hat.norm(dim=-1)  # [batch]
    hints = [
        (
            (nx / nh).mean(),
            "Upside down: divide the reconstruction's norm by the input's, ||x_hat|| / ||x||.",
        ),
        (
            nh.mean() / nx.mean(),
            "Take the ratio for each token, then average (mean of ratios, as evaluate's "
            "l2_ratio does), not the ratio of the average norms.",
        ),
        (
            x_hat.norm() / x.norm(),
            "Take the norm of each token's vector (norm(dim=-1)), not of the whole matrix.",
        ),
        ((nh.pow(2) / nx.pow(2)).mean(), "Use the norms, not the squared norms."),
        (
            (x_hat.norm(dim=0) / x.norm(dim=0)).mean(),
            "Take norms over d_in (dim=-1), one per token, not over the batch (dim=0).",
        ),
        (
            ((x_hat - x).norm(dim=-1) / nx).mean(),
            "That is the relative error ||x_hat - x|| / ||x||; the L2 ratio "
            "compares the lengths, ||x_hat|| / ||x||.",
        ),
    ]
    raise ExerciseError(first_match(got, hints) or f"Expected {float(want):.4f}, got {float(got):.4f}.")


def check_firing_density(fn: Callable) -> None:
    """``fn(acts)`` -> [d_sae] fraction of tokens on which each latent fires."""
    g = torch.Generator().manual_seed(6)
    acts = torch.relu(torch.randn(50, 10, generator=g) - torch.linspace(-1, 2, 10)) * 2  # [batch, d_sae]
    acts[:, 3] = 0.0  # a dead latent
    want = firing_density_reference(acts)
    got = fn(acts)
    if close(got, want):
        return passed("firing_density")
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise ExerciseError(
            f"Return one number per latent, shape {tuple(want.shape)} [d_sae]; got "
            f"{getattr(got, 'shape', type(got).__name__)}. Average over the tokens: dim 0."
        )
    active = (acts > 0).float()
    hints = [
        (
            acts.mean(0),
            "Average whether each latent fired ((acts > 0) as floats), not its activation value: "
            "density is a frequency.",
        ),
        (active.sum(0), "Divide by the number of tokens: density is a fraction of tokens, between 0 and 1."),
    ]
    raise ExerciseError(
        first_match(got, hints)
        or "The densities differ from the fraction of tokens where each "
        "latent is nonzero, (acts != 0).float().mean(0)."
    )


def check_dead_and_dense(fn: Callable) -> None:
    """``fn(density, dead_threshold, dense_threshold)`` -> (dead, dense) boolean masks [d_sae]."""
    density = torch.tensor(
        [0.0, 1e-6, 1e-4, 0.01, 0.1, 0.2, 0.5, 5e-7, 1e-3, 0.9]
    )  # [d_sae], 0.1 on the edge
    want_dead, want_dense = dead_and_dense_reference(density, 1e-6, 0.1)
    got = fn(density, 1e-6, 0.1)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise ExerciseError(f"Return a pair (dead, dense) of boolean tensors; got {type(got).__name__}.")
    dead, dense = got
    for name, mask in (("dead", dead), ("dense", dense)):
        if not isinstance(mask, torch.Tensor) or mask.shape != density.shape:
            raise ExerciseError(
                f"{name} should be a boolean mask with one entry per latent, shape "
                f"{tuple(density.shape)}; got {getattr(mask, 'shape', type(mask).__name__)}."
            )
    dead, dense = dead.bool(), dense.bool()
    if torch.equal(dead, want_dense) and torch.equal(dense, want_dead):
        raise ExerciseError("The two masks are swapped: return (dead, dense).")
    if not torch.equal(dead, want_dead):
        if torch.equal(dead, density < 1e-6):
            raise ExerciseError(
                "A latent whose density equals dead_threshold counts as dead: use <=. (With the "
                "default threshold 0, < would never find a latent that never fired.)"
            )
        if torch.equal(dead, density == 0):
            raise ExerciseError(
                "Use dead_threshold: dead means density <= dead_threshold, not only exactly 0."
            )
        raise ExerciseError("dead should be density <= dead_threshold.")
    if not torch.equal(dense, want_dense):
        if torch.equal(dense, density >= 0.1):
            raise ExerciseError("Dense means density strictly above dense_threshold (>), as in evaluate.")
        raise ExerciseError("dense should be density > dense_threshold.")
    passed("dead_and_dense")


def check_monitor_reading(monitor, lambdas, most_dead_lambda, dead_fraction) -> None:
    """The learner read, off ``monitor``'s dead-fraction panel (a ``TrainingMonitor`` that trained one SAE per
    entry of ``lambdas``, in order), which λ ends training with the most dead latents and about what fraction
    (within 0.02, or 20 % of it). Compared with the monitor's own last row per SAE."""
    groups = monitor.per_sae()  # {sae index: rows [n, n_columns]}
    col = monitor.columns.index("dead_fraction")
    if sorted(groups) != list(range(len(lambdas))):
        raise ExerciseError(
            f"The monitor holds {len(groups)} SAEs but {len(lambdas)} values of λ were given: pass the monitor "
            "that trained the sweep, and the sweep's list of λ."
        )
    final = [float(groups[i][-1, col]) for i in range(len(lambdas))]  # dead fraction at the end, per SAE
    best = max(range(len(lambdas)), key=final.__getitem__)
    if most_dead_lambda not in lambdas:
        raise ExerciseError(f"λ = {most_dead_lambda!r} is not one of the sweep's values {list(lambdas)}.")
    if lambdas.index(most_dead_lambda) != best:
        raise ExerciseError(
            f"The λ = {most_dead_lambda:g} line does not end highest. In the monitor's dead-fraction panel "
            "(bottom right), follow each line to the right edge — the end of training — and take the one that "
            "ends highest; the legend names its λ."
        )
    want = final[best]
    if not isinstance(dead_fraction, (int, float)) or isinstance(dead_fraction, bool):
        raise ExerciseError(
            f"Give the dead fraction as a number, e.g. 0.05; got {type(dead_fraction).__name__}."
        )
    if 1 < dead_fraction <= 100 and abs(dead_fraction / 100 - want) <= max(0.02, 0.2 * want):
        raise ExerciseError(
            f"That reads like a percentage ({dead_fraction:g} %): give the dead fraction as a fraction of the "
            "latents, between 0 and 1."
        )
    if abs(dead_fraction - want) > max(0.02, 0.2 * want):
        side = "high" if dead_fraction > want else "low"
        raise ExerciseError(
            f"{dead_fraction:g} is too {side} for where the λ = {most_dead_lambda:g} line ends. Read its last "
            "point on the dead-fraction panel's y axis (the fraction of latents that have not fired within the "
            "dead window), not its highest point along the way."
        )
    print(f"✓ Read correctly: λ = {most_dead_lambda:g} ends training with {want:.1%} of its latents dead.")
