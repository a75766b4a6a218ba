"""What each evaluation number means, how to label it on an axis, and which way is better: one torch-free table.

``evals.planted`` computes the summary numbers, ``widgets.frontier_plot`` puts any of them on its y-axis (its
Pareto front needs the direction) and ``eval_page`` explains them on the ``saewidgets eval`` page. All three read
them here, so none has to import another just for a name; importing this module imports nothing.
"""

from __future__ import annotations

from typing import NamedTuple


class Metric(NamedTuple):
    higher_is_better: bool
    label: str  # axis label: "name (detail)"; the plot's y label keeps the part before " ("
    meaning: str  # one line for a reader (from the docstring of the module that computes it)


EVAL_METRICS: dict[str, Metric] = {
    "truth_f1": Metric(
        True,
        "truth F1 (best single latent per planted concept)",
        "the F1 of the single latent that best classifies a planted concept's tokens, averaged over the "
        "concepts evals.planted scores: the planted truth the other metrics are judged against",
    ),
    "probing_f1_k1": Metric(
        True,
        "sparse probing F1, k = 1 (one latent)",
        "a logistic probe on the one latent whose mean activation differs most between a concept's tokens and "
        "the rest, scored on held-out documents, averaged over concepts (evals.sparse_probing)",
    ),
    "probing_f1_k5": Metric(
        True,
        "sparse probing F1, k = 5 (five latents)",
        "the same probe on the top 5 latents; the gap to k = 1 shows a concept smeared over several latents",
    ),
    "probe_ceiling_f1": Metric(
        True,
        "linear probe F1 (raw activations, the ceiling)",
        "a full logistic probe on the raw activations: what any linear reader of the model reaches (the "
        "same for every SAE at one hook)",
    ),
    "diff_in_means_f1": Metric(
        True,
        "difference-in-means F1 (raw activations, the baseline)",
        "a difference-in-means direction on the raw activations: the cheap baseline a latent should beat",
    ),
    "absorption": Metric(
        False,
        "absorption fraction (probe-based, SAEBench)",
        "on a parent word's tokens (animal, colour, ...), the share of its probe direction carried by other "
        "latents instead of the parent's main latents, averaged over parents (evals.absorption)",
    ),
    "full_absorption": Metric(
        False,
        "full absorption (main latents silent)",
        "the share of a parent's tokens where every main latent is silent and one other latent carries it",
    ),
    "planted_absorption": Metric(
        False,
        "planted absorption (no probe)",
        "the share of child tokens (cat for animal) where the parent's latents are silent and a latent that "
        "fires almost only on that child fires instead, judged by the planted labels alone",
    ),
    "autointerp": Metric(
        True,
        "autointerp detection accuracy (label oracle)",
        "each sampled latent explained by the planted label or top tokens that fit its examples best, then "
        "scored by how well that predicts where it fires on held-out text (0.5 is chance; evals.autointerp)",
    ),
}
"""The summary numbers of ``evals.planted.evaluate_planted``, in its order."""

SUMMARY_KEYS: dict[str, bool] = {key: m.higher_is_better for key, m in EVAL_METRICS.items()}
"""Summary key -> higher is better (``evals.planted`` re-exports it)."""

RECONSTRUCTION_MEANINGS: dict[str, str] = {
    "l0": "active latents per token (the sparsity)",
    "fvu": "fraction of the activations' variance the reconstruction leaves unexplained (lower is better)",
    "explained_variance": "1 - FVU",
    "delta_ce": "increase of the model's next-token cross-entropy with the SAE's reconstruction spliced in "
    "at the hook, in nats (lower is better)",
    "ce_loss_score": "the share of the CE increase from zero-ablating the hook that the SAE avoids (1 is perfect)",
    "dead_fraction": "share of latents that never fire on the evaluation tokens",
}
"""One line each for the reconstruction metrics (``metrics.evaluate`` defines them)."""

STABILITY_MEANING = (
    "two SAEs of the same architecture, width and hook: the share of the first's latents whose decoder row "
    "has a match in the second at cosine >= 0.9 (one-to-one Hungarian matching), beside the share a random "
    "dictionary of that shape would match (evals.stability)"
)
