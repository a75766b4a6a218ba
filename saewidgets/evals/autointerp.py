"""Label-oracle autointerp: explain each latent from its examples, then score how well the explanation
predicts where the latent fires on text it has not seen (SAEBench's autointerp, Karvonen et al. 2025; after
Bills et al. 2023 and Paulo et al. 2024's detection scoring) -- with the planted labels in place of an LLM.

For one latent, on the training rows:

1. Its examples: the top 20 activations and 4 from each of 5 quantile bands of its other non-zero
   activations (SAEBench: top plus importance-sampled examples), beside as many random rows where it is off.
2. Its explanation, the best of three by F1 on those examples: the planted label that fits best; its top
   tokens (the tokens of at most 3 of its examples' most common ids); either of them.

Then detection on held-out rows: up to 50 firing rows sampled evenly across its activation quantiles and as
many random rows where it is off; the explanation predicts "fires" or not; the score is the accuracy (0.5 is
chance: the two sides are the same size, as in SAEBench).

Adapted: an LLM writes free text and judges sequences; the oracle chooses among planted labels and judges
tokens. It is the *ceiling* an LLM explainer could reach with this vocabulary: a latent that scores low here
is not a planted concept (or not one concept), whatever an LLM would write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..features import activation_rows
from .probes import scores, split_by_document
from .sparse_probing import latent_columns

N_TOP, N_BANDS, PER_BAND, N_DETECT = 20, 5, 4, 50
MAX_TOKENS = 3


def _examples(a: np.ndarray, rows: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """(firing examples, silent examples): row indices among ``rows`` for the explanation."""
    on = rows[a[rows] > 0]
    off = rows[a[rows] <= 0]
    if not len(on):
        return on, off[:0]
    on = on[np.argsort(-a[on], kind="stable")]
    picked = [on[:N_TOP]]
    for band in np.array_split(on[N_TOP:], N_BANDS):
        if len(band):
            picked.append(rng.choice(band, min(PER_BAND, len(band)), replace=False))
    firing = np.concatenate(picked)
    return firing, rng.choice(off, min(len(firing), len(off)), replace=False)


def _detection_set(a: np.ndarray, rows: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    on = rows[a[rows] > 0]
    off = rows[a[rows] <= 0]
    if not len(on) or not len(off):
        return on[:0], off[:0]
    on = on[np.argsort(a[on], kind="stable")]
    bands = np.array_split(on, N_BANDS)
    firing = np.concatenate(
        [rng.choice(b, min(len(b), N_DETECT // N_BANDS), replace=False) for b in bands if len(b)]
    )
    return firing, rng.choice(off, min(len(firing), len(off)), replace=False)


def explain(
    a: np.ndarray, labels: Mapping[str, np.ndarray], token_ids: np.ndarray, rows: np.ndarray, rng
) -> dict | None:
    """The explanation of one latent (activations ``a`` [n]) from its examples among ``rows``:
    {"label", "tokens", "uses": "label" | "tokens" | "either", "f1"}; None if it never fires there."""
    firing, silent = _examples(a, rows, rng)
    if not len(firing):
        return None
    sample = np.concatenate([firing, silent])
    truth = np.r_[np.ones(len(firing), bool), np.zeros(len(silent), bool)]
    label = max(labels, key=lambda name: scores(truth, labels[name][sample])["f1"])
    ids, counts = np.unique(token_ids[firing], return_counts=True)
    common = np.argsort(-counts, kind="stable")[:MAX_TOKENS]
    tokens = ids[common][counts[common] > 1]  # a token seen once is an example, not an explanation
    candidates = {
        "label": labels[label][sample],
        "tokens": np.isin(token_ids[sample], tokens),
        "either": labels[label][sample] | np.isin(token_ids[sample], tokens),
    }
    uses = max(candidates, key=lambda k: scores(truth, candidates[k])["f1"])
    return {
        "label": label,
        "tokens": tokens.tolist(),
        "uses": uses,
        "f1": scores(truth, candidates[uses])["f1"],
    }


def predict(explanation: dict, labels: Mapping[str, np.ndarray], token_ids: np.ndarray, rows) -> np.ndarray:
    """Where the explanation says the latent fires, on ``rows``."""
    by_label = labels[explanation["label"]][rows]
    by_token = np.isin(token_ids[rows], explanation["tokens"])
    return {"label": by_label, "tokens": by_token, "either": by_label | by_token}[explanation["uses"]]


def label_oracle_autointerp(
    sae,
    activations,
    labels: Mapping[str, np.ndarray],
    token_ids=None,
    latents: Sequence[int] | None = None,
    n_latents: int = 100,
    test_rows=None,
    seed: int = 0,
    batch_size: int = 4096,
) -> dict:
    """Explain and score latents. ``labels``: {name: [n] bool} planted labels of the rows (every concept a
    latent might be); ``token_ids`` [n] (default: an ActivationSet's); ``latents``: which to score (default:
    ``n_latents`` seeded picks among those that fire on the training rows). Returns ``{"score": mean
    detection accuracy, "latents": {id: {"label", "tokens", "uses", "detection"}}, "n_scored"}``."""
    x = activation_rows(activations)
    n = len(x)
    labels = {k: np.asarray(v, bool) for k, v in labels.items()}
    if not labels or any(v.shape != (n,) for v in labels.values()):
        raise ValueError(f"labels must be a non-empty {{name: bool [{n}]}} dict, one bool per activation row")
    if token_ids is None:
        if not hasattr(activations, "token_ids"):
            raise ValueError("pass token_ids (one token id per row) or an ActivationSet")
        token_ids = activations.token_ids.numpy()
    token_ids = np.asarray(token_ids).reshape(-1)
    if test_rows is None:
        if not hasattr(activations, "doc_ids"):
            raise ValueError("pass test_rows (held-out rows, bool [n]) or an ActivationSet with doc_ids")
        test_rows = split_by_document(activations.doc_ids.numpy(), seed=seed)
    test = np.asarray(test_rows, bool)
    train_rows, test_rows_idx = np.flatnonzero(~test), np.flatnonzero(test)
    rng = np.random.default_rng(seed)
    if latents is None:
        from ..features import encode_batches

        fires = np.zeros(int(sae.W_dec.shape[0]), bool)
        for start, a in encode_batches(sae, x, batch_size):
            fires |= (a[~test[start : start + len(a)]] > 0).any(0).cpu().numpy()
        alive = np.flatnonzero(fires)
        latents = np.sort(rng.choice(alive, min(n_latents, len(alive)), replace=False)).tolist()
    cols = latent_columns(sae, x, latents, batch_size)  # [n, L]
    out: dict = {"latents": {}}
    for j, latent in enumerate(latents):
        a = cols[:, j]
        explanation = explain(a, labels, token_ids, train_rows, rng)
        firing, silent = _detection_set(a, test_rows_idx, rng)
        if explanation is None or not len(firing):
            continue
        shown = np.concatenate([firing, silent])
        truth = np.r_[np.ones(len(firing), bool), np.zeros(len(silent), bool)]
        hit = predict(explanation, labels, token_ids, shown) == truth
        out["latents"][int(latent)] = {**explanation, "detection": float(hit.mean())}
    done = [v["detection"] for v in out["latents"].values()]
    out["n_scored"] = len(done)
    out["score"] = float(np.mean(done)) if done else float("nan")
    return out
