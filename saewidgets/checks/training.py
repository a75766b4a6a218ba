"""Checks for notebook 02 (a ReLU SAE from scratch): the SAE module, its loss, one training step, L0 and FVU.

The answer key is the library: ``check_relu_sae`` loads the same weights into the learner's module and into
``saewidgets.sae.ReLUSAE``, ``check_sae_loss`` compares with ``ReLUSAE.loss``, and the metric references are
tested equal to ``saewidgets.metrics.evaluate`` (tests/test_checks_training.py).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..config import SAEConfig
from ..sae import ReLUSAE, SAEOutput
from ._core import ExerciseError, close, first_match, passed, scalar

__all__ = [
    "ReLUSAEReference",
    "check_relu_sae",
    "sae_loss_reference",
    "check_sae_loss",
    "train_step_reference",
    "check_train_step",
    "l0_reference",
    "check_l0",
    "fvu_reference",
    "check_fvu",
]


# ---- reference implementations (the maths of sae.py and metrics.py, written out for teaching) ----


class ReLUSAEReference(nn.Module):
    """A ReLU SAE in a dozen lines: the class notebook 02 asks for (same parameter names as ReLUSAE)."""

    def __init__(self, d_in: int, d_sae: int):
        super().__init__()
        W_dec = torch.randn(d_sae, d_in)  # [d_sae, d_in]
        W_dec = 0.1 * W_dec / W_dec.norm(dim=1, keepdim=True)  # rows of norm 0.1 (Anthropic, April 2024)
        self.W_enc = nn.Parameter(W_dec.T.clone())  # [d_in, d_sae]: start by reading what each latent writes
        self.W_dec = nn.Parameter(W_dec)  # [d_sae, d_in]
        self.b_enc = nn.Parameter(torch.zeros(d_sae))  # [d_sae]
        self.b_dec = nn.Parameter(torch.zeros(d_in))  # [d_in]

    def encode(self, x):  # [batch, d_in] -> [batch, d_sae]
        return torch.relu((x - self.b_dec) @ self.W_enc + self.b_enc)

    def decode(self, acts):  # [batch, d_sae] -> [batch, d_in]
        return acts @ self.W_dec + self.b_dec

    def forward(self, x):
        pre = (x - self.b_dec) @ self.W_enc + self.b_enc  # [batch, d_sae]
        acts = torch.relu(pre)
        return SAEOutput(self.decode(acts), acts, pre)


def sae_loss_reference(x, recon, acts, W_dec, l1_coefficient):
    """||x - x_hat||^2 summed over d_in and averaged over the batch, + l1 * mean_batch sum_i acts_i
    ||W_dec_i||."""
    mse = (recon - x).pow(2).sum(-1).mean()
    return mse + l1_coefficient * (acts * W_dec.norm(dim=1)).sum(-1).mean()


def train_step_reference(sae, opt, x, l1_coefficient):
    """One optimiser step on the batch x; returns the loss before the step as a float."""
    out = sae(x)
    loss = sae_loss_reference(x, out.recon, out.acts, sae.W_dec, l1_coefficient)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def l0_reference(acts):
    """Mean number of nonzero latents per token: acts [batch, d_sae] -> scalar."""
    return (acts != 0).sum(-1).float().mean()


def fvu_reference(x, x_hat):
    """Fraction of variance unexplained: sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 (mean over the batch)."""
    return (x - x_hat).pow(2).sum() / (x - x.mean(0)).pow(2).sum()


# ---- helpers ----


def _library_sae(seed: int = 0, d_in: int = 6, d_sae: int = 12, l1_coefficient: float = 5.0) -> ReLUSAE:
    """A library ReLUSAE with random (seeded) weights and biases, so that no term can hide behind a zero."""
    sae = ReLUSAE(SAEConfig("relu", d_in=d_in, d_sae=d_sae, l1_coefficient=l1_coefficient))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in sae.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 if p.ndim == 1 else 1.0))
    return sae


def _batch(seed: int = 1, batch: int = 16, d_in: int = 6) -> torch.Tensor:
    return torch.randn(batch, d_in, generator=torch.Generator().manual_seed(seed)) + 0.5  # [batch, d_in]


# ---- checks ----


def check_relu_sae(cls: type) -> None:
    """``cls(d_in, d_sae)`` is an nn.Module with W_enc, W_dec, b_enc, b_dec whose encode / decode / forward
    compute what ``saewidgets.sae.ReLUSAE`` computes with the same weights."""
    ref = _library_sae()
    sae = cls(6, 12)
    if not isinstance(sae, nn.Module):
        raise ExerciseError(
            "MyReLUSAE must subclass torch.nn.Module (class MyReLUSAE(nn.Module)) and call "
            "super().__init__() first."
        )
    params = dict(sae.named_parameters())
    for name, p in ref.named_parameters():
        if name not in params:
            raise ExerciseError(
                f"MyReLUSAE has no parameter {name!r}: keep the names W_enc, W_dec, b_enc, "
                "b_dec (as nn.Parameter) from the __init__ given."
            )
        if params[name].shape != p.shape:
            raise ExerciseError(
                f"{name} has shape {tuple(params[name].shape)}; expected {tuple(p.shape)} "
                "(W_enc [d_in, d_sae], W_dec [d_sae, d_in])."
            )
    sae.load_state_dict(ref.state_dict(), strict=False)
    x = _batch()
    with torch.no_grad():
        want = ref(x)  # SAEOutput(recon, acts, pre_acts)
        acts = sae.encode(x)
        if not close(acts, want.acts):
            pre = (x - ref.b_dec) @ ref.W_enc + ref.b_enc
            hints = [
                (
                    torch.relu(x @ ref.W_enc + ref.b_enc),
                    "encode: subtract b_dec from x before multiplying by W_enc.",
                ),
                (pre, "encode: apply the ReLU; latent activations are never negative."),
                (
                    torch.relu((x - ref.b_dec) @ ref.W_enc),
                    "encode: add the encoder bias b_enc before the ReLU.",
                ),
                (
                    torch.relu(pre) @ ref.W_dec + ref.b_dec,
                    "encode should return the latent activations [batch, d_sae], not the reconstruction.",
                ),
            ]
            _raise_hint(acts, hints, "encode(x) differs from ReLU((x - b_dec) @ W_enc + b_enc).")
        recon = sae.decode(want.acts)
        if not close(recon, want.recon):
            hints = [
                (want.acts @ ref.W_dec, "decode: add the decoder bias b_dec back."),
                (
                    want.acts @ ref.W_dec - ref.b_dec,
                    "decode: add b_dec (encode subtracts it, decode adds it back).",
                ),
                (
                    want.acts @ ref.W_enc.T + ref.b_dec,
                    "decode with W_dec, not W_enc.T: the two are trained separately.",
                ),
            ]
            _raise_hint(recon, hints, "decode(acts) differs from acts @ W_dec + b_dec.")
        out = sae(x)
    for field in ("recon", "acts"):
        if not hasattr(out, field):
            raise ExerciseError(
                "forward should return SAEOutput(recon, acts, pre_acts), so that out.recon "
                f"and out.acts work; got {type(out).__name__} without .{field}."
            )
    if close(out.recon, want.acts) or close(out.acts, want.recon):
        raise ExerciseError("forward: the order is SAEOutput(recon, acts, pre_acts): reconstruction first.")
    pre_acts = getattr(out, "pre_acts", None)
    if pre_acts is not None:  # first: acts = ReLU(wrong pre_acts) is wrong too, and the bias is the mistake
        _check_pre_acts(pre_acts, x, ref, want)
    if not close(out.acts, want.acts):
        raise ExerciseError("forward: out.acts should be encode(x).")
    if not close(out.recon, want.recon):
        raise ExerciseError("forward: out.recon should be decode(encode(x)).")
    _check_pre_acts(pre_acts, x, ref, want)
    passed("MyReLUSAE")


def _check_pre_acts(got, x, ref, want) -> None:
    """forward's pre_acts are (x - b_dec) @ W_enc + b_enc: the library's weights have non-zero b_dec and b_enc
    (``_library_sae``), so leaving out either bias changes the values and is named."""
    if got is None:
        raise ExerciseError(
            "forward: return the pre-activations too, SAEOutput(recon, acts, pre_acts) with "
            "pre_acts = (x - b_dec) @ W_enc + b_enc (the values before the ReLU)."
        )
    if close(got, want.pre_acts):
        return
    with torch.no_grad():
        hints = [
            (want.acts, "forward: pre_acts are the values *before* the ReLU, (x - b_dec) @ W_enc + b_enc."),
            (
                x @ ref.W_enc,
                "forward: pre_acts lack both biases: subtract b_dec from x and add b_enc, "
                "(x - b_dec) @ W_enc + b_enc.",
            ),
            (
                x @ ref.W_enc + ref.b_enc,
                "forward: pre_acts lack the decoder bias: subtract b_dec from x first, "
                "(x - b_dec) @ W_enc + b_enc.",
            ),
            (
                (x - ref.b_dec) @ ref.W_enc,
                "forward: pre_acts lack the encoder bias: add b_enc, (x - b_dec) @ W_enc + b_enc.",
            ),
        ]
    _raise_hint(got, hints, "forward: pre_acts differ from (x - b_dec) @ W_enc + b_enc (before the ReLU).")


def _raise_hint(got, hints, default: str) -> None:
    if isinstance(got, torch.Tensor) and hints and got.shape != hints[0][0].shape:
        raise ExerciseError(f"Got shape {tuple(got.shape)}, expected {tuple(hints[0][0].shape)}.")
    raise ExerciseError(first_match(got, hints) or default)


def check_sae_loss(fn: Callable) -> None:
    """``fn(x, recon, acts, W_dec, l1_coefficient)`` -> the total loss of ``ReLUSAE.loss``."""
    sae, x = _library_sae(), _batch()
    with torch.no_grad():
        out = sae(x)
        want = sae.loss(x, out=out).total  # the library: mse + decoder-norm-weighted L1
        got = scalar(fn(x, out.recon, out.acts, sae.W_dec, 5.0), "sae_loss")
    if close(got, want):
        return passed("sae_loss")
    err, l1 = (out.recon - x).pow(2), (out.acts * sae.W_dec.norm(dim=1)).sum(-1)
    mse = err.sum(-1).mean()
    hints = [
        (
            err.mean() + 5.0 * l1.mean(),
            "Sum the squared error over d_in, then average over the batch: a mean "
            "over every element (F.mse_loss) divides the reconstruction term by "
            "d_in.",
        ),
        (
            err.sum() + 5.0 * l1.sum(),
            "Average over the batch (mean over tokens), don't sum: the loss should "
            "not depend on the batch size.",
        ),
        (
            mse + 5.0 * out.acts.sum(-1).mean(),
            "Weight each latent's activation by the norm of its decoder "
            "row, ||W_dec[i]||: otherwise the SAE shrinks acts and grows "
            "W_dec.",
        ),
        (mse + l1.mean(), "Multiply the L1 term by l1_coefficient."),
        (
            (out.recon - x).norm(dim=-1).mean() + 5.0 * l1.mean(),
            "Square the reconstruction error: ||x - x_hat||^2, not ||x - x_hat||.",
        ),
        (mse, "Add the sparsity penalty: without it nothing makes the latents sparse."),
        (
            mse + 5.0 * (out.acts * sae.W_dec.pow(2).sum(1)).sum(-1).mean(),
            "Use the L2 norm of each decoder row, W_dec.norm(dim=1), not its square.",
        ),
    ]
    raise ExerciseError(
        first_match(got, hints)
        or f"Expected {float(want):.5f}, got {float(got):.5f}: "
        f"reconstruction {float(mse):.5f} + sparsity {float(want - mse):.5f}."
    )


def _run_steps(step_fn, n_steps: int = 3, l1: float = 0.5):
    """Run ``step_fn`` for a few steps on a small library ReLUSAE; -> (sae, returned losses)."""
    sae = _library_sae(seed=2)
    opt = torch.optim.Adam(sae.parameters(), lr=1e-2)
    losses = [step_fn(sae, opt, _batch(seed=10 + i, batch=32), l1) for i in range(n_steps)]
    return sae, losses


def _no_zero_grad(sae, opt, x, l1):
    out = sae(x)
    loss = sae_loss_reference(x, out.recon, out.acts, sae.W_dec, l1)
    loss.backward()
    opt.step()
    return loss.item()


def _loss_after_step(sae, opt, x, l1):
    train_step_reference(sae, opt, x, l1)
    with torch.no_grad():
        out = sae(x)
        return sae_loss_reference(x, out.recon, out.acts, sae.W_dec, l1).item()


def _gradients_erased_before_step(fn: Callable) -> bool:
    """Run ``fn`` once on a fresh SAE, watching it: True when backward() computed gradients but opt.step()
    then found none (zero_grad between backward and step, so the step moved nothing)."""
    sae = _library_sae(seed=2)
    opt = torch.optim.Adam(sae.parameters(), lr=1e-2)
    seen = {"backward": False, "erased": False}

    def on_grad(grad):  # runs when backward() computes a parameter's gradient
        seen["backward"] = True
        return grad

    for p in sae.parameters():
        p.register_hook(on_grad)
    step = opt.step

    def watched_step(*args, **kwargs):
        no_grads = all(p.grad is None or not p.grad.any() for p in sae.parameters())
        seen["erased"] |= seen["backward"] and no_grads
        return step(*args, **kwargs)

    opt.step = watched_step
    try:
        fn(sae, opt, _batch(seed=10, batch=32), 0.5)
    except Exception:  # noqa: BLE001 -- a diagnosis only; the caller raises the general hint
        return False
    return seen["erased"]


def check_train_step(fn: Callable) -> None:
    """``fn(sae, opt, x, l1_coefficient)``: one Adam step on the batch x; returns the loss (a float)."""
    want_sae, want_losses = _run_steps(train_step_reference)
    start = _library_sae(seed=2)
    try:
        got_sae, got_losses = _run_steps(fn)
    except RuntimeError as e:
        if "inplace operation" in str(e):
            raise ExerciseError(
                "Call loss.backward() before opt.step(): the step changes the weights in "
                "place, so the graph backward() needs is gone, and the step should use this "
                "batch's gradients."
            ) from e
        raise
    got_p, want_p = dict(got_sae.named_parameters()), dict(want_sae.named_parameters())
    if all(torch.equal(p, q) for p, q in zip(got_sae.parameters(), start.parameters())):
        if _gradients_erased_before_step(fn):
            raise ExerciseError(
                "The parameters did not change: zero_grad() must come before backward() (it erased "
                "the gradients before opt.step()). Order: opt.zero_grad(), loss.backward(), opt.step()."
            )
        raise ExerciseError("The parameters did not change: call loss.backward() and then opt.step().")
    if not all(close(got_p[n].detach(), want_p[n].detach(), 1e-4) for n in want_p):
        for variant, hint in (
            (
                _no_zero_grad,
                "Zero the gradients every step (opt.zero_grad()): otherwise backward() adds this "
                "step's gradients to the previous ones.",
            ),
        ):
            v_sae, _ = _run_steps(variant)
            pairs = zip(got_sae.parameters(), v_sae.parameters())
            if all(close(p.detach(), q.detach(), 1e-4) for p, q in pairs):
                raise ExerciseError(hint)
        raise ExerciseError(
            "After three steps the weights differ from the reference: use the loss "
            "sae_loss(x, out.recon, out.acts, sae.W_dec, l1_coefficient) on out = sae(x), "
            "then zero_grad, backward, step."
        )
    if any(r is None for r in got_losses):
        raise ExerciseError("Return the loss (loss.item()), so the loop can log it.")
    if any(isinstance(r, torch.Tensor) for r in got_losses):
        # A tensor keeps its autograd graph (and the batch) alive for every logged step, and plt.plot of a
        # list of tensors that require grad fails later ("Can't call numpy() on Tensor that requires grad").
        raise ExerciseError(
            "Return loss.item() (a Python float), not the loss tensor: the loop logs one number per step "
            "and plots them, and a tensor keeps its whole graph alive."
        )
    got_losses = [scalar(r, "train_step") for r in got_losses]
    if not close(torch.stack(got_losses), torch.tensor(want_losses), 1e-4):
        _, after = _run_steps(_loss_after_step)
        if close(torch.stack(got_losses), torch.tensor(after), 1e-4):
            raise ExerciseError(
                "Return the loss computed *before* the step (the one you called backward on)."
            )
        raise ExerciseError(
            f"The weights are right but the returned losses "
            f"{[round(float(v), 4) for v in got_losses]} differ from "
            f"{[round(v, 4) for v in want_losses]}: return loss.item()."
        )
    passed("train_step")


def check_l0(fn: Callable) -> None:
    """``fn(acts)`` -> mean number of nonzero latents per token."""
    g = torch.Generator().manual_seed(3)
    acts = torch.relu(torch.randn(32, 20, generator=g) - 0.5) * 3  # [batch, d_sae], about 30 % nonzero
    want = l0_reference(acts)
    got = scalar(fn(acts), "l0")
    if close(got, want):
        return passed("l0")
    active = (acts > 0).float()
    hints = [
        (
            acts.sum(-1).mean(),
            "Count the nonzero latents ((acts > 0) or (acts != 0)), don't sum their "
            "values: that is the L1 norm.",
        ),
        (
            active.mean(),
            "Sum over the latents (dim -1) before averaging over tokens: L0 is a count per "
            "token, not a fraction of d_sae.",
        ),
        (active.sum(), "Average over the tokens: L0 is the mean count per token."),
        (
            active.sum(0).mean(),
            "Sum over the latents (dim -1) for each token, then average over the tokens (dim 0).",
        ),
    ]
    raise ExerciseError(
        first_match(got, hints) or f"Expected {float(want):.4f} latents per token, got {float(got):.4f}."
    )


def check_fvu(fn: Callable) -> None:
    """``fn(x, x_hat)`` -> sum of squared errors / sum of squared deviations from the batch mean."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(64, 8, generator=g) * 2 + torch.linspace(-3, 3, 8)  # [batch, d_in], nonzero mean per dim
    x_hat = x * 0.8 + 0.3 * torch.randn(64, 8, generator=g)  # [batch, d_in]
    want = fvu_reference(x, x_hat)
    got = scalar(fn(x, x_hat), "fvu")
    if close(got, want):
        return passed("fvu")
    err = (x - x_hat).pow(2)
    hints = [
        (
            err.sum() / x.pow(2).sum(),
            "Measure the variance around the batch mean, x - x.mean(0), not around "
            "0: otherwise a constant offset counts as 'explained' (SAELens fixed "
            "this bug in v6.45.1).",
        ),
        (
            err.sum() / (x - x.mean()).pow(2).sum(),
            "Subtract the mean of each dimension, x.mean(0) [d_in], "
            "not one number for the whole matrix (x.mean()).",
        ),
        (1 - want, "That is the explained variance; FVU = 1 - explained variance."),
        (
            (err.sum(-1) / (x - x.mean(0)).pow(2).sum(-1)).mean(),
            "Divide the total squared error by the total "
            "variance (two sums), not per token and then "
            "average.",
        ),
        (
            (err.sum(-1) / x.pow(2).sum(-1)).mean(),
            "That is the normalised MSE mean(||x - x_hat||^2 / "
            "||x||^2); FVU divides the summed error by the summed "
            "squared deviation from the mean.",
        ),
        (
            err.mean() / x.var(0).mean(),
            "torch.var divides by n - 1: use the sum of squared deviations, (x - x.mean(0)).pow(2).sum().",
        ),
        (
            err.sum() / (x - x_hat.mean(0)).pow(2).sum(),
            "Centre x on its own mean, x.mean(0), not on x_hat's.",
        ),
    ]
    raise ExerciseError(first_match(got, hints) or f"Expected FVU {float(want):.4f}, got {float(got):.4f}.")
