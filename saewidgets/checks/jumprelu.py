"""Checks for notebook 05 (JumpReLU): the Heaviside step and JumpReLU, each a ``torch.autograd.Function``.

The answer key is ``saewidgets.ste.Heaviside`` / ``saewidgets.ste.JumpReLUFn``. A check runs the learner's
class and the library's on the same random pre-activations z [batch, d_sae], thresholds theta [d_sae] and
upstream gradient, and compares the forward values, the gradient to z and the gradient to theta (the
straight-through pseudo-derivatives of Rajamanoharan et al. 2024b, §4). A few z sit exactly on theta, so
``>=`` versus ``>`` shows, and the bandwidth is wide enough that many z fall inside the kernel's window.

Exercise 3 builds the SAE from them: ``checks.jumprelu_sae``.
"""

from __future__ import annotations

import math

import torch

from ..ste import Heaviside, JumpReLUFn, rectangle
from ._core import ExerciseError, close, first_match, passed

__all__ = [
    "check_heaviside",
    "check_jumprelu",
    "heaviside_reference",
    "jumprelu_reference",
]

heaviside_reference = Heaviside
"""The library's Heaviside step H(z - theta) with the rectangle-kernel pseudo-derivative for theta."""
jumprelu_reference = JumpReLUFn
"""The library's JumpReLU_theta(z) = z * H(z - theta) with the pseudo-derivative for theta."""

EPS = 0.4  # wide, so that ~a third of the z land in the window |z - theta| < eps / 2
OTHER_EPS = 0.25  # a second bandwidth: a backward that ignores ctx.eps gives the same gradient at both


def _inputs(seed: int = 0, batch: int = 32, d_sae: int = 10):
    g = torch.Generator().manual_seed(seed)
    theta = 0.2 + torch.rand(d_sae, generator=g)  # [d_sae], in (0.2, 1.2): positive, as JumpReLU needs
    z = theta + 0.6 * torch.randn(batch, d_sae, generator=g)  # [batch, d_sae], centred on the thresholds
    z[0, :4] = theta[:4]  # ties: H(0) = 0 (a strict z > theta)
    grad = torch.randn(batch, d_sae, generator=g)  # [batch, d_sae] upstream gradient
    return z, theta, grad


def _run(fn, z, theta, grad, eps):
    """Forward value, z.grad, theta.grad of ``fn.apply(z, theta, eps)`` under the upstream ``grad``."""
    z, theta = z.clone().requires_grad_(True), theta.clone().requires_grad_(True)
    apply = getattr(fn, "apply", None)
    if apply is None:
        raise ExerciseError(
            f"Pass the class itself (a torch.autograd.Function subclass with static forward "
            f"and backward), not {type(fn).__name__}; the check calls "
            "YourClass.apply(z, theta, eps)."
        )
    out = apply(z, theta, eps)
    if not isinstance(out, torch.Tensor):
        raise ExerciseError(f"forward must return a tensor, got {type(out).__name__}.")
    if out.shape != z.shape:
        raise ExerciseError(
            f"forward should return z's shape {tuple(z.shape)} [batch, d_sae]; got {tuple(out.shape)}."
        )
    if out.requires_grad:
        try:
            (out * grad).sum().backward()
        except RuntimeError as e:
            if "invalid gradient" not in str(e):
                raise
            raise ExerciseError(
                f"backward returned a gradient autograd cannot use ({e}). Each gradient must "
                "broadcast to its input's shape (autograd then sums it down): z's is [batch, d_sae]; "
                "theta's is [d_sae], so return the per-token terms [batch, d_sae] or their sum over "
                "the batch (dim 0), e.g. g.sum(0) -- not a sum over the latents."
            ) from None
    return out.detach(), z.grad, theta.grad


def _zero_if_none(g, like):
    return torch.zeros_like(like) if g is None else g


def _check_value(name, got, want, hints):
    if got.dtype == torch.bool:
        raise ExerciseError(
            "forward returns a bool tensor: convert it to z's float dtype (.to(z.dtype)) so "
            "that it can carry a gradient and be multiplied."
        )
    if close(got, want):
        return
    hint = first_match(got, hints)
    raise ExerciseError(hint or f"{name}'s forward values differ from the reference.")


def _check_theta_grad(
    name, fn, got_theta, want_theta, z, theta, grad, scale, what, *, reference, missing, otherwise
):
    """Passes, or raises the most specific hint for theta's gradient (``scale``, ``what``: see
    ``_theta_hints``). ``fn`` is run again at another bandwidth to see whether it reads the eps passed in."""
    if got_theta is None:
        raise ExerciseError(missing)
    if got_theta.shape != theta.shape:
        raise ExerciseError(
            f"theta's gradient must have theta's shape {tuple(theta.shape)}; got {tuple(got_theta.shape)}."
        )
    if close(got_theta, want_theta, tol=1e-4):
        return passed(f"{name} (value and gradients)")
    hint = _theta_hints(got_theta, z, theta, grad, EPS, scale, what)
    if hint is None and bool(got_theta.abs().sum() > 0):
        # The same gradient at another bandwidth (where the reference's changes): a fixed number in backward.
        other = _run(fn, z, theta, grad, OTHER_EPS)[2]
        want_other = _run(reference, z, theta, grad, OTHER_EPS)[2]
        if other is not None and close(other, got_theta, tol=1e-6) and not close(want_other, want_theta):
            hint = (
                "theta's gradient does not change with the bandwidth passed in: backward must read the eps "
                "it was called with (forward stores it as ctx.eps), not a fixed number such as 0.001 or "
                "0.05. The check calls it with other bandwidths than the notebook's."
            )
    raise ExerciseError(hint or otherwise)


def _theta_hints(got_theta, z, theta, grad, eps, scale, what):
    """Typical mistakes in d/dtheta: ``scale`` is 1 (Heaviside) or theta (JumpReLU)."""
    u = (z - theta) / eps
    K = rectangle(u)
    right = -(scale / eps) * K * grad  # [batch, d_sae] per-token pseudo-gradient
    wide = ((u > -1) & (u < 1)).float()
    hints = [
        (
            -(scale * K * grad).sum(0),
            f"Divide by the bandwidth: d/dtheta {what} = -({_s(scale)}/eps) K((z - theta)/eps). The 1/eps makes "
            "the kernel a density estimate (it integrates to 1 over theta).",
        ),
        (
            -right.sum(0),
            "Wrong sign: raising theta switches latents *off*, so the pseudo-derivative is negative, "
            f"-({_s(scale)}/eps) K((z - theta)/eps).",
        ),
        (
            -(scale / eps) * (wide * grad).sum(0),
            "The rectangle kernel has width 1: K(u) = 1 for |u| < 1/2 (so the window is |z - theta| < eps/2), "
            "not |u| < 1.",
        ),
        (
            -(scale / eps) * (rectangle(z - theta) * grad).sum(0),
            "Scale the kernel's argument by the bandwidth: K((z - theta) / eps), not K(z - theta).",
        ),
        (
            right.mean(0),
            "Sum the per-token gradients over the batch, don't average them: theta's gradient is the sum of its "
            "uses (as autograd would do).",
        ),
        (
            right.sum().expand_as(theta),
            "Sum over the batch only (dim 0), keeping one gradient per latent, not over every entry.",
        ),
        (
            -(scale / eps) * K.sum(0),
            "Multiply by the incoming gradient (the chain rule): backward receives dL/dout, and theta's "
            "gradient is -(.../eps) K(...) * grad_output.",
        ),
        ((-(z / eps) * K * grad).sum(0), "Multiply by theta (the height of the jump at z = theta), not z."),
        *(
            (
                -(scale / eps) * (gauss * grad).sum(0),
                "That is a Gaussian kernel: the paper (§4) and saewidgets use the rectangle K(u) = 1 for "
                "|u| < 1/2, else 0 -- rectangle(u) in this notebook. With it a token counts only when it lies "
                "within eps/2 of theta, which is what makes the estimate exactly 0 on many batches below.",
            )
            for gauss in (
                torch.exp(-0.5 * u**2) / math.sqrt(2 * math.pi),  # the normal density
                torch.exp(-0.5 * u**2),  # unnormalised
                torch.exp(-(u**2)),
            )
        ),
        (
            (-(1 / eps) * K * grad).sum(0),
            "Scale by theta/eps, not 1/eps: at the threshold JumpReLU jumps from 0 to theta, so the kernel is "
            "spread over a jump of height theta (Heaviside's jump is 1).",
        ),
    ]
    return first_match(got_theta, hints, tol=1e-4)


def _s(scale) -> str:
    return "1" if isinstance(scale, (int, float)) else "theta"


def check_heaviside(fn) -> None:
    """``fn``: a torch.autograd.Function with ``forward(ctx, z, theta, eps)`` = 1[z > theta] (float) and a
    backward giving no gradient to z and -(1/eps) K((z - theta)/eps) * grad, summed over the batch, to
    theta."""
    z, theta, grad = _inputs(0)
    want, want_z, want_theta = _run(Heaviside, z, theta, grad, EPS)
    got, got_z, got_theta = _run(fn, z, theta, grad, EPS)
    _check_value(
        "Heaviside",
        got,
        want,
        [
            (
                (z >= theta).float(),
                "H(0) = 0 here: use a strict z > theta (a latent whose pre-activation equals its threshold does not "
                "fire).",
            ),
            ((z < theta).float(), "Flipped: H(z - theta) is 1 *above* the threshold."),
            (
                z * (z > theta),
                "That is JumpReLU (z * H(z - theta)); the Heaviside step returns 1[z > theta] itself.",
            ),
        ],
    )
    if got_z is not None and bool(got_z.abs().sum() > 0):
        raise ExerciseError(
            "No gradient to z through H: its true derivative is 0 almost everywhere and the "
            "paper applies the straight-through estimator to theta only. Return None for z "
            "in backward."
        )
    _check_theta_grad(
        "Heaviside",
        fn,
        got_theta,
        want_theta,
        z,
        theta,
        grad,
        1.0,
        "H",
        reference=Heaviside,
        missing="theta got no gradient: backward must return (grad_z, grad_theta, grad_eps) = (None, "
        "-(1/eps) K((z - theta)/eps) * grad_output summed over the batch, None).",
        otherwise="theta's gradient differs from -(1/eps) sum_batch K((z - theta)/eps) * grad_output "
        "with the rectangle K(u) = 1[-1/2 < u < 1/2].",
    )


def check_jumprelu(fn) -> None:
    """``fn``: a torch.autograd.Function with ``forward(ctx, z, theta, eps)`` = z * 1[z > theta] and a
    backward giving 1[z > theta] * grad to z and -(theta/eps) K((z - theta)/eps) * grad, summed over the
    batch, to theta."""
    z, theta, grad = _inputs(1)
    want, want_z, want_theta = _run(JumpReLUFn, z, theta, grad, EPS)
    got, got_z, got_theta = _run(fn, z, theta, grad, EPS)
    _check_value(
        "JumpReLU",
        got,
        want,
        [
            (
                torch.relu(z),
                "Zero everything up to the threshold theta, not up to 0: JumpReLU_theta(z) = z * H(z - theta).",
            ),
            (
                (z > theta).float(),
                "Multiply by z: JumpReLU returns z where it fires, H(z - theta) alone is the step.",
            ),
            (z * (z >= theta), "H(0) = 0 here: use a strict z > theta."),
            (
                torch.relu(z - theta),
                "That is a shifted ReLU (z - theta)_+: JumpReLU keeps z itself above theta, which is why it has a "
                "jump of height theta there.",
            ),
        ],
    )
    got_z = _zero_if_none(got_z, z)
    if not close(got_z, want_z):
        H = (z > theta).float()
        hint = first_match(
            got_z,
            [
                (
                    torch.zeros_like(z),
                    "z needs its ordinary gradient where the latent fires: d/dz JumpReLU = 1[z > theta], so grad_z "
                    "= 1[z > theta] * grad_output (only theta uses the estimator).",
                ),
                (
                    grad,
                    "Pass grad_output to z only where z > theta: below the threshold the output is 0 whatever z "
                    "is.",
                ),
                (H, "Multiply by the incoming gradient: grad_z = 1[z > theta] * grad_output."),
                ((z > 0).float() * grad, "Gate z's gradient by z > theta, not z > 0."),
                (
                    z * H * grad,
                    "d/dz (z * 1[z > theta]) = 1[z > theta] away from the jump: don't multiply by z.",
                ),
            ],
        )
        raise ExerciseError(hint or "z's gradient should be 1[z > theta] * grad_output.")
    _check_theta_grad(
        "JumpReLU",
        fn,
        got_theta,
        want_theta,
        z,
        theta,
        grad,
        theta,
        "JumpReLU",
        reference=JumpReLUFn,
        missing="theta got no gradient: backward must return (grad_z, grad_theta, None) with grad_theta = "
        "-(theta/eps) K((z - theta)/eps) * grad_output summed over the batch.",
        otherwise="theta's gradient differs from -(theta/eps) sum_batch K((z - theta)/eps) * "
        "grad_output with the rectangle K(u) = 1[-1/2 < u < 1/2].",
    )
