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

from collections.abc import Mapping, Sequence

import numpy as np

from ..features import activation_rows, encode_batches
from .probes import check_labels, diff_in_means, fit_logistic, scores, split_by_document


def mean_differences(sae, activations, label_sets, rows=None, batch_size: int = 4096) -> np.ndarray:
    """[C, d_sae] float64: for each of the C label sets ([n] bool; a single [n] array gives C = 1), the mean
    latent activation on its positive rows minus on its negative rows (only ``rows``, a bool mask, when
    given), from one batched pass of the SAE whatever C."""
    x = activation_rows(activations)
    y = np.asarray(label_sets, bool).reshape(-1, len(x))  # [C, n]
    keep = np.ones(len(x), bool) if rows is None else np.asarray(rows, bool)
    pos = (y & keep).astype(np.float64)  # [C, n]
    pos_sum = all_sum = 0.0
    for start, a in encode_batches(sae, x, batch_size):
        a = a.double().cpu().numpy()  # [b, d_sae]
        pos_sum = pos_sum + pos[:, start : start + len(a)] @ a  # [C, d_sae]
        all_sum = all_sum + keep[start : start + len(a)] @ a  # [d_sae]
    n_pos = pos.sum(1, keepdims=True)
    n_neg = keep.sum() - n_pos
    return pos_sum / np.maximum(n_pos, 1) - (all_sum - pos_sum) / np.maximum(n_neg, 1)


def latent_columns(sae, activations, latents: Sequence[int], batch_size: int = 4096) -> np.ndarray:
    """[n_rows, len(latents)] float32: the activations of a few latents on every row."""
    x = activation_rows(activations)
    idx = np.asarray(latents, dtype=np.int64)
    out = np.zeros((len(x), len(idx)), np.float32)
    for start, a in encode_batches(sae, x, batch_size):
        out[start : start + len(a)] = a[:, idx].cpu().numpy()
    return out


def _test_rows(activations, test_rows, seed: int) -> np.ndarray:
    if test_rows is not None:
        return np.asarray(test_rows, bool)
    if not hasattr(activations, "doc_ids"):
        raise ValueError("pass test_rows (held-out rows, bool [n]) or an ActivationSet with doc_ids")
    return split_by_document(activations.doc_ids.numpy(), seed=seed)


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
    return sparse_probing_many(sae, activations, {"": labels}, test_rows, ks, seed, batch_size)[""]


def sparse_probing_many(
    sae,
    activations,
    label_sets: Mapping[str, np.ndarray],
    test_rows=None,
    ks: Sequence[int] = (1, 2, 5, 20),
    seed: int = 0,
    batch_size: int = 4096,
) -> dict[str, dict]:
    """``sparse_probing`` of several concepts ({name: [n] bool}) from two passes of the SAE in all."""
    x = activation_rows(activations)
    names = list(label_sets)
    ys = [check_labels(label_sets[n], len(x), f"labels {n!r}" if n else "labels") for n in names]
    test = _test_rows(activations, test_rows, seed)
    train = ~test
    for n, y in zip(names, ys):
        for part, side in ((train, "training"), (test, "held-out")):
            check_labels(y[part], int(part.sum()), f"labels {n + ' ' if n else ''}of the {side} rows")
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    k_max = min(ks[-1], int(sae.W_dec.shape[0]))
    diffs = mean_differences(sae, x, np.stack(ys), train, batch_size)  # [C, d_sae]
    orders = np.argsort(-diffs, axis=1, kind="stable")[:, :k_max]  # [C, k_max]
    union, where = np.unique(orders, return_inverse=True)
    cols = latent_columns(sae, x, union, batch_size)  # [n, U]: every concept's top latents, one pass
    raw = np.asarray(x.detach().cpu().float().numpy() if hasattr(x, "detach") else x, np.float32)
    results = {}
    for c, (name, y) in enumerate(zip(names, ys)):
        mine = cols[:, where.reshape(orders.shape)[c]]  # [n, k_max], in this concept's order
        out: dict = {"sae": {}, "n_train": int(train.sum()), "n_test": int(test.sum())}
        out["positives_test"] = int(y[test].sum())
        for k in ks:
            kk = min(k, k_max)
            w, b = fit_logistic(mine[train, :kk], y[train], seed)
            out["sae"][k] = {
                **scores(y[test], mine[test, :kk] @ w + b > 0),
                "latents": orders[c, :kk].tolist(),
            }
        w, b = fit_logistic(raw[train], y[train], seed)
        out["linear_probe"] = scores(y[test], raw[test] @ w + b > 0)
        direction, threshold = diff_in_means(raw[train], y[train])
        out["diff_in_means"] = scores(y[test], raw[test] @ direction > threshold)
        results[name] = out
    return results
