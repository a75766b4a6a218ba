"""Checks for notebook 04, Exercise 3: the Gated SAE's loss (Rajamanoharan et al. 2024a, §3, eq. 7).

The answer key is ``GatedSAE.loss``: the check compares the learner's value and then every parameter's gradient,
because the usual mistakes (a live decoder in the auxiliary term, L1 on the magnitude path) change what trains,
not always the number.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import ExerciseError, close, first_match, passed
from .gated_topk import _gated_sae, _x

__all__ = ["check_gated_loss", "gated_loss_reference"]


def gated_loss_reference(x, out, W_dec, b_dec, l1_coefficient):
    """Gated SAE loss (Rajamanoharan et al. 2024a, §3, eq. 7): reconstruction + L1 on the gate's ReLU(pi_gate),
    weighted by the decoder norms (as constants) + the auxiliary reconstruction from ReLU(pi_gate) through a
    frozen (detached) decoder. ``out`` is the SAE's output (recon, acts, pre_acts = pi_gate); every term is a
    sum over d_in (or d_sae) and a mean over the batch."""
    gate = torch.relu(out.pre_acts)  # [batch, d_sae]
    reconstruction = (out.recon - x).pow(2).sum(-1).mean()  # []
    sparsity = l1_coefficient * (gate * W_dec.norm(dim=1).detach()).sum(-1).mean()  # []
    recon_gate = gate @ W_dec.detach() + b_dec.detach()  # [batch, d_in]: no gradient into the decoder
    return reconstruction + sparsity + (recon_gate - x).pow(2).sum(-1).mean()


def check_gated_loss(fn: Callable) -> None:
    """``fn(x, out, W_dec, b_dec, l1_coefficient)`` -> the Gated SAE's loss, compared with ``GatedSAE.loss`` on the
    same batch: its value, then its gradient into every parameter (the aux term must reach the gate but not
    the decoder, and the L1 term must treat the decoder norms as constants)."""
    sae, x, lam = _gated_sae(seed=3), _x(3), 0.7  # W_dec rows of random norm: the weights matter

    def run(loss_fn):  # -> (the loss, detached; every parameter's gradient, flattened [n_params])
        sae.zero_grad(set_to_none=True)
        loss = loss_fn(x.clone(), sae(x), sae.W_dec, sae.b_dec, lam)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            return loss, None
        if loss.requires_grad:
            loss.reshape(()).backward()
        grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in sae.parameters()]
        return loss.detach().reshape(()), torch.cat([g.flatten() for g in grads])

    def library(x, out, W_dec, b_dec, c):  # GatedSAE.loss, its sparsity term rescaled to coefficient c
        terms = sae.loss(x, out=out)
        return terms.mse + c / sae.cfg.l1_coefficient * terms.sparsity + terms.aux

    want, want_grad = run(library)
    ref, ref_grad = run(gated_loss_reference)
    assert close(ref, want) and close(ref_grad, want_grad)  # the written-out reference is the library's loss
    got, got_grad = run(fn)
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        raise ExerciseError(
            f"Return the loss as one number (a 0-d tensor that autograd can differentiate); got {shape}. "
            "Each term is a sum over d_in (or d_sae) and a mean over the batch."
        )
    if not close(got, want):
        raise ExerciseError(
            _gated_loss_hint(got, sae, x, lam) or f"Expected {float(want):.5f}, got {float(got):.5f}."
        )
    if close(got_grad, want_grad):
        return passed("gated_loss")
    hint = first_match(got_grad, [(run(wrong)[1], h) for wrong, h in _gated_grad_mistakes()])
    raise ExerciseError(
        hint
        or "The value is right but the gradients differ from GatedSAE.loss: detach exactly the aux term's "
        "decoder (W_dec and b_dec) and the decoder norms in the L1 term, nothing else."
    )


def _gated_loss_hint(got, sae, x, lam) -> str | None:
    """The hint of the typical wrong Gated loss whose value ``got`` equals (each written out beside its hint)."""
    with torch.no_grad():
        out = sae(x)
        W, b = sae.W_dec, sae.b_dec  # [d_sae, d_in], [d_in]
        gate, norms = torch.relu(out.pre_acts), W.norm(dim=1)  # [batch, d_sae], [d_sae]
        mse = (out.recon - x).pow(2).sum(-1).mean()
        l1 = lam * (gate * norms).sum(-1).mean()
        aux = (gate @ W + b - x).pow(2).sum(-1).mean()
        l1_mag = lam * (out.acts * norms).sum(-1).mean()
    on_mag = (
        "Put the L1 penalty on the gate, ReLU(pi_gate) = relu(out.pre_acts), not on the activations out.acts: "
        "those are the magnitude path's values, and penalising them shrinks the magnitudes again — the very "
        "thing the Gated SAE exists to avoid (Rajamanoharan et al. 2024a, §3)."
    )
    no_aux = (
        "Add the auxiliary term ||x - (ReLU(pi_gate) @ W_dec + b_dec)||², with the decoder detached: the gate's "
        "step 1[pi_gate > 0] passes no gradient, so without it the gate only ever learns to close (from L1)."
    )
    hints = [
        (mse + l1, no_aux),
        (mse + l1_mag + aux, on_mag),
        (mse + l1_mag, on_mag + " The auxiliary term is missing too."),
        (mse + aux, "Add the L1 sparsity penalty on ReLU(pi_gate), weighted by the decoder row norms."),
        (
            mse + lam * gate.sum(-1).mean() + aux,
            "Weight each gate's L1 by its decoder row norm ||W_dec,i|| (as notebook 01's penalty), or the SAE "
            "can shrink the gate and grow the decoder to dodge the penalty.",
        ),
        (
            mse + lam * (out.pre_acts * norms).sum(-1).mean() + aux,
            "ReLU the gate pre-activations in the L1 term: a closed gate (pi_gate < 0) costs nothing.",
        ),
        (
            mse + l1 + (out.pre_acts @ W + b - x).pow(2).sum(-1).mean(),
            "ReLU the gate pre-activations in the auxiliary reconstruction too: ReLU(pi_gate) @ W_dec + b_dec.",
        ),
        (
            mse + l1 + (out.acts @ W + b - x).pow(2).sum(-1).mean(),
            "The auxiliary reconstruction decodes the gate's ReLU(pi_gate) = relu(out.pre_acts), not out.acts "
            "(that is the main reconstruction again): it is what teaches the gate which latents are useful.",
        ),
        (
            mse + l1 + (gate @ W - x).pow(2).sum(-1).mean(),
            "Decode the auxiliary reconstruction with the bias as well: ReLU(pi_gate) @ W_dec + b_dec.",
        ),
        (mse + l1 / lam + aux, "Multiply the L1 term by l1_coefficient."),
        (
            mse + l1 + lam * aux,
            "Multiply only the L1 term by l1_coefficient; the auxiliary term has no coefficient.",
        ),
        (
            ((out.recon - x).pow(2).mean() + l1 + (gate @ W + b - x).pow(2).mean()),
            "Sum each squared error over d_in and average over the batch (a mean over every element, like "
            "F.mse_loss, divides it by d_in).",
        ),
        (
            (out.recon - x).pow(2).mean() + l1 + aux,
            "Sum the reconstruction error over d_in and average over the batch (a mean over every element, like "
            "F.mse_loss, divides it by d_in).",
        ),
        (
            mse + lam * (gate * norms).sum() + aux,
            "Average the L1 term over the batch (sum over d_sae, mean over tokens), like the squared errors.",
        ),
    ]
    return first_match(got, hints)


def _gated_grad_mistakes() -> list[tuple[Callable, str]]:
    """Gated losses with the right value and the wrong gradient, each beside its hint."""

    def terms(x, out, W_dec, b_dec, c, *, W_aux, b_aux, norms, gate_aux=None):
        gate = torch.relu(out.pre_acts)  # [batch, d_sae]
        g_aux = gate if gate_aux is None else gate_aux
        return (
            (out.recon - x).pow(2).sum(-1).mean()
            + c * (gate * norms).sum(-1).mean()
            + (g_aux @ W_aux + b_aux - x).pow(2).sum(-1).mean()
        )

    def live_decoder(x, out, W, b, c):
        return terms(x, out, W, b, c, W_aux=W, b_aux=b, norms=W.norm(dim=1).detach())

    def live_weights(x, out, W, b, c):
        return terms(x, out, W, b, c, W_aux=W, b_aux=b.detach(), norms=W.norm(dim=1).detach())

    def live_bias(x, out, W, b, c):
        return terms(x, out, W, b, c, W_aux=W.detach(), b_aux=b, norms=W.norm(dim=1).detach())

    def live_norms(x, out, W, b, c):
        return terms(x, out, W, b, c, W_aux=W.detach(), b_aux=b.detach(), norms=W.norm(dim=1))

    def live_both(x, out, W, b, c):
        return terms(x, out, W, b, c, W_aux=W, b_aux=b, norms=W.norm(dim=1))

    def dead_gate(x, out, W, b, c):
        gate = torch.relu(out.pre_acts).detach()
        return terms(
            x, out, W, b, c, W_aux=W.detach(), b_aux=b.detach(), norms=W.norm(dim=1).detach(), gate_aux=gate
        )

    frozen = (
        "Freeze the decoder in the auxiliary term: ReLU(pi_gate) @ W_dec.detach() + b_dec.detach(). The aux "
        "reconstruction is there to train the gate; let its gradient into W_dec and it drags the decoder "
        "towards what the *un-gated* gate reconstructs (Rajamanoharan et al. 2024a, §3: a frozen copy)."
    )
    return [
        (live_decoder, frozen),
        (live_weights, frozen),
        (live_both, frozen + " Treat the decoder norms in the L1 term as constants too (.detach())."),
        (
            live_bias,
            "Detach b_dec in the auxiliary term as well as W_dec: the whole decoder is frozen there.",
        ),
        (
            live_norms,
            "Treat the decoder norms in the L1 term as constants: W_dec.norm(dim=1).detach(). With a gradient "
            "into them the penalty can shrink the decoder (the magnitude path undoes any decoder scale for "
            "free, through exp(r_mag)) instead of closing gates.",
        ),
        (
            dead_gate,
            "Detach only the decoder in the auxiliary term, not ReLU(pi_gate): the gate must receive this "
            "term's gradient — it is the only signal telling it which latents help reconstruct x.",
        ),
    ]
