"""Checks for the ReLU SAE exercises (notebooks 01 and 02): the encoder and the L1 penalty."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import ExerciseError, close, first_match, passed, scalar

__all__ = ["check_relu_encode", "check_l1_penalty", "relu_encode_reference", "l1_penalty_reference"]


# ---- reference implementations (the same maths as sae.py, written out for teaching) ----


def relu_encode_reference(x, W_enc, b_enc, b_dec):
    """acts = ReLU((x - b_dec) @ W_enc + b_enc): [batch, d_in] -> [batch, d_sae]."""
    return torch.relu((x - b_dec) @ W_enc + b_enc)


def l1_penalty_reference(acts, W_dec, coefficient):
    """coefficient * mean over the batch of sum_i acts_i * ||W_dec_i|| (Anthropic, April 2024 update)."""
    return coefficient * (acts * W_dec.norm(dim=1)).sum(-1).mean()


def _inputs(seed: int = 0, batch: int = 16, d_in: int = 6, d_sae: int = 12):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, d_in, generator=g),
        torch.randn(d_in, d_sae, generator=g),
        torch.randn(d_sae, generator=g),
        torch.randn(d_in, generator=g),
        torch.randn(d_sae, d_in, generator=g),
    )


def check_relu_encode(fn: Callable) -> None:
    """``fn(x, W_enc, b_enc, b_dec)`` -> ReLU((x - b_dec) @ W_enc + b_enc)."""
    x, W_enc, b_enc, b_dec, _ = _inputs()
    want = relu_encode_reference(x, W_enc, b_enc, b_dec)
    got = fn(x, W_enc, b_enc, b_dec)
    if close(got, want):
        return passed("relu_encode")
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise ExerciseError(
            f"Expected a tensor of shape {tuple(want.shape)} [batch, d_sae]; got "
            f"{getattr(got, 'shape', type(got).__name__)}. Multiply x [batch, d_in] by W_enc [d_in, d_sae]."
        )
    hints = [
        (
            x @ W_enc + b_enc,
            "Subtract b_dec from x before encoding: the SAE centres inputs on its decoder bias.",
        ),
        ((x - b_dec) @ W_enc + b_enc, "Apply the ReLU: latent activations are never negative."),
        (torch.relu((x - b_dec) @ W_enc), "Add the encoder bias b_enc before the ReLU."),
        (
            torch.relu(x @ W_enc + b_enc),
            "Subtract b_dec from x before encoding: the SAE centres inputs on its decoder bias.",
        ),
    ]
    for wrong, hint in hints:
        if close(got, wrong):
            raise ExerciseError(hint)
    raise ExerciseError(
        "The values differ from ReLU((x - b_dec) @ W_enc + b_enc); check the order of operations."
    )


def check_l1_penalty(fn: Callable) -> None:
    """``fn(acts, W_dec, coefficient)`` -> coefficient * mean_batch sum_i acts_i ||W_dec_i||."""
    _, _, _, _, W_dec = _inputs()
    acts = torch.relu(torch.randn(16, 12, generator=torch.Generator().manual_seed(1)))
    want = l1_penalty_reference(acts, W_dec, 0.5)
    got = fn(acts, W_dec, 0.5)
    if isinstance(got, torch.Tensor) and got.numel() > 1:
        raise ExerciseError(
            f"Return one number (a 0-d tensor), not shape {tuple(got.shape)}: sum over latents, "
            "then average over the batch."
        )
    # One number, compared by value: a 0-d tensor, a Python float (.item()) or a numpy scalar are all right.
    value = scalar(got, "l1_penalty", "Sum over latents, then average over the batch.")
    if close(value, want):
        passed("l1_penalty")
        if not isinstance(got, torch.Tensor):
            print(
                "  Note: you returned a plain number. The training loop adds this penalty to the loss and "
                "backpropagates through it, so return the tensor there (drop .item()): a float has no gradient."
            )
        return
    got = value
    hints = [
        (
            0.5 * acts.sum(-1).mean(),
            "Weight each latent by the norm of its decoder row, ||W_dec[i]||: otherwise the "
            "SAE can shrink acts and grow W_dec to dodge the penalty.",
        ),
        (
            0.5 * (acts * W_dec.norm(dim=1)).sum(),
            "Average over the batch (mean over tokens), don't sum over it.",
        ),
        ((acts * W_dec.norm(dim=1)).sum(-1).mean(), "Multiply by the coefficient."),
        (
            0.5 * (acts * W_dec.pow(2).sum(1)).sum(-1).mean(),
            "Use the L2 norm of each decoder row, not its square: W_dec.norm(dim=1).",
        ),
    ]
    raise ExerciseError(first_match(got, hints) or f"Expected {float(want):.5f}, got {float(got):.5f}.")
