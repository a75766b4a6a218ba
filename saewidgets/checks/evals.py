"""Checks for the evaluation exercises (notebook 11): a k-sparse probe, and one token's absorption fraction.

The answer key is ``saewidgets.evals``: ``sparse_probing`` ranks latents by the difference of their mean
activation between the classes on the *training* rows and fits a logistic probe on the top k;
``absorption.absorption_fractions`` applies SAEBench's rules to one token's projections.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..evals.absorption import MAX_ABSORBERS, PROJECTION_SHARE, absorption_fractions
from ..evals.probes import fit_logistic, scores
from ._core import ExerciseError, passed

__all__ = [
    "check_sparse_probe",
    "check_absorption_fraction",
    "sparse_probe_reference",
    "absorption_fraction_reference",
]


# ---- reference implementations ----


def sparse_probe_reference(latent_acts, labels, train, k: int) -> tuple[list[int], float]:
    """(the k latents, held-out F1): latents ranked by mean activation on positive minus negative training
    rows, a logistic probe (``evals.probes.fit_logistic``) on their training rows, scored on the others."""
    a, y, train = np.asarray(latent_acts, np.float64), np.asarray(labels, bool), np.asarray(train, bool)
    diff = a[train & y].mean(0) - a[train & ~y].mean(0)
    top = np.argsort(-diff, kind="stable")[:k]
    w, b = fit_logistic(a[train][:, top], y[train])
    return top.tolist(), scores(y[~train], a[~train][:, top] @ w + b > 0)["f1"]


def absorption_fraction_reference(main_proj: float, absorber_projs, total: float) -> float:
    """One token's absorption fraction (SAEBench): the share of the probe projection ``total`` that the
    absorbing latents carry instead of the main latents (``main_proj``). ``absorber_projs``: the positive
    contributions of the other latents aligned with the probe."""
    contrib = np.r_[main_proj, np.asarray(absorber_projs, np.float64)][None, :]
    cos = np.ones(contrib.shape[1])  # every absorber is aligned: the caller picked them
    frac, _ = absorption_fractions(contrib, np.array([float(total)]), [0], cos)
    return float(frac[0])


# ---- a k-sparse probe ----


def _probe_case(seed: int = 0):
    """Latent activations [600, 30] of which latent 7 (then 3) tracks the label; rows 0-399 train. Three
    decoys, one per usual mistake: latent 25 is large everywhere, latent 12 large on negatives, latent 21
    tracks the label on held-out rows only."""
    rng = np.random.default_rng(seed)
    y = rng.random(600) < 0.2
    a = np.maximum(rng.normal(0, 1, (600, 30)), 0)
    a[:, 7] += 3.0 * y
    a[:, 3] += 1.5 * y + rng.normal(0, 0.5, 600)
    a[:, 25] += 4.0  # dense: high on the positives, no difference between the classes
    a[:, 12] += 5.0 * (~y) * (rng.random(600) < 0.5)  # big on negatives: only a signed difference skips it
    a[450:, 21] += 12.0 * y[450:]  # tracks the label on held-out rows only: ranking on them leaks
    train = np.arange(600) < 400
    return np.maximum(a, 0), y, train


def check_sparse_probe(fn: Callable) -> None:
    """``fn(latent_acts, labels, train, k)`` -> (the k latents, held-out F1)."""
    a, y, train = _probe_case()
    want_latents, want_f1 = sparse_probe_reference(a, y, train, 2)
    got = fn(a, y, train, 2)
    if not isinstance(got, tuple) or len(got) != 2:
        raise ExerciseError("Return a pair: (the k latents as a list of ints, the F1 on the held-out rows).")
    latents, f1 = [int(i) for i in np.asarray(got[0]).reshape(-1)], float(got[1])
    if latents != want_latents:
        hints = {
            tuple(np.argsort(-(a[y].mean(0) - a[~y].mean(0)), kind="stable")[:2]): (
                "Rank on the training rows only: the held-out rows are for scoring, and a latent chosen by "
                "looking at them (latent 21 here) leaks."
            ),
            tuple(np.argsort(-a[train & y].mean(0), kind="stable")[:2]): (
                "Rank by the *difference* of the class means, not by the mean on positive rows alone."
            ),
            tuple(np.argsort(-np.abs(a[train & y].mean(0) - a[train & ~y].mean(0)), kind="stable")[:2]): (
                "Rank by the signed difference (positive minus negative): a latent that fires on the "
                "negatives (latent 12) says 'not the concept', which is not what a sparse probe reads."
            ),
        }
        raise ExerciseError(hints.get(tuple(latents), f"Expected latents {want_latents}, got {latents}."))
    if abs(f1 - want_f1) > 1e-6:
        raise ExerciseError(
            f"Right latents, but F1 {f1:.4f} where {want_f1:.4f} was expected: fit the probe on the training "
            "rows of those k columns and score it on the held-out rows (evals.probes.scores(...)['f1'])."
        )
    passed("sparse_probe")


# ---- one token's absorption fraction ----

_ABSORPTION_CASES = [
    # (main_proj, absorber contributions, total projection)
    (0.0, [0.9, 0.05], 1.0),  # main silent, one latent carries it: full absorption, fraction 1
    (0.6, [0.5], 1.0),  # partial: 0.4 unaccounted, capped there -> 0.4 / (0.4 + 0.6)
    (0.2, [0.2, 0.2, 0.15, 0.15, 0.15], 1.0),  # five absorbers: only the top three count
    (1.2, [0.5], 1.0),  # the main latents carry it all: no absorption
    (0.1, [0.15, 0.1], 1.0),  # absorbers carry < 40 % of the projection: not absorption
    (0.3, [], 1.0),  # nothing else aligned
]


def _without(rule: str):
    """One token's fraction with one of SAEBench's rules left out: the usual mistakes."""

    def fn(main, others, total):
        top = sorted(others, reverse=True)[: None if rule == "cap on absorbers" else MAX_ABSORBERS]
        if (rule != "main carries it" and main >= total) or (
            rule != "threshold" and sum(top) / total < PROJECTION_SHARE
        ):
            return 0.0
        if main <= 0:
            return 1.0
        if rule == "cap at unaccounted":
            return min(sum(top) / total, 1.0)
        absorbed = min(sum(top), total - main)
        return absorbed / (absorbed + main)

    return fn


_HINTS = {
    "threshold": f"When the absorbing latents carry less than {PROJECTION_SHARE:.0%} of the projection, it is "
    "not absorption: return 0.",
    "cap on absorbers": f"Only the top {MAX_ABSORBERS} absorbing latents count (SAEBench's cap).",
    "cap at unaccounted": "Cap what the absorbers carry at what the main latents leave unaccounted (total - "
    "main), and divide by absorbed + main, not by the total.",
    "main carries it": "When the main latents carry the whole projection, nothing was absorbed: return 0.",
}


def check_absorption_fraction(fn: Callable) -> None:
    """``fn(main_proj, absorber_projs, total)`` -> the token's absorption fraction in [0, 1]."""
    for case in _ABSORPTION_CASES:
        want = absorption_fraction_reference(*case)
        got = float(fn(*case))
        if abs(got - want) <= 1e-6:
            continue
        mistakes = [rule for rule in _HINTS if abs(_without(rule)(*case) - got) <= 1e-6]
        hint = _HINTS[mistakes[0]] if mistakes else f"Expected {want:.4f}, got {got:.4f}."
        main, others, total = case
        raise ExerciseError(f"For main={main}, absorbers={others}, total={total}: {hint}")
    passed("absorption_fraction")
