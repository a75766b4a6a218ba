"""Checks for the steering exercises (notebook 08): add a direction to the residual stream, and read off the
SteeringPanel the strength at which steered text first shows a concept."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from types import SimpleNamespace

import torch

from ._core import ExerciseError, close, first_match, passed

__all__ = ["check_steer", "check_steering_onset", "steer_reference", "steering_onset_reference"]


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


# ---- the slider task: the strength at which the steered text first shows the concept ----

SLIDER_STEP = 0.1  #: the SteeringPanel slider's step (steering_panel.js)
SLIDER_MAX = 5.0  #: and its range, -5..5 (units of the latent's typical max)
ONSET_TOLERANCE = 0.3  #: three slider steps: a drag can jump a step or two


def _concept_words(text: str, words) -> list[str]:
    return [w for w in re.findall(r"[a-z']+", text.lower()) if w in words]


def _steered_text(alpha: float, model, sae, hook, latent, units, prompt, **sampling) -> str:
    """The SteeringPanel's steered text at ``alpha`` for ``latent`` alone (same seed and settings): the
    continuation only, so that the prompt's own words never count."""
    from ..steering import compare

    text = compare(
        model, prompt, sae=sae, hook=hook, strengths={latent: alpha}, units=units, unsteered=False, **sampling
    ).steered
    return text[len(prompt) :] if text.startswith(prompt) else text


def steering_onset_reference(
    model, sae, hook, latent, units, words, prompt, upto=SLIDER_MAX, step=SLIDER_STEP, **sampling
) -> float | None:
    """The smallest slider strength (0, step, 2 step, ... <= ``upto``) at which the steered continuation of
    ``prompt`` holds one of ``words``; None if none does. ``sampling``: seed, temperature, max_new_tokens, mode."""
    for n in range(int(round(upto / step)) + 1):
        alpha = round(n * step, 6)
        if _concept_words(_steered_text(alpha, model, sae, hook, latent, units, prompt, **sampling), words):
            return alpha
    return None


def check_steering_onset(
    alpha,
    model,
    sae,
    hook: str,
    latent: int,
    units,
    words,
    prompt: str,
    seed: int = 0,
    temperature: float = 0.8,
    max_new_tokens: int = 40,
    mode: str = "add",
    concept: str = "the concept",
) -> None:
    """``alpha`` (read off the SteeringPanel's slider) is the first strength, to a slider step or three, at which
    the steered text shows ``concept`` (one of ``words``): checked by generating with the panel's settings."""
    sampling = dict(seed=seed, temperature=temperature, max_new_tokens=max_new_tokens, mode=mode)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) and not hasattr(alpha, "__float__"):
        raise ExerciseError(f"Type the slider's strength as a number, e.g. 1.3; got {alpha!r}.")
    alpha = float(alpha)
    if not math.isfinite(alpha) or alpha < 0:
        raise ExerciseError(
            f"α = {alpha} pushes away from the concept (or is not a number): drag the slider to the right of 0."
        )
    if alpha > SLIDER_MAX:
        raise ExerciseError(f"The slider stops at {SLIDER_MAX:g}; α = {alpha:g} is off its scale.")
    words = {w.lower() for w in words}
    text = _steered_text(alpha, model, sae, hook, latent, units, prompt, **sampling)
    if not _concept_words(text, words):
        raise ExerciseError(
            f"At α = {alpha:g} the steered text has no {concept} word yet: {text.strip()!r}. Drag the slider "
            "further right, and check the prompt and seed are the panel's."
        )
    onset = steering_onset_reference(model, sae, hook, latent, units, words, prompt, upto=alpha, **sampling)
    if onset == 0:
        raise ValueError(
            f"the unsteered continuation of {prompt!r} (seed {seed}) already holds a {concept} word: pick "
            "another prompt or seed for this task"
        )
    if alpha > onset + ONSET_TOLERANCE + 1e-9:
        first = _steered_text(onset, model, sae, hook, latent, units, prompt, **sampling)
        raise ExerciseError(
            f"Right direction, but past the first strength: the {concept} already shows at α = {onset:g} "
            f"({first.strip()!r}). Go back down the slider in steps of {SLIDER_STEP:g} and stop at the first "
            f"strength whose steered text has a {concept} word."
        )
    found = ", ".join(sorted(set(_concept_words(text, words))))
    print(
        f"✓ at α = {alpha:g} the steered text first shows {concept} ({found}); the first slider step is {onset:g}."
    )
