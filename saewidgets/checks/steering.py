"""Checks for the steering exercise (notebook 08): add a direction to the residual stream."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import torch

from ._core import ExerciseError, close, first_match, passed

__all__ = ["check_steer", "steer_reference"]


def steer_reference(resid, direction, strength):
    """resid + strength * direction / ||direction|| at every position but BOS: [batch, pos, d] -> same.

    It *is* the library's "add" mode (saewidgets.steering.steering_hook) with one latent whose decoder row
    is the unit direction and a unit of 1. A one-position input is a generation step with a KV cache (the
    hook sees only the newest token), so that position is steered too.
    """
    from ..steering import steering_hook

    unit = direction / direction.norm()  # [d]
    one_latent = SimpleNamespace(W_dec=unit[None, :])  # [1, d]: all that "add" mode reads from an SAE
    return steering_hook(one_latent, {0: float(strength)}, mode="add")(resid)


def _inputs(seed: int = 0, batch: int = 2, pos: int = 5, d: int = 8):
    g = torch.Generator().manual_seed(seed)
    resid = torch.randn(batch, pos, d, generator=g)  # [batch, pos, d]
    direction = 2.5 * torch.randn(d, generator=g)  # [d], deliberately not unit norm
    return resid, direction


def _call(fn: Callable, resid, direction, strength):
    """The learner's answer on copies (an in-place edit is fine in a hook, but must not spoil the inputs)."""
    return fn(resid.clone(), direction.clone(), strength)


def check_steer(fn: Callable) -> None:
    """``fn(resid, direction, strength)`` -> resid + strength * direction / ||direction||, BOS left alone."""
    resid, direction = _inputs()
    strength = 3.0
    want = steer_reference(resid, direction, strength)
    got = _call(fn, resid, direction, strength)
    if got is None:
        raise ExerciseError(
            "Return the steered residual stream: a TransformerLens hook's return value replaces "
            "the activation (edit in place if you like, but `return resid` at the end)."
        )
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise ExerciseError(
            f"Expected a tensor of the input's shape {tuple(want.shape)} [batch, pos, d_model]; got "
            f"{getattr(got, 'shape', type(got).__name__)}. `direction` is [d_model]: it broadcasts "
            "over batch and positions as it is, no reshaping needed."
        )
    if not close(got, want):
        unit = direction / direction.norm()
        body = torch.zeros_like(resid)
        body[:, 1:] = 1.0  # 1 where the reference steers
        last = torch.zeros_like(resid)
        last[:, -1] = 1.0
        hints = [
            (
                resid + strength * direction * body,
                "Normalise the direction first (direction / direction.norm()): then `strength` is the length of what "
                "you add, whatever the scale of the vector you were handed.",
            ),
            (
                resid + strength * unit,
                "Leave position 0 alone: it is BOS, which carries no story and has a huge norm "
                "(the library steers positions 1 onwards).",
            ),
            (
                resid + strength * unit * last,
                "Add the direction at every position after BOS, not only the last one: the model reads the "
                "steered earlier positions through attention.",
            ),
            (
                resid * strength * unit,
                "Add the scaled direction to the residual stream; don't multiply by it.",
            ),
            (
                resid * (1 + strength * unit * body),
                "Add the scaled direction to the residual stream; don't multiply.",
            ),
            (resid * strength, "Add strength * unit direction; don't scale the residual stream."),
            (
                resid - strength * unit * body,
                "Wrong sign: a positive strength pushes *towards* the direction.",
            ),
            (
                resid + strength * direction / direction.norm() ** 2 * body,
                "Divide the direction by its norm, not by its squared norm.",
            ),
            (resid + unit * body, "Multiply the unit direction by `strength`."),
        ]
        raise ExerciseError(
            first_match(got, hints)
            or "The values differ from resid + strength * direction / "
            "||direction|| at positions 1 onwards (position 0 unchanged)."
        )
    # Generation with a KV cache: the hook sees one new position at a time.
    step = resid[:, -1:].clone()  # [batch, 1, d]
    got = _call(fn, step, direction, strength)
    want = steer_reference(step, direction, strength)
    if not close(got, want):
        raise ExerciseError(
            "With one position ([batch, 1, d_model]) steer it too: when generating with a KV cache "
            "the hook sees only the newest token, which is a real token, not BOS. Skip position 0 "
            "only when resid.shape[1] > 1 — otherwise the generated text is never steered."
        )
    return passed("steer")
