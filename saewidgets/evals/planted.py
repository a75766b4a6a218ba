"""Every metric of ``saewidgets.evals`` on one SAE, against the storyteller corpus's planted labels.

``planted_labels`` turns a harvest of the corpus into label rows: the sentence concepts (``dialogue``,
``tone=sad``, ``topic=sea``, ...; ``concepts.token_labels``) and the word concepts of the planted hierarchy
(``word:animal``, ``word:colour=red``, ...; ``concepts.word_labels``). ``evaluate_planted`` runs:

- ``truth_f1``: for each word concept of the hierarchy (parents and children with enough rows), the best
  single latent's F1 as a classifier of its tokens, averaged -- the planted truth the other metrics are
  judged against (Bricken et al. 2023's specificity/sensitivity). Word concepts only: a sentence concept
  labels every token of its sentence, which no token-level latent can match, and a dense random latent
  scores as well on them as a trained one (``truth`` still lists every concept's best F1);
- sparse probing of each probed concept (sentence concepts and word parents) at k = 1, 2, 5, 20, with the
  linear-probe ceiling and the difference-in-means baseline, averaged over concepts;
- absorption of each word parent into its children;
- label-oracle autointerp of ``n_latents`` latents with every planted label as a possible explanation.

One split by document serves every metric, so no probe or explanation sees its test rows.
"""

from __future__ import annotations

import numpy as np

from ..concepts import HIERARCHY, latent_scores_many, planted_label_rows
from ..metric_info import SUMMARY_KEYS as SUMMARY_KEYS  # name -> higher is better; kept torch-free there
from .absorption import absorption
from .autointerp import label_oracle_autointerp
from .probes import split_by_document
from .sparse_probing import sparse_probing_many

MIN_ROWS = 10  # positives needed on each side of the split for a concept to be scored
KS = (1, 2, 5, 20)


def planted_labels(activations, corpus, tokenizer) -> dict[str, np.ndarray]:
    """{name: [n_rows] bool} for every planted concept of ``corpus`` found in the rows: sentence concepts by
    their own names, word concepts as ``"word:<concept>"``."""
    from ..zoo.corpus import CONCEPTS, TOPICS

    sentence = [*CONCEPTS, "tone=sad", "tone=happy", *(f"topic={t}" for t in TOPICS)]
    words = [c for parent, kids in HIERARCHY.items() for c in (parent, *kids)]
    rows = planted_label_rows(activations, corpus, tokenizer, sentence=sentence, words=words)
    return {name: y for name, y in rows.items() if y.any()}


def _enough(y: np.ndarray, test: np.ndarray) -> bool:
    return (y & test).sum() >= MIN_ROWS and (y & ~test).sum() >= MIN_ROWS and not (y | ~test).all()


def evaluate_planted(
    sae, activations, corpus, tokenizer, seed: int = 0, n_latents: int = 100, batch_size: int = 4096
) -> dict:
    """All metrics of one SAE on a harvest of the storyteller corpus. Returns ``{"summary": {key: value}``
    (``SUMMARY_KEYS``), ``"probing": {concept: ...}``, ``"absorption": {parent: ...}``, ``"autointerp":
    ...``, ``"truth": {concept: best F1}``, ``"seed"}``."""
    labels = planted_labels(activations, corpus, tokenizer)
    test = split_by_document(activations.doc_ids.numpy(), seed=seed)
    usable = {name: y for name, y in labels.items() if _enough(y, test)}
    probed = [n for n in usable if not n.startswith("word:") or n.removeprefix("word:") in HIERARCHY]
    if not probed:
        raise ValueError(
            "no planted concept has enough rows on both sides of the split: harvest more documents"
        )
    scores = latent_scores_many(sae, activations, usable, batch_size=batch_size)
    truth = {n: float(scores[n]["f1"].max()) for n in usable}
    words = [n for n in usable if n.startswith("word:")]
    probing = sparse_probing_many(
        sae, activations, {n: usable[n] for n in probed}, test, ks=KS, seed=seed, batch_size=batch_size
    )
    absorbed = {}
    for parent, kids in HIERARCHY.items():
        name = f"word:{parent}"
        # every child present counts: the headline numbers average over all the parent's held-out tokens,
        # and each child's own numbers come with their count ("n")
        children = {k: labels[f"word:{k}"] for k in kids if f"word:{k}" in labels}
        if name in usable and children:
            absorbed[parent] = absorption(
                sae, activations, usable[name], children, test, seed=seed, batch_size=batch_size
            )
    interp = label_oracle_autointerp(
        sae, activations, usable, n_latents=n_latents, test_rows=test, seed=seed, batch_size=batch_size
    )

    def mean(values) -> float:
        values = [v for v in values if np.isfinite(v)]
        return float(np.mean(values)) if values else float("nan")

    summary = {
        "truth_f1": mean(truth[n] for n in words),
        "probing_f1_k1": mean(p["sae"][1]["f1"] for p in probing.values()),
        "probing_f1_k5": mean(p["sae"][5]["f1"] for p in probing.values()),
        "probe_ceiling_f1": mean(p["linear_probe"]["f1"] for p in probing.values()),
        "diff_in_means_f1": mean(p["diff_in_means"]["f1"] for p in probing.values()),
        "absorption": mean(a["absorption_fraction"] for a in absorbed.values()),
        "full_absorption": mean(a["full_absorption"] for a in absorbed.values()),
        "planted_absorption": mean(a["planted"] for a in absorbed.values()),
        "autointerp": interp["score"],
    }
    return {
        "summary": summary,
        "truth": truth,
        "probing": probing,
        "absorption": absorbed,
        "autointerp": interp,
        "seed": seed,
    }
