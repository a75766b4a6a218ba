"""Feature absorption: the parent concept's latent goes silent where a child latent carries it instead
(Chanin et al. 2024, "A is for Absorption"; the score as SAEBench computes it, Karvonen et al. 2025).

A hierarchy makes it likely: every "cat" token is also an "animal" token, so an SAE can save one latent per
token by folding the animal direction into the cat latent and leaving the animal latent off on cats. The
animal latent then looks like a clean but leaky detector; downstream users lose every cat.

The measurement, for a parent concept with labelled child concepts:

1. A logistic probe for the parent on the raw activations (training documents) gives the parent's true
   direction ``p`` (unit norm).
2. The parent's *main latents*: the top latents by mean difference, added one at a time while the training
   F1 of a k-sparse probe on them rises by more than 0.03 (SAEBench's feature-splitting rule; it ranks by an
   L1 probe's weights).
3. On every held-out parent token the probe detects: the projection of the activation on ``p``; what the
   main latents contribute to it; what the other latents aligned with ``p`` (cosine >= 0.1, at most 3)
   contribute. The *absorption fraction* is the share of the projection carried by those others instead of
   the main latents (0 when the main latents carry it all, or the others carry < 40 %). *Full absorption*:
   every main latent is silent and one latent with cosine >= 0.025 carries >= 40 % of the projection.

Adapted: a latent's contribution is ``a_i * (W_dec[i] . p)`` on the activation minus ``b_dec``, not
``a_i * cos(W_dec[i], p)`` on the raw activation (SAEBench assumes unit decoder rows; ours need not be, and
the raw activation's mean along ``p`` is not the latents' to explain). SAEBench's parent is a first letter and
its children are the words spelled with it; here they are planted concepts (``zoo.word_concepts``).

The planted truth adds what no model-only benchmark has: ``planted`` counts a child token as absorbed when
the main latents are silent and a latent that fires almost only on that child (precision >= 0.9 on the
training rows) fires instead, with no probe involved. Where the probe-based fraction and the planted count
disagree, the probe-based metric is the one to doubt.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..features import activation_rows, encode_batches
from .probes import check_labels, fit_logistic, scores, split_by_document
from .sparse_probing import latent_columns, mean_differences

SPLIT_F1_JUMP = 0.03  # SAEBench: a k-sparse probe whose F1 rises this much over k-1 is a feature split
FRACTION_COS = 0.1  # cosine with p for a latent to count towards the absorption fraction
FULL_COS = 0.025  # cosine with p for the single absorbing latent of full absorption
PROJECTION_SHARE = 0.4  # the absorbing latents must carry this share of the projection
MAX_ABSORBERS = 3
SILENT = 1e-8  # a latent at or below this activation does not fire
CHILD_PRECISION = 0.9  # planted truth: a latent this specific to one child is that child's latent


def main_latents(sae, x, y, train, max_k: int = 10, batch_size: int = 4096, seed: int = 0) -> list[int]:
    """The parent's main latents: top latents by mean difference, grown while the k-sparse probe's training
    F1 rises by more than ``SPLIT_F1_JUMP`` (at least one, at most ``max_k``)."""
    order = np.argsort(-mean_differences(sae, x, y, train, batch_size)[0], kind="stable")[:max_k]
    cols = latent_columns(sae, x, order, batch_size)[train]
    best, chosen = -1.0, order[:1].tolist()
    for k in range(1, len(order) + 1):
        w, b = fit_logistic(cols[:, :k], y[train], seed)
        f1 = scores(y[train], cols[:, :k] @ w + b > 0)["f1"]
        if f1 <= best + SPLIT_F1_JUMP:
            break
        best, chosen = f1, order[:k].tolist()
    return chosen


def absorption_fractions(contrib, total, main, cos) -> tuple[np.ndarray, np.ndarray]:
    """Per row: (absorption fraction, full absorption), SAEBench's rules on each latent's contribution
    ``contrib`` [r, d_sae] to the probe projections ``total`` [r]; ``main`` the main latents' indices, ``cos``
    [d_sae] each decoder row's cosine with the probe direction."""
    main_mask = np.zeros(contrib.shape[1], bool)
    main_mask[main] = True
    main_proj = contrib[:, main_mask].sum(1)
    others = np.where((~main_mask & (cos >= FRACTION_COS))[None, :] & (contrib > 0), contrib, 0.0)
    top = -np.sort(-others, axis=1)[:, :MAX_ABSORBERS].sum(1)
    safe = np.where(total > 0, total, 1.0)
    frac = np.where(main_proj <= 0, 1.0, 0.0)
    partial = (main_proj > 0) & (main_proj < total)
    absorbed = np.minimum(top, total - main_proj)
    frac = np.where(partial, absorbed / np.maximum(absorbed + main_proj, 1e-12), frac)
    frac = np.where((main_proj >= total) | (total <= 0) | (top / safe < PROJECTION_SHARE), 0.0, frac)
    best = contrib.argmax(1)
    rows = np.arange(len(contrib))
    full = (
        (np.abs(contrib[:, main_mask]).max(1, initial=0) <= SILENT)
        & (cos[best] >= FULL_COS)
        & (total > 0)
        & (contrib[rows, best] / safe >= PROJECTION_SHARE)
    )
    return np.clip(frac, 0.0, 1.0), full


def absorption(
    sae,
    activations,
    parent,
    children: Mapping[str, np.ndarray],
    test_rows=None,
    seed: int = 0,
    batch_size: int = 4096,
) -> dict:
    """Absorption of one parent concept into its children.

    ``parent`` [n] bool: rows realising the parent (e.g. ``word_labels(..., "animal")``); ``children``:
    {name: [n] bool}, each inside ``parent``; ``test_rows`` [n] bool, held-out rows (default: 30 % of an
    ActivationSet's documents). Returns ``{"absorption_fraction", "full_absorption", "planted", "children":
    {name: {"n", "absorption_fraction", "full_absorption", "planted", "child_latents"}}, "main_latents",
    "probe": {"balanced_accuracy", "f1"}, "n_evaluated"}``; the headline numbers average over the evaluated
    parent tokens (held out, detected by the probe)."""
    x = activation_rows(activations)
    y = check_labels(parent, len(x), "parent")
    kids = {name: np.asarray(c, bool) for name, c in children.items()}
    for name, c in kids.items():
        check_labels(c, len(x), f"child {name!r}")
        if (c & ~y).any():
            raise ValueError(f"child {name!r} has {int((c & ~y).sum())} rows outside the parent: not a child")
    if test_rows is None:
        if not hasattr(activations, "doc_ids"):
            raise ValueError("pass test_rows (held-out rows, bool [n]) or an ActivationSet with doc_ids")
        test_rows = split_by_document(activations.doc_ids.numpy(), seed=seed)
    test = np.asarray(test_rows, bool)
    train = ~test
    raw = np.asarray(x.detach().cpu().float().numpy() if hasattr(x, "detach") else x, np.float64)
    w, b = fit_logistic(raw[train], y[train], seed)
    probe = scores(y[test], raw[test] @ w + b > 0)
    p = w / np.linalg.norm(w)
    main = main_latents(sae, x, y, train, batch_size=batch_size, seed=seed)
    W_dec = sae.W_dec.detach().double().cpu().numpy()  # [d_sae, d_in]
    b_dec = sae.b_dec.detach().double().cpu().numpy()  # [d_in]
    along = W_dec @ p  # [d_sae]: each latent's unit-activation contribution to the projection
    cos = along / np.maximum(np.linalg.norm(W_dec, axis=1), 1e-12)
    evaluated = test & y & (raw @ w + b > 0)
    kid_latents = _child_latents(sae, x, kids, train, batch_size)
    frac = np.zeros(len(x))
    full = np.zeros(len(x), bool)
    planted = np.zeros(len(x), bool)
    fires_main = np.zeros(len(x), bool)
    for start, a in encode_batches(sae, x, batch_size):
        rows = np.arange(start, start + len(a))
        pick = evaluated[rows]
        if not pick.any():
            continue
        a = a.double().cpu().numpy()[pick]  # [r, d_sae]
        r = rows[pick]
        frac[r], full[r] = absorption_fractions(a * along, (raw[r] - b_dec) @ p, main, cos)
        fires_main[r] = (a[:, main] > SILENT).any(1)
        for name, latents in kid_latents.items():
            on_child = kids[name][r]
            if latents and on_child.any():
                planted[r[on_child]] = ~fires_main[r[on_child]] & (a[on_child][:, latents] > SILENT).any(1)
    out = {
        "main_latents": main,
        "probe": probe,
        "n_evaluated": int(evaluated.sum()),
        "absorption_fraction": float(frac[evaluated].mean()) if evaluated.any() else float("nan"),
        "full_absorption": float(full[evaluated].mean()) if evaluated.any() else float("nan"),
        "planted": float(planted[evaluated].mean()) if evaluated.any() else float("nan"),
        "children": {},
    }
    for name, c in kids.items():
        on = evaluated & c
        out["children"][name] = {
            "n": int(on.sum()),
            "absorption_fraction": float(frac[on].mean()) if on.any() else float("nan"),
            "full_absorption": float(full[on].mean()) if on.any() else float("nan"),
            "planted": float(planted[on].mean()) if on.any() else float("nan"),
            "child_latents": kid_latents[name],
        }
    return out


def _child_latents(sae, x, kids: Mapping[str, np.ndarray], train, batch_size: int) -> dict[str, list[int]]:
    """Each child's own latents by the planted labels: precision >= CHILD_PRECISION for that child on the
    training rows (and firing on at least one of its tokens)."""
    fires = hits = None
    names = list(kids)
    y = np.stack([kids[n] & train for n in names], 1).astype(np.float64)  # [n, C]
    for start, a in encode_batches(sae, x, batch_size):
        on = (a.double().cpu().numpy() > SILENT) & train[start : start + len(a), None]
        f, h = on.sum(0), y[start : start + len(a)].T @ on
        fires, hits = (f, h) if fires is None else (fires + f, hits + h)
    precision = np.divide(hits, fires, out=np.zeros_like(hits), where=fires > 0)  # [C, d_sae]
    return {
        name: np.flatnonzero((precision[c] >= CHILD_PRECISION) & (hits[c] > 0)).tolist()
        for c, name in enumerate(names)
    }
