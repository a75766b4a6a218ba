"""A toy hierarchy with known truth, and SAEs built by hand to have (or not have) each property.

Rows are tokens of 80 documents: a parent concept is present on 30 % of rows and, where present, exactly one
of four children is too; five unrelated features fire independently. Each feature is a standard basis
direction of a 64-dimensional space, so a dictionary can be written down exactly:

- ``perfect``: one latent per feature (encoder = decoder = its direction): no absorption, every concept
  readable from one latent;
- ``absorbing``: the same, except that child 0's latent also writes the parent direction and the parent's
  latent is switched off wherever child 0 is present (its encoder subtracts child 0): child 0's tokens are
  fully absorbed, the other children not at all;
- ``random_sae``: a randomly initialised ReLU SAE, which knows nothing.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

import saewidgets as sw

D_IN, N_CHILDREN, N_OTHER = 64, 4, 5
PARENT, CHILD0, OTHER0 = 0, 1, 1 + N_CHILDREN


class Toy(NamedTuple):
    x: torch.Tensor  # [n, D_IN]
    parent: np.ndarray  # [n] bool
    children: dict  # {"child0": [n] bool, ...}
    doc_ids: np.ndarray  # [n]
    test: np.ndarray  # [n] bool: held-out documents


def toy_hierarchy(n: int = 8000, seed: int = 0) -> Toy:
    rng = np.random.default_rng(seed)
    parent = rng.random(n) < 0.3
    child = np.where(parent, rng.integers(0, N_CHILDREN, n), -1)
    x = np.zeros((n, D_IN), np.float32)
    x[:, PARENT] = parent * rng.uniform(0.8, 1.2, n)
    for c in range(N_CHILDREN):
        x[:, CHILD0 + c] = (child == c) * rng.uniform(0.8, 1.2, n)
    for j in range(N_OTHER):
        x[:, OTHER0 + j] = (rng.random(n) < 0.2) * rng.uniform(0.8, 1.2, n)
    x += rng.normal(0, 0.02, x.shape).astype(np.float32)
    doc_ids = np.arange(n) // (n // 80)
    test = np.isin(doc_ids, rng.choice(np.unique(doc_ids), 24, replace=False))
    children = {f"child{c}": child == c for c in range(N_CHILDREN)}
    return Toy(torch.from_numpy(x), parent, children, doc_ids, test)


def _relu_sae(W_enc: np.ndarray, W_dec: np.ndarray, threshold: float = 0.3):
    """A ReLU SAE with these weights ([D_IN, d_sae] and [d_sae, D_IN]), b_enc = -threshold, b_dec = 0."""
    d_sae = W_dec.shape[0]
    sae = sw.build_sae(sw.SAEConfig("relu", d_in=D_IN, d_sae=d_sae))
    with torch.no_grad():
        sae.W_enc.copy_(torch.as_tensor(W_enc, dtype=torch.float32))
        sae.W_dec.copy_(torch.as_tensor(W_dec, dtype=torch.float32))
        sae.b_enc.fill_(-threshold)
        sae.b_dec.zero_()
    return sae


def perfect() -> torch.nn.Module:
    n_feat = 1 + N_CHILDREN + N_OTHER
    eye = np.eye(D_IN, dtype=np.float32)[:n_feat]  # [d_sae, D_IN]
    return _relu_sae(eye.T.copy(), eye.copy())


def absorbing() -> torch.nn.Module:
    n_feat = 1 + N_CHILDREN + N_OTHER
    W_dec = np.eye(D_IN, dtype=np.float32)[:n_feat]
    W_enc = W_dec.T.copy()
    W_enc[CHILD0, PARENT] = -3.0  # the parent latent is silent wherever child 0 is present
    W_dec[CHILD0, PARENT] = 1.0  # and child 0's latent writes the parent direction instead
    return _relu_sae(W_enc, W_dec)


def random_sae(seed: int = 0) -> torch.nn.Module:
    return sw.build_sae(sw.SAEConfig("relu", d_in=D_IN, d_sae=1 + N_CHILDREN + N_OTHER), seed=seed)
