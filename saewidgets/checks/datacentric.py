"""Checks for the data-centric exercises (notebook 09): NPMI from counts, and Jaccard similarity."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ._core import ExerciseError, first_match, passed

__all__ = ["check_npmi", "check_jaccard", "npmi_reference", "jaccard_reference"]


def npmi_reference(co, count_x, count_y, n):
    """NPMI from document counts (tensors of one shape): log(P(x,y) / (P(x) P(y))) / -log P(x,y)."""
    p_xy, p_x, p_y = co / n, count_x / n, count_y / n
    value = torch.log(p_xy / (p_x * p_y)) / -torch.log(p_xy)
    # Never together (co = 0): the formula is -inf / inf = NaN, and NPMI defines it as -1 (Bouma 2009),
    # as saewidgets.datacentric.npmi does.
    return torch.where(co == 0, torch.full_like(value, -1.0), value)


def jaccard_reference(a, b):
    """``|A ∩ B| / |A ∪ B|`` of two binary vectors [d] (0 when both are empty)."""
    inter = (a * b).sum()
    union = a.sum() + b.sum() - inter
    return inter / union if union > 0 else torch.zeros(())


def check_npmi(fn: Callable) -> None:
    """``fn(co, count_x, count_y, n)`` -> NPMI, elementwise over tensors of counts; -1 where co = 0."""
    n = 1000.0
    co = torch.tensor([20.0, 5.0, 1.0, 50.0])
    cx = torch.tensor([20.0, 40.0, 30.0, 500.0])
    cy = torch.tensor([22.0, 60.0, 30.0, 400.0])
    want = npmi_reference(co, cx, cy, n)
    got = _as_tensor(_call(fn, co, cx, cy, n))
    if got.shape != want.shape:
        raise ExerciseError(f"Return one NPMI per pair, shape {tuple(want.shape)}; got {tuple(got.shape)}.")
    if torch.allclose(got.float(), want, atol=1e-5):
        _check_never_together(fn, n)
        return passed("npmi")
    p_xy, p_x, p_y = co / n, cx / n, cy / n
    hint = first_match(
        got.float(),
        [
            (
                torch.log(p_xy / (p_x * p_y)),
                "That is PMI; divide it by -log P(x, y) to normalise it into [-1, 1].",
            ),
            (
                torch.log(p_xy / (p_x * p_y)) / torch.log(p_xy),
                "Divide by -log P(x, y), not log P(x, y): the sign flips.",
            ),
            (
                torch.log(co / (cx * cy)) / -torch.log(co),
                "Turn counts into probabilities first: divide each count by n.",
            ),
            (
                torch.log(p_xy / (p_x * p_y)) / -torch.log(p_x * p_y),
                "Normalise by -log P(x, y), the joint probability, not by -log P(x)P(y).",
            ),
        ],
        tol=1e-4,
    )
    raise ExerciseError(hint or f"Expected {want.tolist()}, got {got.tolist()}.")


def _call(fn: Callable, co, cx, cy, n):
    try:
        return fn(co, cx, cy, n)
    except RuntimeError as e:
        if "ambiguous" in str(e):  # `if co == 0:` on a tensor of many pairs
            raise ExerciseError(
                "Work elementwise (the inputs are tensors of many pairs), not with an if: "
                "for co = 0 use torch.where(co == 0, -1.0, npmi)."
            ) from e
        raise


def _as_tensor(got) -> torch.Tensor:
    if not isinstance(got, torch.Tensor):
        got = torch.as_tensor(np.asarray(got, dtype=np.float64))
    return got.float()


def _check_never_together(fn: Callable, n: float) -> None:
    """A pair that never co-occurs (co = 0, beside one that does) must give exactly -1, not NaN or 0."""
    co, cx, cy = torch.tensor([0.0, 20.0]), torch.tensor([30.0, 20.0]), torch.tensor([50.0, 22.0])
    want = npmi_reference(co, cx, cy, n)  # [-1, ...]
    got = _as_tensor(_call(fn, co, cx, cy, n))
    if got.shape == want.shape and torch.allclose(got, want, atol=1e-5):
        return
    never = got.reshape(-1)[0] if got.numel() else torch.tensor(float("nan"))
    if torch.isnan(never):
        raise ExerciseError(
            "Two features that never co-occur (co = 0) give log 0 / -log 0 = -inf / inf = NaN; NPMI "
            "defines that pair as -1 (never together): return torch.where(co == 0, -1.0, npmi)."
        )
    if float(never) == 0.0:
        raise ExerciseError(
            "A pair that never co-occurs (co = 0) has NPMI -1, not 0: 0 means independent "
            "(the paper's released code sets 0 and hides the strongly negative pairs)."
        )
    raise ExerciseError(
        f"For a pair that never co-occurs (co = 0) expected NPMI -1 (and {float(want[1]):.4f} for the "
        f"pair beside it); got {got.tolist()}."
    )


def check_jaccard(fn: Callable) -> None:
    """``fn(a, b)`` -> ``|A ∩ B| / |A ∪ B|`` for two 0/1 float vectors."""
    a = torch.tensor([1.0, 1, 0, 1, 0, 0])
    b = torch.tensor([1.0, 0, 0, 1, 1, 1])
    want = jaccard_reference(a, b)  # 2 / 5
    got = torch.as_tensor(fn(a, b)).float()
    if got.ndim != 0:
        raise ExerciseError(f"Return one number for the pair, not shape {tuple(got.shape)}.")
    if torch.allclose(got, want, atol=1e-6):
        empty = torch.as_tensor(fn(torch.zeros(4), torch.zeros(4))).float()
        if not torch.isfinite(empty) or float(empty) != 0.0:
            raise ExerciseError(
                "Two documents with no active latent share nothing: return 0 when the union is "
                "empty (don't divide by zero)."
            )
        return passed("jaccard")
    hint = first_match(
        got,
        [
            (
                (a * b).sum() / (a.sum() + b.sum()),
                "The union counts shared latents once: |A| + |B| - |A ∩ B|.",
            ),
            ((a * b).sum() / len(a), "Divide by the size of the union of active latents, not by d_sae."),
            ((a * b).sum(), "Normalise: divide the intersection by the union."),
            (
                2 * (a * b).sum() / (a.sum() + b.sum()),
                "That is the Dice coefficient; Jaccard is |A ∩ B| / |A ∪ B|.",
            ),
        ],
    )
    raise ExerciseError(hint or f"Expected {float(want):.3f}, got {float(got):.3f}.")
