"""Check for notebook 02's splice hook: the hook behind ΔCE that puts an SAE's reconstruction into the model.

``metrics._downstream`` is the answer key: its ``splice`` leaves the BOS position alone (Gemma Scope; SAELens'
mask in ``get_recons_loss``) and hands every other position to the SAE, on the SAE's device and dtype, and
back. The learner's SAE was trained on inputs scaled by ``s`` (``ActivationSet.norm_scale``), so their hook
also scales the raw activation by ``s`` on the way in and divides the reconstruction by ``s`` on the way out.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import torch

from ..config import SAEConfig
from ..sae import ReLUSAE
from ._core import ExerciseError, close, first_match, passed

__all__ = ["check_splice_hook", "splice_hook_reference"]

HOOK = SimpleNamespace(name="blocks.1.hook_resid_post")  # what TransformerLens passes as ``hook``


def splice_hook_reference(x, hook, sae, scale):
    """x [batch, pos, d_in] raw activations -> the same shape and dtype, every position but BOS (0) replaced
    by the reconstruction of an SAE trained on ``scale * x``, brought back to the raw scale."""
    W = sae.W_dec  # [d_sae, d_in]: where the SAE lives and in which dtype
    body = x[:, 1:].to(W.device, W.dtype) * scale  # [batch, pos - 1, d_in], the scale the SAE was trained at
    recon = sae(body).recon / scale  # [batch, pos - 1, d_in], raw scale again
    return torch.cat([x[:, :1], recon.to(x.device, x.dtype)], dim=1)  # [batch, pos, d_in]


def _sae(seed: int = 0, d_in: int = 8, d_sae: int = 16) -> ReLUSAE:
    sae = ReLUSAE(SAEConfig("relu", d_in=d_in, d_sae=d_sae), seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in sae.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)  # nonzero biases: a scale mistake shows
    return sae.eval()


def _x(seed: int = 1, batch: int = 3, pos: int = 7, d_in: int = 8) -> torch.Tensor:
    return torch.randn(batch, pos, d_in, generator=torch.Generator().manual_seed(seed)) * 2.0


def _call(fn: Callable, x: torch.Tensor, sae, scale: float):
    """The learner's hook on a copy of ``x`` (-> (answer, the copy after the call)), as TransformerLens calls it."""
    given = x.clone()
    with torch.no_grad():
        got = fn(given, HOOK, sae, scale)
    return got, given


def check_splice_hook(fn: Callable) -> None:
    """``fn(x, hook, sae, scale)`` -> the activation the model continues with: x's shape and dtype, BOS
    (position 0) unchanged, every other position the SAE's reconstruction of ``scale * x``, divided by
    ``scale``. Run on a float32 and a bfloat16 activation (a model run in bf16) with scale 2.5."""
    sae, scale = _sae(), 2.5
    x = _x()  # [batch, pos, d_in]
    with torch.no_grad():
        want = splice_hook_reference(x, HOOK, sae, scale)
    got, given = _call(fn, x, sae, scale)
    if close(got, want):
        _check_dtype(fn, sae, scale)
        return passed("splice_hook")
    raise ExerciseError(_hint(got, given, x, want, sae, scale) or _values_differ())


def _values_differ() -> str:
    return (
        "The values differ from the reference splice: keep x[:, :1] (BOS), and for x[:, 1:] return "
        "sae(scale * x[:, 1:]).recon / scale, concatenated back along the position dimension."
    )


def _hint(got, given, x, want, sae, scale) -> str | None:
    if got is None:
        if close(given, want):
            return (
                "Your hook wrote the reconstruction into x in place and returned None. Return the new tensor "
                "instead: TransformerLens uses the hook's return value, and an in-place write into an "
                "activation that autograd saved breaks the backward pass."
            )
        return (
            "Your hook returned None. TransformerLens then keeps the original activation, so the model runs "
            "unchanged and ΔCE comes out 0: return the spliced tensor."
        )
    if isinstance(got, tuple) and hasattr(got, "recon"):
        return "Return the reconstruction tensor (sae(...).recon), not the whole SAEOutput."
    if not isinstance(got, torch.Tensor):
        return f"Return a tensor shaped like x {tuple(x.shape)}, not {type(got).__name__}."
    if got.shape != x.shape:
        latents = got.shape[-1] == sae.W_dec.shape[0]
        return (
            f"Return a tensor of x's shape {tuple(x.shape)}, got {tuple(got.shape)}: the model continues "
            "with it, so it must look like the activation it replaces"
            + (" (you returned the latents; decode them, or take .recon)." if latents else ".")
        )
    with torch.no_grad():
        recon = sae(x * scale).recon / scale  # [batch, pos, d_in], every position spliced
        unscaled = sae(x).recon  # the SAE fed raw activations
        last = x.clone()
        last[:, -1] = recon[:, -1]
        hints = [
            (
                x,
                "You returned the activation unchanged: the model then runs as if there were no SAE and ΔCE "
                "is 0. Return the SAE's reconstruction instead.",
            ),
            (
                recon,
                "Leave position 0 (BOS) as it is and splice positions 1 onwards: BOS is an attention sink "
                "with a huge norm that the SAE never saw in training (harvest drops it), so its "
                "reconstruction is garbage that every later token attends to.",
            ),
            (
                last,
                "Replace every position after BOS, not only the last one: ΔCE asks how well the model "
                "predicts every next token with the SAE in place, and each position's prediction also reads "
                "the earlier positions through attention.",
            ),
            (
                torch.cat([x[:, :1], unscaled[:, 1:]], 1),
                "Your SAE was trained on activations multiplied by scale (norm_scale): multiply x by scale "
                "before the SAE, and divide the reconstruction by scale after it.",
            ),
            (
                torch.cat([x[:, :1], recon[:, 1:] * scale], 1),
                "Map the reconstruction back to the raw scale: the SAE reconstructs scale * x, so divide its "
                "output by scale before handing it to the model.",
            ),
            (
                torch.cat([x[:, :1], sae(x[:, 1:] / scale).recon * scale], 1),
                "The other way round: multiply by scale on the way in (the SAE was trained on scale * x) and "
                "divide on the way out.",
            ),
            (
                torch.cat([x[:, :1], sae(x[:, 1:] * scale).acts @ sae.W_dec / scale], 1),
                "Decode with the decoder bias: recon = acts @ W_dec + b_dec (or simply use sae(...).recon).",
            ),
        ]
    return first_match(got, hints)


def _check_dtype(fn: Callable, sae, scale: float) -> None:
    """Real models often run in bfloat16 while the SAE is float32: the hook converts on the way in and out."""
    x = _x(seed=2).to(torch.bfloat16)  # [batch, pos, d_in]
    with torch.no_grad():
        want = splice_hook_reference(x, HOOK, sae, scale)
    try:
        got, _ = _call(fn, x, sae, scale)
    except RuntimeError as err:
        raise ExerciseError(
            "Your hook works on float32 activations but fails on a bfloat16 one (a model run in bf16, the SAE "
            f"in float32): {str(err).splitlines()[0].rstrip('.')}. Convert the activation to the SAE's dtype and device "
            "before the SAE (.to(sae.W_dec.device, sae.W_dec.dtype)), and the reconstruction back to x's "
            "(.to(x.device, x.dtype)) after it."
        ) from None
    if not isinstance(got, torch.Tensor) or got.dtype != x.dtype:
        dtype = got.dtype if isinstance(got, torch.Tensor) else type(got).__name__
        raise ExerciseError(
            f"On a bfloat16 activation your hook returned {dtype}: hand the model back its own dtype, "
            "recon.to(x.dtype), or every later layer runs in another precision than it was loaded in."
        )
    if not close(got, want, tol=2e-2):
        raise ExerciseError(
            "On a bfloat16 activation your hook's values differ from the reference: convert x[:, 1:] to the "
            "SAE's dtype, scale, reconstruct, divide by scale, and convert back to x.dtype."
        )
