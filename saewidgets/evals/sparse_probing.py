"""Sparse probing: can a concept be read off a handful of SAE latents? (SAEBench, Karvonen et al. 2025; after
Gurnee et al. 2023's k-sparse probing.)

For one labelled concept: rank latents by the difference of their mean activation on positive and negative
*training* rows, keep the top k, fit a logistic probe on those k activations, and score it on held-out
documents. The same concept is probed on the raw activations twice: a full logistic probe (the ceiling a
linear reader of the model reaches) and a difference-in-means direction (the cheap baseline). An SAE whose
top-1 latent nearly matches the full probe has a latent *for* the concept; one that needs 20 has smeared it.

Adapted: SAEBench mean-pools a sequence's latents and probes sequences; here every row is a token and the
label is token-level (``concepts.token_labels`` / ``word_labels``), so the split is by document
(``probes.split_by_document``) and scores are balanced (``probes`` says why).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..features import activation_rows, encode_batches
from .probes import check_labels, diff_in_means, fit_logistic, scores, split_by_document


def mean_differences(sae, activations, labels, rows=None, batch_size: int = 4096) -> np.ndarray:
    """[d_sae] float64: mean latent activation on positive minus negative rows (only ``rows``, a bool mask,
    when given), from one batched pass of the SAE."""
    x = activation_rows(activations)
    y = np.asarray(labels, bool)
    keep = np.ones(len(y), bool) if rows is None else np.asarray(rows, bool)
    pos_sum = neg_sum = 0.0
    for start, a in encode_batches(sae, x, batch_size):
        a = a.double().cpu().numpy()  # [b, d_sae]
        yb, kb = y[start : start + len(a)], keep[start : start + len(a)]
        pos_sum = pos_sum + a[yb & kb].sum(0)
        neg_sum = neg_sum + a[~yb & kb].sum(0)
    return pos_sum / max(1, (y & keep).sum()) - neg_sum / max(1, (~y & keep).sum())


def latent_columns(sae, activations, latents: Sequence[int], batch_size: int = 4096) -> np.ndarray:
    """[n_rows, len(latents)] float32: the activations of a few latents on every row."""
    x = activation_rows(activations)
    idx = np.asarray(latents, dtype=np.int64)
    out = np.zeros((len(x), len(idx)), np.float32)
    for start, a in encode_batches(sae, x, batch_size):
        out[start : start + len(a)] = a[:, idx].cpu().numpy()
    return out


def sparse_probing(
    sae,
    activations,
    labels,
    test_rows=None,
    ks: Sequence[int] = (1, 2, 5, 20),
    seed: int = 0,
    batch_size: int = 4096,
) -> dict:
    """Probe one concept with the top-k latents (by mean difference) for each k, and with two baselines.

    ``activations``: an ActivationSet (or rows [n, d_in]); ``labels`` [n] bool; ``test_rows`` [n] bool, the
    held-out rows (default: 30 % of the documents of an ActivationSet, ``split_by_document``). Returns
    ``{"sae": {k: {"balanced_accuracy", "f1", "latents"}}, "linear_probe": {...}, "diff_in_means": {...},
    "n_train", "n_test", "positives_test"}``; the top-1 latent is ``result["sae"][1]["latents"][0]``."""
    x = activation_rows(activations)
    y = check_labels(labels, len(x))
    if test_rows is None:
        if not hasattr(activations, "doc_ids"):
            raise ValueError("pass test_rows (held-out rows, bool [n]) or an ActivationSet with doc_ids")
        test_rows = split_by_document(activations.doc_ids.numpy(), seed=seed)
    test = np.asarray(test_rows, bool)
    train = ~test
    for name, part in (("training", train), ("held-out", test)):
        check_labels(y[part], int(part.sum()), f"labels of the {name} rows")
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    d_sae = int(sae.W_dec.shape[0])
    order = np.argsort(-mean_differences(sae, x, y, train, batch_size), kind="stable")[: min(ks[-1], d_sae)]
    cols = latent_columns(sae, x, order, batch_size)  # [n, k_max]
    out: dict = {"sae": {}, "n_train": int(train.sum()), "n_test": int(test.sum())}
    out["positives_test"] = int(y[test].sum())
    for k in ks:
        kk = min(k, len(order))
        w, b = fit_logistic(cols[train, :kk], y[train], seed)
        out["sae"][k] = {**scores(y[test], cols[test, :kk] @ w + b > 0), "latents": order[:kk].tolist()}
    raw = np.asarray(x.detach().cpu().float().numpy() if hasattr(x, "detach") else x, np.float32)
    w, b = fit_logistic(raw[train], y[train], seed)
    out["linear_probe"] = scores(y[test], raw[test] @ w + b > 0)
    direction, threshold = diff_in_means(raw[train], y[train])
    out["diff_in_means"] = scores(y[test], raw[test] @ direction > threshold)
    return out
