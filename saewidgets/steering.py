"""Steer a model with SAE latents: add a latent's decoder direction, or clamp the latent to a value.

Strengths are in units of each latent's *typical maximum activation* (its 99.9th percentile over some
harvested activations), so "+2" means twice as strong as the latent ever naturally gets, whatever the
latent. Two modes:

- ``"add"``: x <- x + sum_i alpha_i * m_i * W_dec[i] at every position after BOS (activation addition
  with an SAE direction, as in Templeton et al. 2024's feature steering);
- ``"clamp"``: encode x, set latent i to alpha_i * m_i, and add the change through the decoder,
  x <- x + (a' - a) @ W_dec, which keeps the SAE's reconstruction error (what the SAE misses) intact.

Unsteered and steered text are sampled with the same seed, so the difference is the steering's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch

from .generation import check_generator, sample

MODES = ("add", "clamp")


class Comparison(NamedTuple):
    unsteered: str
    steered: str


def typical_max(
    sae, activations, quantile: float = 0.999, batch_size: int = 4096, latents=None
) -> torch.Tensor:
    """Per-latent ``quantile`` of the non-zero activations over ``activations`` (an ActivationSet or
    [n, d_in] tensor): the unit of steering strength, [d_sae]. Latents that never fire get 1.

    ``latents``: only these are measured (the rest get 1). The quantile is the costly part, so a panel of
    two latents should not pay for all of them (2.5-4 s at d_sae 1024 on 20k tokens)."""
    x_all = activations.acts if hasattr(activations, "acts") else torch.as_tensor(activations)
    ids = None if latents is None else torch.as_tensor([int(i) for i in latents], dtype=torch.long)
    columns = slice(None) if ids is None else ids
    with torch.no_grad():
        acts = torch.cat(
            [
                sae.encode(x.to(sae.W_dec.device, sae.W_dec.dtype)).float().cpu()[:, columns]
                for x in x_all.split(batch_size)
            ]
        )  # [n, d_sae] or [n, len(latents)]
    acts = acts.masked_fill(acts <= 0, float("nan"))
    q = (
        torch.nanquantile(acts, quantile, dim=0)
        if len(acts) <= 16_000_000 // acts.shape[1]
        else acts.nan_to_num(0).amax(0)
    )  # very large sets: the max is a fine unit too
    q = torch.nan_to_num(q, nan=1.0)
    if ids is None:
        return q  # [d_sae]
    units = torch.ones(int(sae.W_dec.shape[0]))  # [d_sae]
    units[ids] = q
    return units


def steering_hook(sae, strengths: Mapping[int, float], mode: str = "add", units: torch.Tensor | None = None):
    """A TransformerLens hook ``fn(x, hook)`` steering the residual stream by ``strengths`` {latent: alpha}."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    d_sae = sae.W_dec.shape[0]
    bad = [i for i in strengths if not 0 <= int(i) < d_sae]
    if bad:
        raise ValueError(f"latent ids {bad} are out of range for an SAE with d_sae={d_sae}")
    ids = torch.tensor([int(i) for i in strengths], dtype=torch.long)
    alpha = torch.tensor([float(a) for a in strengths.values()])  # [n]
    unit = units[ids].float() if units is not None else torch.ones(len(ids))  # [n]
    target = alpha * unit  # [n] activation values (clamp) or multiples of W_dec rows (add)

    def hook(x: torch.Tensor, hook=None) -> torch.Tensor:  # x [batch, pos, d_in]
        if len(ids) == 0:
            return x
        start = 1 if x.shape[1] > 1 else 0  # leave BOS alone: it carries no story and a huge norm
        body = x[:, start:]  # [batch, pos', d_in]
        W = sae.W_dec[ids.to(x.device)].to(x.dtype)  # [n, d_in]
        t = target.to(x.device, x.dtype)
        if mode == "add":
            delta = (t @ W).expand_as(body)  # [batch, pos', d_in]
        else:
            with torch.no_grad():
                current = sae.encode(body.reshape(-1, body.shape[-1]))[:, ids.to(x.device)]  # [batch*pos', n]
            delta = ((t - current) @ W).reshape(body.shape)
        return torch.cat([x[:, :start], body + delta], dim=1)

    return hook


def generate(
    model,
    prompt: str,
    *,
    sae=None,
    hook: str | None = None,
    strengths: Mapping[int, float] | None = None,
    mode: str = "add",
    units: torch.Tensor | None = None,
    max_new_tokens: int = 32,
    temperature: float = 1.0,
    seed: int = 0,
    kv_cache: str = "auto",
) -> str:
    """Sample a continuation of ``prompt`` (temperature 0: greedy), optionally steered; prompt + continuation."""
    return compare(
        model,
        prompt,
        sae=sae,
        hook=hook,
        strengths=strengths,
        mode=mode,
        units=units,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        seed=seed,
        kv_cache=kv_cache,
        unsteered=False,
    ).steered


def compare(
    model,
    prompt: str,
    *,
    sae,
    hook: str,
    strengths: Mapping[int, float] | None,
    mode: str = "add",
    units: torch.Tensor | None = None,
    max_new_tokens: int = 32,
    temperature: float = 1.0,
    seed: int = 0,
    kv_cache: str = "auto",
    unsteered: bool = True,
) -> Comparison:
    """Unsteered and steered continuations sampled with the same seed, as two rows of one batch.

    Row 0 is the model as it is; the steering hook changes row 1 alone. Each row samples from its own
    generator (generation.sample), so row 1's text is what ``generate(..., strengths=...)`` gives alone.
    ``unsteered=False`` runs the steered row only (``Comparison.unsteered`` is then "")."""
    check_generator(model)  # before to_tokens: a plain Hugging Face model has none
    fwd_hooks = []
    if strengths:
        if sae is None or hook is None:
            raise ValueError("steering needs sae=... and hook=... (the site the SAE reads)")
        fwd_hooks = [(hook, _rows_from(steering_hook(sae, strengths, mode, units), 1 if unsteered else 0))]
    tokens = model.to_tokens(prompt)  # [1, pos]
    tokens = tokens.expand(2 if unsteered else 1, -1)  # [rows, pos]
    out = sample(
        model,
        tokens,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        seeds=seed,
        fwd_hooks=fwd_hooks,
        kv_cache=kv_cache,
    )  # [rows, pos + new]
    texts = [model.tokenizer.decode(row, skip_special_tokens=True) for row in out]
    return Comparison(texts[0], texts[1]) if unsteered else Comparison("", texts[0])


def _rows_from(hook_fn, first: int):
    """Apply a TransformerLens hook to batch rows ``first:`` only (the steered rows of a comparison)."""
    if first == 0:
        return hook_fn

    def hook(x: torch.Tensor, hook=None) -> torch.Tensor:  # x [batch, pos, d_in]
        return torch.cat([x[:first], hook_fn(x[first:], hook)], dim=0)

    return hook
