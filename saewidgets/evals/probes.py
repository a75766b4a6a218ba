"""Linear probes and their scores: what every evaluation here compares SAE latents against.

A probe is fitted on the training documents and scored on held-out ones: rows of one document never sit on
both sides (``split_by_document``), because neighbouring tokens of a story share most of their context and a
row-level split would let a probe memorise documents. Classes are rare (a concept in 2-35 % of documents, a
word in well under 1 % of tokens), so probes are fitted with balanced class weights and scored by *balanced*
accuracy (the mean of the two recalls: 0.5 is chance whatever the base rate) and F1 of the positive class.
SAEBench (Karvonen et al. 2025) balances its probing datasets instead; balancing the loss is the adaptation
that keeps every held-out row.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

# fit_logistic's answers by a hash of its inputs. evaluate_planted fits the same probes on the raw
# activations (the linear-probe ceiling, absorption's parent probe) for every SAE it scores, and those fits
# were ~80 % of its time; the fit is deterministic in (x, y, seed, max_rows), so a hit changes no number.
_FITS: OrderedDict[bytes, tuple[np.ndarray, float]] = OrderedDict()
_MAX_FITS = 256  # a weight vector each: a few MB at most


def split_by_document(doc_ids, test_fraction: float = 0.3, seed: int = 0) -> np.ndarray:
    """[n_rows] bool, True for rows of held-out documents: a seeded ``test_fraction`` of the documents."""
    doc_ids = np.asarray(doc_ids).reshape(-1)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    docs = np.unique(doc_ids)
    if len(docs) < 2:
        raise ValueError(f"need rows from at least 2 documents to hold some out, got {len(docs)}")
    rng = np.random.default_rng(seed)
    n_test = min(len(docs) - 1, max(1, round(test_fraction * len(docs))))
    test_docs = rng.choice(docs, size=n_test, replace=False)
    return np.isin(doc_ids, test_docs)


def check_labels(labels, n_rows: int, name: str = "labels") -> np.ndarray:
    """``labels`` as [n_rows] bool, with both classes present; ValueError saying what is wrong otherwise."""
    y = np.asarray(labels)
    if y.shape != (n_rows,):
        raise ValueError(f"{name} must be one bool per activation row: shape ({n_rows},), got {y.shape}")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ValueError(
            f"{name} must have positive and negative rows, got {int(y.sum())} of {n_rows} positive"
        )
    return y


def scores(y_true, y_pred) -> dict:
    """{"balanced_accuracy", "f1"} of bool predictions against bool truth (F1 of the positive class)."""
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    tp = float((y_true & y_pred).sum())
    recall_pos = tp / max(1, y_true.sum())
    recall_neg = float((~y_true & ~y_pred).sum()) / max(1, (~y_true).sum())
    precision = tp / max(1, y_pred.sum())
    f1 = 2 * precision * recall_pos / (precision + recall_pos) if precision + recall_pos else 0.0
    return {"balanced_accuracy": (recall_pos + recall_neg) / 2, "f1": f1}


def fit_logistic(x, y, seed: int = 0, max_rows: int = 20_000) -> tuple[np.ndarray, float]:
    """(w [d], b): an L2-regularised logistic regression of ``y`` on ``x`` [n, d], balanced class weights,
    features standardised for the fit (the returned weights act on the raw features).

    Above ``max_rows`` rows every positive row is kept and a seeded sample of the negative ones: with the
    classes weighted to balance anyway, the fit barely changes and a probe on 70,000 rows of 128 dimensions
    costs a quarter of the time. Answers are remembered by a hash of the inputs (``_FITS``): scoring several
    SAEs on one harvest refits nothing on the raw activations."""
    x, y = np.ascontiguousarray(x, np.float64), np.ascontiguousarray(y, bool)
    h = hashlib.blake2b(x.tobytes(), digest_size=20)
    h.update(y.tobytes())
    h.update(repr((x.shape, y.shape, int(seed), int(max_rows))).encode())
    key = h.digest()
    if key not in _FITS:
        _FITS[key] = _fit_logistic(x, y, seed, max_rows)
        while len(_FITS) > _MAX_FITS:
            _FITS.popitem(last=False)
    _FITS.move_to_end(key)
    w, b = _FITS[key]
    return w.copy(), b


def _fit_logistic(x: np.ndarray, y: np.ndarray, seed: int, max_rows: int) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    if len(y) > max_rows:
        pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
        keep_neg = np.random.default_rng(seed).choice(neg, max(max_rows - len(pos), 1), replace=False)
        rows = np.sort(np.concatenate([pos, keep_neg])) if len(keep_neg) < len(neg) else np.arange(len(y))
        x, y = x[rows], y[rows]
    mu, sd = x.mean(0), x.std(0)
    sd[sd == 0] = 1.0
    model = LogisticRegression(class_weight="balanced", max_iter=2000, random_state=seed)
    model.fit((x - mu) / sd, y)
    w = model.coef_[0] / sd
    return w, float(model.intercept_[0] - (mu * w).sum())


def diff_in_means(x, y) -> tuple[np.ndarray, float]:
    """(direction [d], threshold): the difference of the class means and the midpoint of their projections.

    The simplest linear detector; AxBench (Wu et al. 2025) found it competitive with SAE latents."""
    x, y = np.asarray(x, np.float64), np.asarray(y, bool)
    direction = x[y].mean(0) - x[~y].mean(0)
    proj = x @ direction
    return direction, float((proj[y].mean() + proj[~y].mean()) / 2)
