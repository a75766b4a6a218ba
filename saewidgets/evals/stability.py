"""Seed stability: do two SAEs trained alike from different seeds learn the same dictionary? (Paulo & Belrose
2025 found ~30 % of latents shared between seeds on real models; the issue's threshold, decoder cosine >= 0.9,
follows their matching.)

The decoder rows of the two SAEs are matched one to one by the Hungarian algorithm on their cosine
similarities (Kuhn 1955; ``scipy.optimize.linear_sum_assignment``), and a latent counts as *shared* when its
match is at least ``threshold`` similar. The same number for a random dictionary of the same shape, matched
against the first SAE, is the baseline: what chance alone would share.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def _unit_rows(W) -> np.ndarray:
    W = np.asarray(W.detach().cpu().double().numpy() if hasattr(W, "detach") else W, np.float64)
    return W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-12)


def matched_cosines(W_a, W_b) -> tuple[np.ndarray, np.ndarray]:
    """(cosine of each row of ``W_a`` with its match in ``W_b`` [d_a], the matched row of ``W_b`` [d_a]), a
    one-to-one matching maximising the total cosine (rows: latents, columns: d_in; d_a <= d_b)."""
    A, B = _unit_rows(W_a), _unit_rows(W_b)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"the dictionaries live in different spaces: d_in {A.shape[1]} vs {B.shape[1]}")
    if len(A) > len(B):
        raise ValueError(f"match the smaller dictionary into the larger: {len(A)} rows into {len(B)}")
    sim = A @ B.T  # [d_a, d_b]
    rows, cols = linear_sum_assignment(-sim)
    out_cos = np.zeros(len(A))
    out_col = np.zeros(len(A), np.int64)
    out_cos[rows], out_col[rows] = sim[rows, cols], cols
    return out_cos, out_col


def seed_stability(sae_a, sae_b, threshold: float = 0.9, seed: int = 0) -> dict:
    """{"shared": share of ``sae_a``'s latents matched at cosine >= ``threshold`` in ``sae_b``,
    "random_baseline": the same against a random Gaussian dictionary of ``sae_b``'s shape, "mean_cosine"}."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold is a cosine in (0, 1], got {threshold}")
    cos, _ = matched_cosines(sae_a.W_dec, sae_b.W_dec)
    rng = np.random.default_rng(seed)
    random_dict = rng.normal(size=tuple(sae_b.W_dec.shape))
    base, _ = matched_cosines(sae_a.W_dec, random_dict)
    return {
        "shared": float((cos >= threshold).mean()),
        "random_baseline": float((base >= threshold).mean()),
        "mean_cosine": float(cos.mean()),
        "random_mean_cosine": float(base.mean()),
    }
