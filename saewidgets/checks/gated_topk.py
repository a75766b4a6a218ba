"""Checks for notebook 04 (Gated and TopK SAEs): the TopK activation, the Gated encoder, the AuxK loss (the
Gated loss: ``checks.gated_loss``).

The answer key is the library itself: each check builds a ``TopKSAE`` or ``GatedSAE`` from ``sae.py`` with
seeded random weights and compares the learner's function with what the SAE computes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..config import SAEConfig
from ..sae import GatedSAE, TopKSAE
from ._core import ExerciseError, close, first_match, passed

__all__ = [
    "check_topk_activation",
    "check_gated_encode",
    "check_auxk_loss",
    "topk_activation_reference",
    "gated_encode_reference",
    "auxk_loss_reference",
]


# ---- reference implementations (the same maths as sae.py, written out for teaching) ----


def topk_activation_reference(pre_acts, k):
    """Keep each row's k largest pre-activations, ReLU them, zeros elsewhere: [batch, d_sae] -> same."""
    vals, idx = pre_acts.topk(k, dim=-1)  # [batch, k] each
    return torch.zeros_like(pre_acts).scatter(-1, idx, torch.relu(vals))


def gated_encode_reference(x, W_gate, b_gate, r_mag, b_mag, b_dec):
    """Gated SAE encoder (Rajamanoharan et al. 2024a, §3) with weight sharing W_mag = exp(r_mag) * W_gate."""
    x = x - b_dec  # [batch, d_in]
    pi_gate = x @ W_gate + b_gate  # [batch, d_sae]
    pi_mag = x @ (W_gate * r_mag.exp()) + b_mag  # [batch, d_sae]
    return (pi_gate > 0).float() * torch.relu(pi_mag)


def auxk_loss_reference(x, pre_acts, residual, W_dec, dead_mask, k_aux, coefficient):
    """AuxK (Gao et al. 2024, App. A.2): the k_aux largest *dead* pre-activations, ReLU'd, reconstruct the
    detached residual e = x - x_hat through the decoder rows of the dead latents (no bias). Their loss is
    nmse(x_hat, x) + alpha nmse(e_hat, e), each squared error over its target's variance (the error of
    predicting the batch mean); the library's mse is per token and unnormalised, so the aux term is
    alpha nmse(e_hat, e) times x's variance per token: mse + aux = var(x) * (the paper's loss). 0 when the
    residual has no variance."""
    dead = dead_mask.nonzero().squeeze(1)  # [n_dead]
    k_aux = min(k_aux, len(dead))
    pre_dead = pre_acts[:, dead]  # [batch, n_dead]
    vals, idx = pre_dead.topk(k_aux, dim=-1)  # [batch, k_aux]
    acts_aux = torch.zeros_like(pre_dead).scatter(-1, idx, torch.relu(vals))  # [batch, n_dead]
    e = residual.detach()  # [batch, d_in]
    var_e = (e - e.mean(0)).pow(2).sum()  # []: the residual's variance, summed over the batch and d_in
    x = x.detach()  # [batch, d_in]
    var_x = (x - x.mean(0)).pow(2).sum(-1).mean()  # []: x's variance per token, the unit of the mse
    # A residual with no variance (one token, a perfect fit): 0, not 0/0. The factor is a constant, so the
    # where() also keeps the gradient finite (a where() around the quotient would back-propagate 0/0 = nan).
    scale = torch.where(var_e > 0, var_x / var_e, 0.0)  # []
    return coefficient * scale * (acts_aux @ W_dec[dead] - e).pow(2).sum()


# ---- shared inputs ----


def _topk_sae(seed: int = 0, d_in: int = 6, d_sae: int = 16, k: int = 4, **kw) -> TopKSAE:
    torch.manual_seed(seed)
    sae = TopKSAE(SAEConfig("topk", d_in=d_in, d_sae=d_sae, k=k, **kw))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in sae.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return sae


def _x(seed: int, batch: int = 12, d_in: int = 6) -> torch.Tensor:
    return torch.randn(batch, d_in, generator=torch.Generator().manual_seed(seed + 100))


def _wrong_shape(got, want, what: str) -> None:
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        raise ExerciseError(
            f"Expected a tensor of shape {tuple(want.shape)} {what}; got "
            f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}."
        )


# ---- checks ----


def check_topk_activation(fn: Callable) -> None:
    """``fn(pre_acts, k)`` -> the k largest entries of each row, ReLU'd, in place; zeros elsewhere.
    Compared with ``TopKSAE.encode`` on the same pre-activations."""
    sae = _topk_sae()
    x = _x(0)
    with torch.no_grad():
        pre = sae(x).pre_acts  # [batch, d_sae]
        pre[0] -= pre[0].max() + 1.0  # one row where every pre-activation is negative: the ReLU matters
        want = sae.encode(x)
        want[0] = 0.0
        k = sae.cfg.k
    assert close(want, topk_activation_reference(pre, k))  # the written-out reference is the library's maths
    got = fn(pre.clone(), k)
    if close(got, want):
        return passed("topk_activation")
    if isinstance(got, torch.Tensor) and got.shape == (pre.shape[0], k):
        raise ExerciseError(
            f"You returned the k values only, shape {tuple(got.shape)}. Scatter them back "
            f"into a zero [batch, d_sae] tensor at their indices: "
            f"torch.zeros_like(pre_acts).scatter(-1, idx, vals)."
        )
    _wrong_shape(got, want, "[batch, d_sae]")
    vals, idx = pre.topk(k, dim=-1)
    lo_vals, lo_idx = pre.topk(k, dim=-1, largest=False)
    abs_idx = pre.abs().topk(k, dim=-1).indices
    kth_batch = pre.flatten().topk(k * pre.shape[0]).values[-1]
    col_vals, col_idx = pre.topk(k, dim=0)
    hints = [
        (
            torch.zeros_like(pre).scatter(-1, idx, vals),
            "Apply the ReLU to the kept values: when fewer than k "
            "pre-activations are positive, the negative ones must "
            "become 0.",
        ),
        (
            (torch.zeros_like(pre).scatter(-1, idx, vals) != 0).float(),
            "Return the activations, not a 0/1 mask.",
        ),
        ((want > 0).float(), "Return the activations, not a 0/1 mask."),
        (
            torch.zeros_like(pre).scatter(-1, lo_idx, torch.relu(lo_vals)),
            "Keep the k *largest* pre-activations (topk's default largest=True).",
        ),
        (
            torch.zeros_like(pre).scatter(-1, abs_idx, torch.relu(pre.gather(-1, abs_idx))),
            "Rank by the signed pre-activation, not its absolute value.",
        ),
        (
            torch.relu(pre) * (pre >= kth_batch),
            "Choose k latents per token (per row, dim=-1), not the k * "
            "batch largest of the whole batch: that is BatchTopK.",
        ),
        (
            torch.zeros_like(pre).scatter(0, col_idx, torch.relu(col_vals)),
            "Take the top k along the latent dimension (dim=-1), not over the batch.",
        ),
        (
            torch.relu(pre),
            "Zero every latent outside the top k: the result must have at most k non-zeros per row.",
        ),
    ]
    hint = first_match(got, hints)
    raise ExerciseError(
        hint
        or "The values differ from the reference: keep the k largest entries of each "
        "row at their positions, ReLU them, and put zeros everywhere else."
    )


def _gated_sae(seed: int = 0, d_in: int = 6, d_sae: int = 16) -> GatedSAE:
    torch.manual_seed(seed)
    sae = GatedSAE(SAEConfig("gated", d_in=d_in, d_sae=d_sae))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sae.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 if name == "r_mag" else 1.0))
    return sae


def check_gated_encode(fn: Callable) -> None:
    """``fn(x, W_gate, b_gate, r_mag, b_mag, b_dec)`` -> 1[pi_gate > 0] * ReLU(pi_mag), compared with
    ``GatedSAE.encode`` (whose W_enc is W_gate) with the same weights."""
    sae = _gated_sae()
    x = _x(1)
    W, bg, r, bm, bd = (p.detach().clone() for p in (sae.W_enc, sae.b_gate, sae.r_mag, sae.b_mag, sae.b_dec))
    with torch.no_grad():
        want = sae.encode(x)
    assert close(want, gated_encode_reference(x, W, bg, r, bm, bd))
    got = fn(x.clone(), W.clone(), bg.clone(), r.clone(), bm.clone(), bd.clone())
    if close(got, want):
        return passed("gated_encode")
    _wrong_shape(got, want, "[batch, d_sae]")
    xc = x - bd
    gate_pre, mag_pre = xc @ W + bg, xc @ (W * r.exp()) + bm
    gate = (gate_pre > 0).float()
    hints = [
        (
            (x @ W + bg > 0).float() * torch.relu(x @ (W * r.exp()) + bm),
            "Subtract b_dec from x before both paths, as every SAE encoder does.",
        ),
        (
            gate * torch.relu(xc @ (W * r) + bm),
            "The magnitude weights are exp(r_mag) * W_gate: r_mag is a "
            "log scale (r_mag = 0 means W_mag = W_gate).",
        ),
        (
            gate * torch.relu(xc @ W + bm),
            "Rescale the magnitude path's weights: W_mag = exp(r_mag) * W_gate.",
        ),
        (
            gate * torch.relu(xc @ (W * r.exp()) + bg),
            "The magnitude path has its own bias b_mag (b_gate is the gate's).",
        ),
        (
            gate * mag_pre,
            "ReLU the magnitude: 1[pi_gate > 0] * ReLU(pi_mag); pi_mag can be negative where "
            "the gate is open.",
        ),
        (
            gate * torch.relu(gate_pre),
            "The size of an active latent comes from the magnitude path pi_mag, "
            "not from pi_gate: the gate only decides *whether* it fires.",
        ),
        (
            torch.relu(gate_pre),
            "The size of an active latent comes from the magnitude path pi_mag, not "
            "from pi_gate: the gate only decides *whether* it fires.",
        ),
        (
            (mag_pre > 0).float() * torch.relu(mag_pre),
            "Open the gate where pi_gate > 0, not where pi_mag > 0: the gate decides which latents fire.",
        ),
        (gate, "Multiply the 0/1 gate by the magnitude ReLU(pi_mag): return activations, not the gate."),
    ]
    hint = first_match(got, hints)
    raise ExerciseError(
        hint
        or "The values differ from GatedSAE.encode: pi_gate = (x - b_dec) @ W_gate + "
        "b_gate, pi_mag = (x - b_dec) @ (exp(r_mag) * W_gate) + b_mag, acts = "
        "1[pi_gate > 0] * ReLU(pi_mag)."
    )


def check_auxk_loss(fn: Callable) -> None:
    """``fn(x, pre_acts, residual, W_dec, dead_mask, k_aux, coefficient)`` -> the AuxK loss, compared with
    ``TopKSAE``'s own (``sae.loss(x, dead_mask=...).aux``); the residual must be detached, and a batch whose
    residual has no variance (one token) gives 0."""
    sae = _topk_sae(seed=2, d_sae=16, k=3, auxk_k=3, auxk_coefficient=0.25)
    x = _x(2)
    dead = torch.zeros(16, dtype=torch.bool)
    dead[[1, 4, 5, 8, 11, 13]] = True
    out = sae(x)
    want = sae.loss(x, dead_mask=dead, out=out).aux.detach()
    residual = x - out.recon  # [batch, d_in], still attached to the SAE's graph
    pre = out.pre_acts.detach()
    assert close(want, auxk_loss_reference(x, pre, residual, sae.W_dec.detach(), dead, 3, 0.25))
    W_dec = sae.W_dec.detach().clone()
    got = fn(x.clone(), pre.clone(), residual, W_dec, dead.clone(), 3, 0.25)
    if not isinstance(got, torch.Tensor):
        raise ExerciseError(f"Return a tensor (one number), not {type(got).__name__}.")
    if got.ndim > 0:
        raise ExerciseError(
            f"Return one number (a 0-d tensor), not shape {tuple(got.shape)}: sum the "
            f"squared error over every token and every d_in, as the residual's variance is."
        )
    if close(got, want):
        if got.requires_grad:
            sae.zero_grad(set_to_none=True)
            got.backward()
            if any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in sae.parameters()):
                raise ExerciseError(
                    "Detach the residual (residual.detach()): AuxK must only teach the dead "
                    "latents, not push the main reconstruction towards the residual."
                )
        return _check_auxk_one_token(fn, sae, x[:1], dead)
    raise ExerciseError(
        _auxk_hint(got, want, sae, x, pre, residual.detach(), W_dec, dead)
        or f"Expected {float(want):.5f}, got {float(got):.5f}."
    )


def _check_auxk_one_token(fn: Callable, sae: TopKSAE, x: torch.Tensor, dead: torch.Tensor) -> None:
    # One token: the residual equals its own batch mean, so its variance is 0 and the library's aux loss is 0.
    out = sae(x)
    want = sae.loss(x, dead_mask=dead, out=out).aux.detach()  # [] = 0
    W_dec = sae.W_dec.detach().clone().requires_grad_()  # [d_sae, d_in]: the gradient must stay finite too
    got = fn(x.clone(), out.pre_acts.detach(), (x - out.recon).detach(), W_dec, dead.clone(), 3, 0.25)
    if not (isinstance(got, torch.Tensor) and got.ndim == 0 and close(got, want)):
        raise ExerciseError(
            f"With one token the residual has no variance (it equals its batch mean), so the "
            f"normalised error is 0/0; return 0 there, as the library does (got {got!r}): "
            f"scale = torch.where(var_e > 0, var_x / var_e, 0.0)."
        )
    if got.requires_grad:
        got.backward()
        if W_dec.grad is not None and not bool(torch.isfinite(W_dec.grad).all()):
            raise ExerciseError(
                "The loss is 0 for a residual with no variance, but its gradient is nan: a "
                "torch.where around the quotient still back-propagates 0/0. Guard the factor "
                "instead, scale = torch.where(var_e > 0, var_x / var_e, 0.0), and multiply "
                "the squared error by it."
            )
    return passed("auxk_loss")


def _auxk_hint(got, want, sae, x, pre, err, W_dec, dead) -> str | None:
    """The hint of the typical wrong AuxK loss that ``got`` equals (each written out beside its hint)."""
    idx_dead = dead.nonzero().squeeze(1)
    pre_dead = pre[:, idx_dead]
    v, i = pre_dead.topk(3, dim=-1)
    aux = torch.zeros_like(pre_dead).scatter(-1, i, torch.relu(v))  # [batch, n_dead]
    all_v, all_i = pre.topk(3, dim=-1)
    aux_all = torch.zeros_like(pre).scatter(-1, all_i, torch.relu(all_v))  # [batch, d_sae]
    sq = (aux @ W_dec[idx_dead] - err).pow(2)  # [batch, d_in]: the right squared error
    xc, ec = x - x.mean(0), err - err.mean(0)  # [batch, d_in] each
    var_e, var_x = ec.pow(2).sum(), xc.pow(2).sum(-1).mean()  # [] each
    scale = 0.25 * var_x / var_e  # []: coefficient x (x's variance per token) / (the residual's variance)
    hints = [
        (
            scale * (aux_all @ W_dec - err).pow(2).sum(),
            "Choose the top k_aux among the *dead* latents only "
            "(pre_acts[:, dead_mask]); live latents already have "
            "a gradient.",
        ),
        (
            scale * (torch.zeros_like(pre_dead).scatter(-1, i, v) @ W_dec[idx_dead] - err).pow(2).sum(),
            "ReLU the chosen dead pre-activations, as TopK does.",
        ),
        (scale / 0.25 * sq.sum(), "Multiply by the coefficient (alpha = 1/32 in Gao et al.)."),
        (
            scale * (aux @ W_dec[idx_dead] + sae.b_dec.detach() - err).pow(2).sum(),
            "Decode without b_dec: the residual x - x_hat already has the bias taken out.",
        ),
        (
            scale * (aux @ W_dec[idx_dead] - x).pow(2).sum(),
            "Reconstruct the residual x - x_hat, not x: the "
            "dead latents should explain what the live ones "
            "missed.",
        ),
        (
            0.25 * sq.sum(-1).mean(),
            "Normalise the error by the residual's variance, then multiply by x's "
            "variance per token: coefficient * ||e_hat - e||^2 / ||e - mean(e)||^2 * "
            "var(x) (Gao et al. 2024, App. A.2). Unnormalised, the pull on dead "
            "latents fades as the residual shrinks, by FVU (~10x).",
        ),
        (
            0.25 * sq.sum() / var_e,
            "Multiply the normalised error by x's variance per token, (x - "
            "x.mean(0)).pow(2).sum(-1).mean(): the library's mse is not normalised, so "
            "mse + aux = var(x) * (the paper's loss).",
        ),
        (
            scale * var_e / err.pow(2).sum() * sq.sum(),
            "The residual's variance is around its batch mean: divide by ||e - e.mean(0)||^2, not ||e||^2.",
        ),
        (
            scale * x.pow(2).sum(-1).mean() / var_x * sq.sum(),
            "x's variance is around its batch mean: (x - x.mean(0)).pow(2).sum(-1).mean(), not ||x||^2.",
        ),
        (
            scale * len(x) * sq.sum(),
            "x's variance is per token: average (x - x.mean(0))^2 summed over d_in "
            "over the batch, don't sum over it.",
        ),
        (
            scale / x.shape[1] * sq.sum(),
            "x's variance per token sums the squared deviations over d_in: "
            "(x - x.mean(0)).pow(2).sum(-1).mean(), not .mean().",
        ),
        (
            scale / len(x) * sq.sum(),
            "Sum the squared error over the same tokens as the residual's variance: "
            "both over every token and every d_in (a ratio of two sums).",
        ),
        (
            scale / sq.numel() * sq.sum(),
            "Sum the squared error over the same elements as the residual's "
            "variance: both over every token and every d_in (a ratio of two "
            "sums).",
        ),
    ]
    return first_match(got, hints)
