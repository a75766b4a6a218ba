"""Checks for the capstone (notebook 12), where the learner works alone: the training setup and the trained SAE
against a target L0 and FVU, the search for a concept latent, and the search for its steering window.

Unlike the other checks, two of these judge *results* (a trained SAE's metrics, a window read off a sweep) rather
than a function against a reference, so their hints start from what the numbers say went wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from ..config import SAEConfig, TrainConfig
from ._core import ExerciseError

__all__ = [
    "CapstoneTargets",
    "check_training_setup",
    "check_training_run",
    "check_concept_search",
    "check_steering_window",
    "concept_search_reference",
    "steering_window_reference",
]

_FIXED_K = (
    "topk",
    "batchtopk",
    "matryoshka",
)  # L0 set by k (at most k; on average over a batch for batchtopk)


class CapstoneTargets(NamedTuple):
    """What the capstone's SAE must reach, measured on held-out activations."""

    l0_min: float
    l0_max: float
    fvu_max: float
    n_tokens: int
    """Training tokens the setup must plan for (the budget: ~50M on a GPU)."""
    dead_max: float = 0.2
    """Largest fraction of latents that never fire on the held-out activations."""


# ---- reference implementations ----


def concept_search(fires: torch.Tensor, labels: torch.Tensor, min_precision: float) -> int | None:
    """The latent with the highest F1 as a classifier of ``labels`` among those with precision >= min_precision.

    ``fires`` [n, d_sae] bool (latent i fires on row n), ``labels`` [n] bool. precision_i = P(label | i fires)
    (0 for a latent that never fires), recall_i = P(i fires | label). None when no latent is that precise."""
    fires, labels = torch.as_tensor(fires).bool(), torch.as_tensor(labels).bool()
    hits = (fires & labels[:, None]).sum(0).double()  # [d_sae] rows where it fires on the concept
    n_fires = fires.sum(0).double()  # [d_sae]
    precision = hits / n_fires.clamp(min=1)  # [d_sae]: 0 where it never fires (hits = 0)
    recall = hits / labels.sum().clamp(min=1)  # [d_sae]
    f1 = (2 * precision * recall / (precision + recall)).nan_to_num(0.0)  # [d_sae]
    f1[precision < min_precision] = -1.0
    best = int(f1.argmax())
    return best if f1[best] >= 0 else None


concept_search_reference = concept_search


def steering_window(
    strengths: Sequence[float],
    concept_rate: Sequence[float],
    own_ce: Sequence[float],
    min_gain: float,
    max_ce_rise: float,
) -> tuple[float, float] | None:
    """(lowest, highest) strength of the steering window, or None when it is empty.

    ``strengths`` ascend from 0 (unsteered); at each, ``concept_rate`` is the fraction of generated words that
    are concept words and ``own_ce`` the unsteered model's loss on the generated text (nats/token). The concept
    *appears* at strengths where the rate exceeds the unsteered rate by at least ``min_gain``; the text stays
    *fluent* where the loss exceeds the unsteered loss by at most ``max_ce_rise``. The window starts at the
    first strength where both hold and ends before the first strength after it where either fails: one
    contiguous run (a noisy sweep can come back below the budget after the text has already broken)."""
    base_rate, base_ce = concept_rate[0], own_ce[0]
    good = [r >= base_rate + min_gain and c <= base_ce + max_ce_rise for r, c in zip(concept_rate, own_ce)]
    if not any(good[1:]):
        return None
    lo = next(i for i in range(1, len(good)) if good[i])
    hi = lo
    while hi + 1 < len(good) and good[hi + 1]:
        hi += 1
    return float(strengths[lo]), float(strengths[hi])


steering_window_reference = steering_window


# ---- 1. the training setup, before training ----


def _sparsity_advice(arch: str, too_dense: bool, targets: CapstoneTargets) -> str:
    if arch in _FIXED_K:
        return (
            f"Lower k: a {arch} SAE keeps at most k latents per token, so its L0 is at most k (pick k <= "
            f"{targets.l0_max:g})."
            if too_dense
            else f"Raise k: a {arch} SAE's L0 is at most k, so k must be at least {targets.l0_min:g}."
        )
    knob = "l0_coefficient" if arch == "jumprelu" else "l1_coefficient"
    return (
        f"Raise {knob}: a stronger sparsity penalty switches more latents off."
        if too_dense
        else f"Lower {knob}: the sparsity penalty switches off too many latents."
    )


def check_training_setup(sae_cfg, train_cfg, d_in: int, targets: CapstoneTargets) -> None:
    """Before a long run: the configs read the model's width, plan the token budget and can reach the L0 target."""
    if not isinstance(sae_cfg, SAEConfig) or not isinstance(train_cfg, TrainConfig):
        raise ExerciseError(
            "Build the two configs: sae_cfg = sw.SAEConfig(architecture, d_in=..., d_sae=..., ...) and "
            f"train_cfg = sw.TrainConfig(n_tokens=..., ...); got {type(sae_cfg).__name__} and "
            f"{type(train_cfg).__name__}."
        )
    if sae_cfg.d_in != d_in:
        raise ExerciseError(
            f"sae_cfg.d_in is {sae_cfg.d_in} but the activations at the hook have d_model = {d_in}: "
            "use d_in=model.cfg.d_model."
        )
    if sae_cfg.d_sae < 4 * d_in:
        raise ExerciseError(
            f"d_sae = {sae_cfg.d_sae} is only {sae_cfg.d_sae / d_in:.1f}x d_in: with fewer latents than a few "
            "times the model's width, the SAE cannot reach a low FVU at a low L0. Use an expansion of 8-32x."
        )
    if train_cfg.n_tokens < targets.n_tokens:
        raise ExerciseError(
            f"train_cfg.n_tokens = {train_cfg.n_tokens:,} is below the budget of {targets.n_tokens:,} tokens: "
            "FVU keeps falling for tens of millions of tokens on a real model. Use the whole budget."
        )
    if sae_cfg.architecture in _FIXED_K and not targets.l0_min <= sae_cfg.k <= targets.l0_max:
        raise ExerciseError(
            f"k = {sae_cfg.k} cannot land L0 in [{targets.l0_min:g}, {targets.l0_max:g}]. "
            + _sparsity_advice(sae_cfg.architecture, sae_cfg.k > targets.l0_max, targets)
        )
    print(
        f"✓ The setup reads d_in {d_in}, has {sae_cfg.d_sae:,} latents and plans {train_cfg.n_tokens:,} tokens."
    )


# ---- 1. the trained SAE, after training ----


def check_training_run(metrics: dict, sae_cfg, train_cfg, targets: CapstoneTargets) -> None:
    """The trained SAE's held-out ``metrics`` (``sw.evaluate``: l0, fvu, dead_fraction) meet the targets."""
    l0, fvu, dead = (float(metrics[key]) for key in ("l0", "fvu", "dead_fraction"))
    if not all(map(math.isfinite, (l0, fvu, dead))):
        raise ExerciseError(
            f"The metrics are not finite (L0 {l0}, FVU {fvu}): training diverged. Lower lr (1e-3), and "
            "check that the activations are finite."
        )
    arch = sae_cfg.architecture
    if l0 > targets.l0_max:
        raise ExerciseError(
            f"L0 is {l0:.1f}, above the target of {targets.l0_max:g}. "
            + _sparsity_advice(arch, True, targets)
        )
    if l0 < targets.l0_min:
        raise ExerciseError(
            f"L0 is {l0:.1f}, below the target of {targets.l0_min:g}: too sparse to reconstruct well. "
            + _sparsity_advice(arch, False, targets)
        )
    if dead > targets.dead_max:
        raise ExerciseError(
            f"{dead:.0%} of the latents never fire on held-out text (target <= {targets.dead_max:.0%}): "
            "they waste the dictionary. Lower lr, or use topk, whose AuxK loss revives dead latents."
        )
    if fvu > targets.fvu_max:
        if train_cfg.n_tokens < targets.n_tokens:
            advice = (
                f"Train on more tokens: {train_cfg.n_tokens:,} is below the budget of {targets.n_tokens:,}."
            )
        elif l0 < 0.75 * targets.l0_max:
            advice = (
                f"Spend more of the L0 budget: L0 {l0:.1f} may go up to {targets.l0_max:g}, and more latents "
                "per token reconstruct better. " + _sparsity_advice(arch, False, targets)
            )
        else:
            advice = (
                "More tokens (or a wider dictionary) lower FVU: check that lr is not too small for the "
                "run (3e-4 to 3e-3) and that the whole budget was used."
            )
        raise ExerciseError(f"FVU is {fvu:.3f}, above the target of {targets.fvu_max:g}. {advice}")
    print(
        f"✓ Targets reached: L0 {l0:.1f} in [{targets.l0_min:g}, {targets.l0_max:g}], "
        f"FVU {fvu:.3f} <= {targets.fvu_max:g}, {dead:.1%} dead."
    )


# ---- 2. the concept latent ----


def _concept_case():
    """Six latents on 100 rows, 20 of them the concept, each the answer of one typical mistake.

    0 fires everywhere (recall 1, precision = the base rate 0.2, F1 0.33), 1 fires on one concept row
    (precision 1, F1 0.10), 2 is the answer (precision 17/20, recall 17/20, F1 0.85), 3 has the best F1 (0.87:
    recall 1) but precision 20/26 = 0.77 < 0.8, 4 never fires, 5 fires only off the concept."""
    n, d_sae = 100, 6
    labels = torch.zeros(n, dtype=torch.bool)
    labels[:20] = True
    fires = torch.zeros(n, d_sae, dtype=torch.bool)
    fires[:, 0] = True
    fires[0, 1] = True
    fires[:17, 2] = True
    fires[20:23, 2] = True
    fires[:20, 3] = True
    fires[20:26, 3] = True
    fires[50:90, 5] = True
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))  # not sorted by label
    return fires[perm], labels[perm]


_CONCEPT_HINTS = {
    0: "You chose the latent that fires on every token: its recall is 1, but its precision is only the base "
    "rate. Rank by F1 (precision and recall together), not by recall or by how often a latent fires.",
    1: "You chose a latent that fires on a single concept token: precision 1, recall almost 0. Rank by F1 "
    "among the latents precise enough, not by precision alone.",
    3: "You chose a latent whose precision on the concept is low (0.77 < min_precision 0.8): it has the best "
    "F1, but almost a quarter of its firings are off the concept. Keep only latents with precision >= min_precision.",
    4: "You chose a latent that never fires: its precision is 0/0. Count it as precision 0 (or NaN that you "
    "exclude), never as 1.",
}


def check_concept_search(fn: Callable) -> None:
    """``fn(fires, labels, min_precision)`` -> the id of the highest-F1 latent with precision >= min_precision,
    or None when there is none."""
    fires, labels = _concept_case()
    got = fn(fires.clone(), labels.clone(), 0.8)
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = int(got)
    if got is None or isinstance(got, bool) or not isinstance(got, int):
        raise ExerciseError(
            f"Return one latent id (an int), got {got!r}. None is only for when no latent is precise enough."
        )
    if got != 2:
        raise ExerciseError(
            _CONCEPT_HINTS.get(got)
            or (
                f"Latent {got} is out of range: there are 6 latents."
                if not 0 <= got < 6
                else f"Latent {got} is not the highest-F1 latent among those with precision >= min_precision "
                "(latent 2 is). Precision is P(concept | fires), recall P(fires | concept)."
            )
        )
    none = fn(fires.clone(), labels.clone(), 0.95)  # latent 1 is precise but has F1 0.1: still the answer
    if none != 1 and not (isinstance(none, torch.Tensor) and none.numel() == 1 and int(none) == 1):
        raise ExerciseError(
            "With min_precision 0.95 only latent 1 qualifies (precision 1, one token): return it, got "
            f"{none!r}. Filter on precision first, then take the best F1 among what is left."
        )
    only = fires.clone()
    only[:, 1] = False  # now no latent reaches precision 0.95
    if fn(only, labels.clone(), 0.95) is not None:
        raise ExerciseError(
            "When no latent reaches min_precision, return None (then lower the bar or train a better SAE) "
            "instead of a latent that fails it."
        )
    print("✓ concept_search matches the reference implementation.")


# ---- 3. the steering window ----

# (strengths, concept rate, own CE, answer) with min_gain 0.05 and max_ce_rise 0.5, each a trap for one mistake
_WINDOW_CASES = [
    # a clean sweep: the concept appears at 2, the text breaks after 4
    ([0, 1, 2, 4, 8], [0.02, 0.04, 0.10, 0.25, 0.40], [1.0, 1.05, 1.1, 1.4, 3.0], (2.0, 4.0)),
    # the unsteered model already uses concept words (0.10) and is costly (2.2 nats): compare with it
    ([0, 1, 2, 4, 8], [0.10, 0.13, 0.18, 0.30, 0.45], [2.2, 2.3, 2.5, 2.6, 4.0], (2.0, 4.0)),
    # empty: the text breaks before the concept appears
    ([0, 1, 2, 4, 8], [0.02, 0.03, 0.04, 0.05, 0.30], [1.0, 1.2, 1.7, 2.5, 4.0], None),
    # not monotone: the loss breaks at 4 and dips back under the budget at 8 (a noisy sweep)
    ([0, 1, 2, 4, 8], [0.02, 0.04, 0.10, 0.30, 0.50], [1.0, 1.1, 1.2, 1.8, 1.4], (2.0, 2.0)),
]


def _absolute(strengths, rates, ces, min_gain, max_ce_rise):
    """Mistake: thresholds compared with 0 instead of with the unsteered sample."""
    return steering_window([0.0, *strengths], [0.0, *rates], [0.0, *ces], min_gain, max_ce_rise)


def _every_good(strengths, rates, ces, min_gain, max_ce_rise):
    """Mistake: from the first to the last strength where both hold, with failures in between."""
    good = [
        s
        for s, r, c in zip(strengths[1:], rates[1:], ces[1:])
        if r >= rates[0] + min_gain and c <= ces[0] + max_ce_rise
    ]
    return (float(good[0]), float(good[-1])) if good else None


def _appear_to_fluent(strengths, rates, ces, min_gain, max_ce_rise):
    """Mistake: from the first strength where the concept appears to the last where the text is fluent."""
    appear = [s for s, r in zip(strengths[1:], rates[1:]) if r >= rates[0] + min_gain]
    fluent = [s for s, c in zip(strengths[1:], ces[1:]) if c <= ces[0] + max_ce_rise]
    return (float(appear[0]), float(fluent[-1])) if appear and fluent else None


_WINDOW_HINTS = [
    (
        _every_good,
        "the window is one contiguous run. Once the text breaks (own CE over budget), a stronger setting "
        "that happens to dip back under the budget is noise, not a second window: stop at the first failure.",
    ),
    (
        _absolute,
        "compare with the unsteered sample (strength 0), not with zero: the concept rate must rise by "
        "min_gain above the unsteered rate, and the loss by at most max_ce_rise above the unsteered loss.",
    ),
    (
        _appear_to_fluent,
        "an empty window comes back as a pair whose start is after its end (or spans a broken strength). "
        "Both conditions must hold at the same strength: when the text breaks before the concept appears, "
        "the window is empty — return None.",
    ),
]


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (
        isinstance(a, (tuple, list))
        and len(a) == 2
        and all(isinstance(v, (int, float)) and math.isclose(v, w) for v, w in zip(a, b))
    )


def _window_hint(case: list, got) -> str:
    strengths, rates, ces, want = case
    for mistake, hint in _WINDOW_HINTS:
        wrong = mistake(strengths, rates, ces, 0.05, 0.5)
        if not _same(wrong, want) and _same(got, wrong):
            return f"Expected {want}, got {got!r}: {hint}"
    return (
        f"Expected {want}, got {got!r}: the window starts at the first strength where the concept rate is at "
        "least min_gain above the unsteered rate while the loss stays within max_ce_rise of the unsteered "
        "loss, and ends at the last strength before either fails. Strength 0 (unsteered) is never in it."
    )


def check_steering_window(fn: Callable) -> None:
    """``fn(strengths, concept_rate, own_ce, min_gain, max_ce_rise)`` -> (lo, hi) or None."""
    for case in _WINDOW_CASES:
        strengths, rates, ces, want = case
        got = fn(list(strengths), list(rates), list(ces), 0.05, 0.5)
        if got is not None and not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise ExerciseError(f"Return a pair (lowest, highest strength) or None; got {got!r}.")
        if not _same(got, want):
            raise ExerciseError(_window_hint(case, got))
    print("✓ steering_window matches the reference implementation.")
