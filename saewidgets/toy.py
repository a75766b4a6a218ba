"""Toy data with known features, and how well an SAE recovers them.

``toy_superposition`` draws sparse features along random directions in fewer dimensions than features
(Elhage et al. 2022); ``mmcs`` scores learned directions against the true ones (Sharkey et al. 2022) and
``hungarian_mcc`` learned activations against the true ones (the MCC of identifiability work). Notebook 01
uses them; metrics of an SAE on real activations are ``metrics.evaluate``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


class ToyData(NamedTuple):
    """What ``toy_superposition`` returns."""

    x: torch.Tensor
    """[n_samples, d] observed activations x = true_acts @ true_dirs."""
    true_acts: torch.Tensor
    """[n_samples, n_features] sparse non-negative feature activations."""
    true_dirs: torch.Tensor
    """[n_features, d] unit-norm feature directions."""


def toy_superposition(
    n_samples: int, n_features: int, d: int, p_active: float = 0.05, seed: int = 0
) -> ToyData:
    """Toy data with known features (Elhage et al. 2022, "Toy Models of Superposition"): each feature
    is active independently with probability ``p_active`` (their 1 - S) with a magnitude ~ U(0, 1),
    and writes along a random unit direction; with d < n_features the directions cannot be
    orthogonal, so the features are stored in superposition. float32, reproducible from ``seed``."""
    for name, v in (("n_samples", n_samples), ("n_features", n_features), ("d", d)):
        if not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not 0 < p_active <= 1:
        raise ValueError(f"p_active must be in (0, 1], got {p_active!r}")
    g = torch.Generator().manual_seed(seed)
    dirs = torch.randn(n_features, d, generator=g)  # [n_features, d]
    dirs /= dirs.norm(dim=1, keepdim=True)
    on = torch.rand(n_samples, n_features, generator=g) < p_active  # [n_samples, n_features]
    acts = torch.rand(n_samples, n_features, generator=g) * on  # [n_samples, n_features]
    return ToyData(acts @ dirs, acts, dirs)


def _np2d(a, name: str) -> np.ndarray:
    a = a.detach().cpu().double().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or 0 in a.shape:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {a.shape}")
    return a


def mmcs(learned_dirs, true_dirs) -> float:
    """Mean max cosine similarity (Sharkey et al. 2022, "Taking features out of superposition"): for
    each true direction, the best cosine with any learned one, averaged over the true directions.
    learned_dirs [n_learned, d] (e.g. ``sae.W_dec``), true_dirs [n_true, d]. 1 = every feature found."""
    learned, true = _np2d(learned_dirs, "learned_dirs"), _np2d(true_dirs, "true_dirs")
    if learned.shape[1] != true.shape[1]:
        raise ValueError(f"learned_dirs have d={learned.shape[1]} but true_dirs have d={true.shape[1]}")
    learned = learned / np.maximum(np.linalg.norm(learned, axis=1, keepdims=True), 1e-12)
    true = true / np.maximum(np.linalg.norm(true, axis=1, keepdims=True), 1e-12)
    return float((true @ learned.T).max(axis=1).mean())  # [n_true, n_learned] -> max over learned


def hungarian_mcc(learned_acts, true_acts) -> float:
    """Mean correlation coefficient under the best one-to-one matching (the MCC of identifiability
    work; SynthSAEBench §6.3): Pearson correlation over samples of every learned latent with every
    true feature, matched by ``linear_sum_assignment`` to maximise the total (signed: an
    anti-correlated latent does not represent a non-negative feature). Averaged over the *true*
    features, so with fewer latents than features the unmatched ones count 0. Constant columns
    correlate 0. learned_acts [n, n_learned], true_acts [n, n_true]."""
    learned, true = _np2d(learned_acts, "learned_acts"), _np2d(true_acts, "true_acts")
    if learned.shape[0] != true.shape[0]:
        raise ValueError(f"learned_acts has {learned.shape[0]} samples but true_acts has {true.shape[0]}")

    def standardise(a):  # [n, k] -> zero mean, unit norm columns (zero columns stay zero)
        a = a - a.mean(0)
        return a / np.where((norm := np.linalg.norm(a, axis=0)) > 1e-12, norm, np.inf)

    corr = standardise(learned).T @ standardise(true)  # [n_learned, n_true]
    rows, cols = linear_sum_assignment(corr, maximize=True)
    return float(corr[rows, cols].sum() / true.shape[1])
