"""Checks for the interpretation exercises (notebook 07): a latent's logit effects, and a latent scored as a
classifier of a concept (precision and recall), and a concept's latent found in the FeatureActivations widget."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import torch

from ..features import logit_effects
from ._core import ExerciseError, passed

__all__ = [
    "check_concept_latent",
    "check_top_logit_effects",
    "check_precision_recall",
    "top_logit_effects_reference",
    "precision_recall_reference",
]


# ---- reference implementations ----


def top_logit_effects_reference(sae, W_U, latent: int, k: int = 10):
    """The k output tokens latent ``latent`` promotes most: (ids, values) of W_dec[latent] @ W_U, largest first."""
    effects = logit_effects(sae, W_U, latent, k)  # the library is the answer key
    return torch.as_tensor(effects["promoted_ids"]), torch.as_tensor(effects["promoted"])


def precision_recall_reference(fires, labels) -> tuple[float, float]:
    """One latent as a classifier of a label, both [n] bool (as ``concepts.latent_scores`` defines it):
    precision = P(label | fires), 0 if it never fires; recall = P(fires | label)."""
    fires, labels = np.asarray(fires, dtype=bool), np.asarray(labels, dtype=bool)
    hits = float((fires & labels).sum())
    return (hits / fires.sum() if fires.any() else 0.0), hits / labels.sum()


# ---- top logit effects ----


def _fake_sae(seed: int = 0, d_in: int = 8, d_sae: int = 12, vocab: int = 40):
    g = torch.Generator().manual_seed(seed)
    sae = SimpleNamespace(
        W_enc=torch.randn(d_in, d_sae, generator=g),
        W_dec=torch.randn(d_sae, d_in, generator=g),
        b_dec=torch.randn(d_in, generator=g),
    )
    return sae, torch.randn(d_in, vocab, generator=g)


def _numbers(x) -> np.ndarray | None:
    try:
        return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64).reshape(
            -1
        )
    except (TypeError, ValueError):
        return None


def _top(effect: torch.Tensor, k: int, descending: bool = True):
    vals, ids = torch.sort(effect, descending=descending, stable=True)
    return ids[:k], vals[:k]


def check_top_logit_effects(fn: Callable) -> None:
    """``fn(sae, W_U, latent, k)`` -> (token ids, values) of the k largest entries of W_dec[latent] @ W_U."""
    sae, W_U = _fake_sae()
    latent, k = 3, 5
    want_ids, want_vals = top_logit_effects_reference(sae, W_U, latent, k)
    got = fn(sae, W_U, latent, k)
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        raise ExerciseError(
            "Return a pair (ids, values): the token ids and their logit effects, largest first."
        )
    ids, vals = _numbers(got[0]), _numbers(got[1])
    if ids is None or vals is None or ids.shape != (k,) or vals.shape != (k,):
        raise ExerciseError(
            f"Expected {k} ids and {k} values (one per promoted token), got shapes "
            f"{getattr(ids, 'shape', None)} and {getattr(vals, 'shape', None)}."
        )
    if np.array_equal(ids, want_ids.numpy()) and np.allclose(vals, want_vals.numpy(), atol=1e-5, rtol=1e-5):
        return passed("top_logit_effects")
    if np.allclose(ids, want_vals.numpy(), atol=1e-5) and np.array_equal(vals, want_ids.numpy()):
        raise ExerciseError(
            "The pair is the wrong way round: torch.topk returns (values, indices); return "
            "(ids, values), e.g. top.indices, top.values."
        )
    if np.array_equal(ids, want_ids.numpy()):
        raise ExerciseError(
            "The right tokens with the wrong values: return the effects themselves, "
            "(W_dec[latent] @ W_U)[ids]."
        )
    if np.allclose(vals, want_vals.numpy(), atol=1e-5) and not np.array_equal(ids, want_ids.numpy()):
        raise ExerciseError(
            "The right values with the wrong ids: return the positions in the vocabulary "
            "(the indices torch.topk gives you), not something else."
        )
    effect = sae.W_dec[latent] @ W_U  # [vocab]
    hints = [
        (
            _top(effect, k, descending=False),
            "Those are the most *suppressed* tokens: promoted means the largest "
            "(most positive) effects, in descending order.",
        ),
        (
            _top(sae.W_enc[:, latent] @ W_U, k),
            "Use the decoder row W_dec[latent] (what the latent writes into the "
            "residual stream), not the encoder column W_enc[:, latent] (what "
            "it reads).",
        ),
        (
            _top(effect.abs(), k),
            "Rank by the signed effect, not its absolute value: a large negative effect suppresses a token.",
        ),
        (
            _top((sae.W_dec[latent] + sae.b_dec) @ W_U, k),
            "Leave out b_dec: it is added whatever the latent does, so it is no part of the latent's effect.",
        ),
    ]
    for (wrong_ids, _), hint in hints:
        if np.array_equal(ids, wrong_ids.numpy()):
            raise ExerciseError(hint)
    raise ExerciseError(
        f"Expected ids {want_ids.tolist()}; got {ids.astype(int).tolist()}. Compute "
        "W_dec[latent] @ W_U (one number per vocabulary token) and take its top k."
    )


# ---- precision and recall ----


def _classifier_cases(seed: int = 0):
    """(fires, labels) pairs: a realistic one (a rare label, the latent on part of it and a little noise)
    and one where the latent never fires."""
    rng = np.random.default_rng(seed)
    labels = rng.random(400) < 0.15
    fires = (labels & (rng.random(400) < 0.4)) | (rng.random(400) < 0.05)
    return [(fires, labels), (np.zeros(50, bool), rng.random(50) < 0.3)]


def check_precision_recall(fn: Callable) -> None:
    """``fn(fires, labels)`` -> (precision, recall) for bool arrays of one value per token."""
    cases = _classifier_cases()
    for n_case, (fires, labels) in enumerate(cases):
        want = precision_recall_reference(fires, labels)
        try:
            got = fn(fires.copy(), labels.copy())
        except ZeroDivisionError:
            got = (float("nan"), 0.0)
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            raise ExerciseError("Return a pair (precision, recall) of two numbers.")
        try:
            p, r = float(got[0]), float(got[1])
        except (TypeError, ValueError):
            raise ExerciseError(
                f"Return two numbers, got {type(got[0]).__name__} and {type(got[1]).__name__}: "
                "sum the bool arrays (or take their mean) to get counts."
            ) from None
        if np.allclose([p, r], want, atol=1e-9):
            continue
        if n_case == 1:
            raise ExerciseError(
                "When the latent never fires, precision is 0/0: return 0.0 there (the convention "
                "of concepts.latent_scores: a latent that says nothing is not precise), "
                f"got {p!r}."
            )
        hits = (fires & labels).sum()
        typical = [
            (
                (want[1], want[0]),
                "Precision and recall are swapped: precision = hits / (tokens where the latent "
                "fires), recall = hits / (tokens that carry the label).",
            ),
            (
                (hits / len(fires), want[1]),
                "Precision divides the hits by the number of tokens where the latent "
                "fires, not by all tokens.",
            ),
            (
                (want[0], hits / len(fires)),
                "Recall divides the hits by the number of tokens that carry the label, not by all tokens.",
            ),
            (
                (fires.mean(), want[1]),
                "Precision is P(label | fires): count the tokens where the latent fires AND "
                "the label holds, then divide by the tokens where it fires.",
            ),
            (
                (labels[fires].sum() / labels.sum(), want[1]),
                "Precision divides the hits by the tokens where the "
                "latent fires (fires.sum()), not by the labelled ones.",
            ),
        ]
        for (wp, wr), hint in typical:
            if np.allclose([p, r], [wp, wr], atol=1e-9):
                raise ExerciseError(hint)
        raise ExerciseError(
            f"Expected precision {want[0]:.4f} and recall {want[1]:.4f}, got {p:.4f} and {r:.4f}."
        )
    passed("precision_recall")


# ---- finding a concept's latent in the widget (the learner reads it off FeatureActivations; checked here) ----

#: An answer passes when it is a real detector of the concept: at least this share of the best latent's F1 ...
GOOD_F1_SHARE = 0.5
#: ... and, when it fires, right this many times more often than a latent firing at random (the base rate).
GOOD_LIFT = 2.0


def check_concept_latent(latent, sae, activations, labels, concept: str = "the concept") -> None:
    """``latent`` (an index typed from the widget, or ``widget.latent``) detects ``concept``: scored against the
    planted ``labels`` ([n_rows] bool, from ``concepts.token_labels``) it is at least ``GOOD_LIFT`` times more
    precise than chance and reaches ``GOOD_F1_SHARE`` of the best latent's F1. Several latents can pass: a concept
    is often split over a few (feature splitting, Bricken et al. 2023)."""
    from ..concepts import latent_scores

    labels = np.asarray(labels, dtype=bool)
    d_sae = int(sae.W_dec.shape[0])
    if isinstance(latent, (bool, np.bool_)) or not isinstance(latent, (int, np.integer)):
        raise ExerciseError(
            f"Type the latent's index, a whole number (the one in the widget's latent box, or widget.latent); "
            f"got {latent!r}."
        )
    latent = int(latent)
    if not 0 <= latent < d_sae:
        raise ExerciseError(f"The SAE has latents 0..{d_sae - 1}; {latent} is not one of them.")
    s = latent_scores(sae, activations, labels)
    base = float(s["base_rate"])
    precision, recall, f1, density = (float(s[k][latent]) for k in ("precision", "recall", "f1", "density"))
    best = int(np.argmax(s["f1"]))
    rank = int((s["f1"] > f1).sum()) + 1
    if density == 0:
        raise ExerciseError(
            f"Latent {latent} never fires on these stories: pick one from the widget's latent box (those fire "
            f"on the text shown), or hover a {concept} token to see the latents active on it."
        )
    if precision < GOOD_LIFT * base:
        raise ExerciseError(
            f"Latent {latent} fires on {density:.1%} of tokens, and when it fires the {concept} sentence is there "
            f"only {precision:.0%} of the time — about the base rate {base:.0%}, what a latent firing at random "
            f"would score. Look for one whose top examples are all {concept} sentences, and scroll the stories "
            "without the concept: it should stay dark there."
        )
    if f1 < GOOD_F1_SHARE * float(s["f1"][best]):
        raise ExerciseError(
            f"Latent {latent} is precise (right {precision:.0%} of the time when it fires, base rate {base:.0%}) "
            f"but fires on only {recall:.1%} of the {concept} tokens: it is narrower than the concept (one word?). "
            "Another latent covers much more of those sentences: compare densities, and hover other tokens of "
            f"a {concept} sentence."
        )
    print(
        f"✓ latent {latent} detects {concept}: precision {precision:.2f} (base rate {base:.2f}), recall "
        f"{recall:.2f}, F1 {f1:.2f} — rank {rank} of {d_sae} latents by F1."
    )
