"""Diff corpora by their SAE latents: which latents fire in more of one corpus's documents?

Jiang et al. 2025 (§4.1) rank latents by the difference in the share of documents they fire in; with
several corpora, the target's share minus the *largest* share among the others. They keep latents whose
difference exceeds 0.03 -- a filter, not a test: with 500 documents a side and a share near 0.5 one
difference already has a standard error of ~0.03, and the largest of thousands of latents' noise is
several times that. So this module adds a **permutation null**: shuffle which corpus each document
belongs to (sizes kept), recompute every latent's difference, and record the largest absolute difference over
all latents; the ``quantile`` of that maximum over ``n_permutations`` shuffles is a band that pure noise
crosses with probability 1 - quantile *for any latent* (a family-wise bound, so no per-latent
multiple-comparison correction is needed).

Length matters: binarised max-pooling fires more latents in longer documents, so a corpus of longer
documents "has more of everything". The result carries each corpus's mean length and a note when they
differ by more than 10 %; truncate or sample to matched lengths before reading small differences.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .embed import DocEmbeddings


class DiffResult(NamedTuple):
    difference: np.ndarray  # [d_sae] target share minus the largest other share (signed)
    frequencies: np.ndarray  # [n_corpora, d_sae] share of documents each latent fires in; row 0 is the target
    order: np.ndarray  # [d_sae] latents by difference, largest first
    null: float  # the permutation band: |difference| above it is unlikely under shuffled labels
    null_max: np.ndarray  # [n_permutations] max |difference| of each shuffle (the null distribution)
    mean_tokens: np.ndarray  # [n_corpora] mean document length in tokens
    note: str  # a warning about unmatched lengths, or ""

    def significant(self) -> np.ndarray:
        """Latents whose difference is above the band (more frequent in the target), largest first."""
        return self.order[self.difference[self.order] > self.null]

    def top(self, n: int = 10) -> list[dict]:
        return [
            {
                "latent": int(i),
                "difference": float(self.difference[i]),
                "target": float(self.frequencies[0, i]),
                "others": float(self.frequencies[1:, i].max()),
                "significant": bool(self.difference[i] > self.null),
            }
            for i in self.order[:n]
        ]


def check_compatible(*embeddings: DocEmbeddings) -> None:
    """Refuse to compare embeddings made with different SAEs, hooks, models or poolings, or empty ones."""
    first = embeddings[0]
    for i, e in enumerate(embeddings):
        if not isinstance(e, DocEmbeddings):
            raise TypeError(f"argument {i} is a {type(e).__name__}; pass embed_documents(sae, activations)")
        if e.n_docs == 0:
            raise ValueError(f"corpus {i} has no documents")
        for attr in ("sae_id", "hook", "model_name", "pooling", "threshold"):
            if getattr(e, attr) != getattr(first, attr):
                raise ValueError(
                    f"corpus {i} was embedded with a different {attr.replace('_id', '')} "
                    f"({getattr(e, attr)!r} vs {getattr(first, attr)!r}): embed every corpus with the "
                    "same SAE, model, hook and pooling before comparing them"
                )


def _differences(shares: np.ndarray) -> np.ndarray:
    """shares [..., n_corpora, d_sae] -> target (index 0) minus the largest other: [..., d_sae]."""
    return shares[..., 0, :] - shares[..., 1:, :].max(axis=-2)


def diff(
    target: DocEmbeddings,
    *others: DocEmbeddings,
    n_permutations: int = 200,
    quantile: float = 0.99,
    threshold: float | None = None,
    seed: int = 0,
) -> DiffResult:
    """Latents that fire in more of ``target``'s documents than in any of ``others``' (Jiang et al. 2025 §4.1).

    Negative differences are latents more frequent elsewhere (for two corpora: in the other one).
    ``threshold``: what counts as firing (default: the embeddings' own, which must agree).
    """
    if not others:
        raise ValueError("diff needs a target and at least one other corpus: diff(b, a)")
    if not 0 < quantile < 1 or n_permutations < 1:
        raise ValueError("quantile must be in (0, 1) and n_permutations >= 1")
    check_compatible(target, *others)
    corpora = (target, *others)
    B = sp.vstack([e.binary(threshold) for e in corpora], format="csr")  # [N, d_sae]
    sizes = np.array([e.n_docs for e in corpora])
    group = np.repeat(np.arange(len(corpora)), sizes)  # [N]
    shares = _shares(B, group[None], sizes)[0]  # [n_corpora, d_sae]
    difference = _differences(shares)

    rng = np.random.default_rng(seed)
    null_max = np.empty(n_permutations)
    for start in range(0, n_permutations, 50):  # 50 shuffles at a time: [50, n_corpora, d_sae] stays small
        perms = np.stack([rng.permutation(group) for _ in range(min(50, n_permutations - start))])
        null_max[start : start + len(perms)] = np.abs(_differences(_shares(B, perms, sizes))).max(-1)
    mean_tokens = np.array([e.n_tokens.mean() for e in corpora])
    spread = mean_tokens.max() / max(mean_tokens.min(), 1e-9) - 1
    note = (
        f"Mean document lengths differ by {spread:.0%} ({', '.join(f'{m:.0f}' for m in mean_tokens)} tokens): "
        "longer documents fire more latents when pooled, so match lengths before reading small differences."
        if spread > 0.10
        else ""
    )
    order = np.argsort(-difference, kind="stable")
    return DiffResult(
        difference, shares, order, float(np.quantile(null_max, quantile)), null_max, mean_tokens, note
    )


def _shares(B: sp.csr_matrix, groups: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """groups [n_perm, N] corpus index per document -> shares [n_perm, n_corpora, d_sae]."""
    n_perm, n = groups.shape
    k = len(sizes)
    rows = (np.arange(n_perm)[:, None] * k + groups).ravel()
    onehot = sp.csr_matrix(
        (np.ones(n_perm * n, np.float32), (rows, np.tile(np.arange(n), n_perm))), shape=(n_perm * k, n)
    )  # [n_perm * n_corpora, N]
    counts = np.asarray((onehot @ B).todense()).reshape(n_perm, k, -1)  # [n_perm, n_corpora, d_sae]
    return counts / sizes[None, :, None]
