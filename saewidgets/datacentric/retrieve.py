"""Find the documents that *have* a property, by the latents that encode it (Jiang et al. 2025 §4.4).

1. Normalise each latent by the 90th percentile of its non-zero (max-pooled) activations in the corpus,
   so a latent that fires weakly everywhere and one that fires hard on a few documents count alike.
2. Choose the query latents: given directly, or -- query by example -- the latents that fire in more
   of the example documents than in the corpus as a whole (a small diff), ranked by that difference.
3. Weight the latent at rank r (0-based) of k by w_r = exp(-r / (k T)) with temperature T (the paper's
   best average is T = 0.2; T -> 0 keeps only the top latent, which the paper found poor because single
   latents are fine-grained and imprecise -- aggregating several is the point).
4. Score each document by sum_r w_r a_r / p90_r and rank.

Dense embeddings retrieve texts *about* a query; SAE latents retrieve texts that *have* the property.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .embed import DocEmbeddings


class Retrieval(NamedTuple):
    docs: np.ndarray  # [k] document indices, best first
    scores: np.ndarray  # [k] their scores
    latents: np.ndarray  # [n_latents] query latents, by rank
    weights: np.ndarray  # [n_latents] w_r = exp(-r / (n T))
    contributions: np.ndarray  # [k, n_latents] w_r a_r / p90_r: why each document ranked where it did
    all_scores: np.ndarray  # [n_docs] every document's score (for average precision)


def percentile_scale(emb: DocEmbeddings, q: float = 90.0) -> np.ndarray:
    """[d_sae] the q-th percentile of each latent's non-zero document values (1 where it never fires)."""
    v = emb.values.tocsc()
    scale = np.ones(emb.d_sae)
    for j in range(emb.d_sae):
        col = v.data[v.indptr[j] : v.indptr[j + 1]]
        col = col[col > 0]
        if len(col):
            scale[j] = np.percentile(col, q)
    return scale


def rank_weights(n: int, temperature: float) -> np.ndarray:
    """w_r = exp(-r / (n T)) for r = 0..n-1."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 (the paper's best is 0.2), got {temperature!r}")
    return np.exp(-np.arange(n) / (n * temperature))


def example_latents(emb: DocEmbeddings, examples, n: int = 20) -> np.ndarray:
    """The latents that fire in more of the example documents than of the corpus, largest difference first
    (ties: larger mean activation on the examples); only positive differences."""
    ex = np.unique(np.asarray(list(examples), dtype=np.int64))
    if not len(ex):
        raise ValueError("give at least one example document")
    if ex.min() < 0 or ex.max() >= emb.n_docs:
        raise ValueError(f"example documents must be indices in [0, {emb.n_docs})")
    B = emb.binary()
    d = np.asarray(B[ex].mean(0)).ravel() - np.asarray(B.mean(0)).ravel()
    strength = np.asarray(emb.values[ex].mean(0)).ravel()
    order = np.lexsort((-strength, -d))
    order = order[d[order] > 0][:n]
    if not len(order):
        raise ValueError(
            "the example documents share no latent that is rarer in the corpus: give examples "
            "that have the property in common"
        )
    return order


def retrieve(
    emb: DocEmbeddings,
    *,
    examples=None,
    latents=None,
    k: int = 10,
    n_latents: int = 20,
    temperature: float = 0.2,
    exclude_examples: bool = True,
    scale: np.ndarray | None = None,
) -> Retrieval:
    """The top ``k`` documents for a query given as ``examples`` (document indices) or ``latents`` (ids, by
    importance). ``k`` larger than the number of candidates returns them all. ``scale``: precomputed
    ``percentile_scale(emb)`` (reuse it across queries)."""
    if (examples is None) == (latents is None):
        raise ValueError("query by examples=[doc ids] or by latents=[latent ids] (exactly one)")
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if latents is not None:
        chosen = np.asarray(list(latents), dtype=np.int64)
        if not len(chosen) or chosen.min() < 0 or chosen.max() >= emb.d_sae:
            raise ValueError(f"latents must be a non-empty list of ids in [0, {emb.d_sae})")
    else:
        chosen = example_latents(emb, examples, n_latents)
    weights = rank_weights(len(chosen), temperature)
    scale = percentile_scale(emb) if scale is None else scale
    contrib = np.asarray(emb.values[:, chosen].todense()) / scale[chosen] * weights  # [n_docs, n]
    scores = contrib.sum(1)
    candidates = np.arange(emb.n_docs)
    if examples is not None and exclude_examples:
        candidates = np.setdiff1d(candidates, np.asarray(list(examples), dtype=np.int64))
    order = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
    return Retrieval(order, scores[order], chosen, weights, contrib[order], scores)


def precision_at_k(ranked, relevant, k: int) -> float:
    """Share of the first k ranked documents that are relevant (relevant: [n_docs] bool)."""
    relevant = np.asarray(relevant, bool)
    return float(relevant[np.asarray(ranked)[:k]].mean())


def average_precision(scores, relevant, exclude=()) -> float:
    """Average precision of ranking every document by ``scores`` (ties broken by index), ``exclude`` left out."""
    scores, relevant = np.asarray(scores, float), np.asarray(relevant, bool)
    keep = np.setdiff1d(np.arange(len(scores)), np.asarray(list(exclude), dtype=np.int64))
    order = keep[np.argsort(-scores[keep], kind="stable")]
    hits = relevant[order]
    if not hits.any():
        raise ValueError("no relevant document to retrieve")
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())
